// NCCL-style logging. DDRR_DEBUG=WARN|INFO|TRACE picks the level (default: WARN),
// DDRR_DEBUG_SUBSYS=INIT,TRACE,... (or ^X to exclude) the subsystems, DDRR_DEBUG_FILE a file
// (%h host, %p pid). Level and mask are checked before any formatting, so disabled calls cost
// one load and a branch. Safe inside the interposer: no iostreams, no allocation on the
// disabled path, never throws.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace ddrr::log {

enum Level : int { kNone = 0, kVersion = 1, kWarn = 2, kInfo = 3, kTrace = 4 };

enum Subsys : uint64_t {
  kInit = 1ull << 0,
  kTraceIo = 1ull << 1,  // trace file reading/writing
  kRecord = 1ull << 2,   // interposer / recorder
  kEmu = 1ull << 3,
  kHostRt = 1ull << 4,
  kReplay = 1ull << 5,
  kAnalysis = 1ull << 6,
  kAll = ~0ull,
};

extern int g_level;  // -1 until initialised from the environment
extern uint64_t g_subsys;

void Init();  // idempotent; reads DDRR_DEBUG*
inline bool Enabled(Level level, uint64_t subsys) {
  if (g_level < 0) Init();
  return level <= g_level && (subsys & g_subsys) != 0;
}
void Write(Level level, uint64_t subsys, const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 5, 6)));

// Tests and the CLI can override the environment.
void SetLevel(Level level);

// True the first time `key` is seen in this process: one warning per unsupported function.
bool FirstTime(std::string_view key);

}  // namespace ddrr::log

#define DDRR_LOG_(lvl, subsys, ...)                                     \
  do {                                                                  \
    if (::ddrr::log::Enabled(lvl, subsys))                              \
      ::ddrr::log::Write(lvl, subsys, __FILE__, __LINE__, __VA_ARGS__); \
  } while (0)

#define DDRR_WARN(...) DDRR_LOG_(::ddrr::log::kWarn, ::ddrr::log::kAll, __VA_ARGS__)
// The first time this line is reached, of the whole process: what stays true once is said once.
#define DDRR_WARN_ONCE(...)                                                              \
  do {                                                                                   \
    static std::atomic<bool> ddrr_warned_{false};                                        \
    if (!ddrr_warned_.exchange(true, std::memory_order_relaxed)) DDRR_WARN(__VA_ARGS__); \
  } while (0)
// The first time `key` is seen anywhere in the process.
#define DDRR_WARN_ONCE_PER(key, ...)                         \
  do {                                                       \
    if (::ddrr::log::FirstTime(key)) DDRR_WARN(__VA_ARGS__); \
  } while (0)
#define DDRR_INFO(subsys, ...) DDRR_LOG_(::ddrr::log::kInfo, subsys, __VA_ARGS__)
#define DDRR_TRACE(subsys, ...) DDRR_LOG_(::ddrr::log::kTrace, subsys, __VA_ARGS__)
