// NCCL's conventions for its debug variables, shared by ddrr's own log (DDRR_DEBUG*, log.h) and
// emu's NCCL-format log (NCCL_DEBUG*, emu/nccl_debug_log.h): a level name, a subsystem list and
// a file pattern.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ddrr::log {

struct SubsysName {
  const char* name;
  uint64_t bit;
};

// NONE 0, VERSION 1, WARN 2, INFO 3, TRACE 4 (log::Level); another name: `fallback`.
int ParseLevel(const char* name, int fallback);
// "INIT,COLL" -> the bits of those names; "^X" excludes (every bit but X's).
uint64_t ParseSubsys(const char* spec, const SubsysName* names, size_t count);
// The file name `pattern` gives: %h `host`, %p the pid.
std::string ExpandPath(const char* pattern, const char* host);

}  // namespace ddrr::log
