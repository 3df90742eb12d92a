#include "gpushare/device_map.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "common/params.h"

namespace ddrr::gpushare {
namespace {

// The domain field of "DDDD:BB:dd.f": everything before the first of exactly two colons.
bool SplitDomain(std::string_view id, unsigned long* domain, std::string_view* rest) {
  size_t colon = id.find(':');
  if (colon == 0 || colon == std::string_view::npos || id.find(':', colon + 1) == id.npos) {
    return false;
  }
  std::string field(id.substr(0, colon));
  if (field.size() > 8) return false;
  char* end = nullptr;
  errno = 0;
  *domain = strtoul(field.c_str(), &end, 16);
  if (errno != 0 || *end != '\0' || field[0] == '-' || field[0] == '+') return false;
  *rest = id.substr(colon);
  return true;
}

std::string WithDomain(unsigned long domain, std::string_view rest) {
  char text[16];
  snprintf(text, sizeof(text), "%04lx", domain);
  return text + std::string(rest);
}

}  // namespace

StatusOr<int> ParseRanksPerGpu(const char* text) {
  if (text == nullptr) {
    return Status::InvalidArgument("DDRR_RANKS_PER_GPU=(unset) is not a number of ranks in [1, " +
                                   std::to_string(kMaxRanksPerGpu) + "]");
  }
  StatusOr<int64_t> k = param::ParseInt(param::kRanksPerGpu, text);
  if (!k.ok()) return k.status();
  return static_cast<int>(*k);
}

std::string VirtualBusId(std::string_view real_id, int slot) {
  unsigned long domain = 0;
  std::string_view rest;
  if (slot <= 0 || !SplitDomain(real_id, &domain, &rest)) return std::string(real_id);
  return WithDomain(domain + static_cast<unsigned long>(slot) * kSlotDomainStride, rest);
}

SplitBusId SplitVirtualBusId(std::string_view id) {
  unsigned long domain = 0;
  std::string_view rest;
  if (!SplitDomain(id, &domain, &rest) || domain < kSlotDomainStride) {
    return {std::string(id), 0};
  }
  return {WithDomain(domain % kSlotDomainStride, rest),
          static_cast<int>(domain / kSlotDomainStride)};
}

void ApplySlotToUuid(char (&bytes)[16], int slot) {
  bytes[14] = static_cast<char>(bytes[14] ^ ((slot >> 8) & 0xff));
  bytes[15] = static_cast<char>(bytes[15] ^ (slot & 0xff));
}

}  // namespace ddrr::gpushare
