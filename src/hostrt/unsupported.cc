// Every other entry point of NVIDIA's libcudart.so.13, so that any binary built against the real
// toolkit loads and links (also with LD_BIND_NOW). Each one warns once and returns
// cudaErrorNotSupported.
//
// The definitions take no parameters: under the x86-64 SysV ABI a callee may ignore its
// arguments, and every function listed returns cudaError_t (an int) or void. Functions that
// return anything else (cudaGetErrorName, cudaCreateChannelDesc, ...) are implemented for real
// elsewhere. This file therefore must not include the CUDA headers.
#include "hostrt/unsupported.h"

#define DDRR_UNSUPPORTED(name) \
  extern "C" int name() { return ddrr::hostrt::ReportUnsupportedEntryPoint(#name); }
#include "hostrt/unsupported_entry_points.inc"
#undef DDRR_UNSUPPORTED
