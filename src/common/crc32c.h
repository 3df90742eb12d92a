// CRC-32C (Castagnoli), the checksum of every trace frame, header and footer.
// Chosen over zstd's content checksum because it covers the compressed bytes, so damage is
// found before decompression and the exact frame is named.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ddrr {

uint32_t Crc32c(const void* data, size_t size, uint32_t crc = 0);

}  // namespace ddrr
