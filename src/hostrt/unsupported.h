// For unsupported.cc, which must not see the CUDA headers (it defines every unimplemented entry
// point with a placeholder signature).
#pragma once

namespace ddrr::hostrt {

// Warns once per name and returns cudaErrorNotSupported as an int.
int ReportUnsupportedEntryPoint(const char* name);

}  // namespace ddrr::hostrt
