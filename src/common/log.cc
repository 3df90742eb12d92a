#include "common/log.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "common/debug_env.h"
#include "common/mutex.h"
#include "common/params.h"

namespace ddrr::log {

int g_level = -1;
uint64_t g_subsys = kAll;

namespace {

std::once_flag g_init_once;
FILE* g_out = nullptr;

constexpr SubsysName kSubsysNames[] = {
    {"INIT", kInit},     {"TRACE", kTraceIo}, {"RECORD", kRecord},     {"EMU", kEmu},
    {"HOSTRT", kHostRt}, {"REPLAY", kReplay}, {"ANALYSIS", kAnalysis}, {"ALL", kAll},
};

void InitOnce() {
  // The choices of DDRR_DEBUG are the Level values in order. Not param::Choice: its warning
  // would log before the log is set up.
  StatusOr<int> level = param::CheckedChoice(param::kDebug);
  if (const char* v = param::Raw(param::kDebugSubsys))
    g_subsys = ParseSubsys(v, kSubsysNames, sizeof(kSubsysNames) / sizeof(kSubsysNames[0]));
  g_out = stderr;
  if (const char* v = param::Raw(param::kDebugFile)) {
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    if (FILE* f = fopen(ExpandPath(v, host).c_str(), "a")) g_out = f;
  }
  if (g_level < 0) g_level = level.ok() ? *level : kWarn;
  if (!level.ok()) DDRR_WARN("%s; using WARN", level.status().message().c_str());
}

}  // namespace

void Init() { std::call_once(g_init_once, InitOnce); }

int ParseLevel(const char* name, int fallback) {
  static const struct {
    const char* name;
    Level level;
  } kLevels[] = {
      {"NONE", kNone}, {"VERSION", kVersion}, {"WARN", kWarn}, {"INFO", kInfo}, {"TRACE", kTrace}};
  for (const auto& l : kLevels)
    if (strcasecmp(name, l.name) == 0) return l.level;
  return fallback;
}

uint64_t ParseSubsys(const char* spec, const SubsysName* names, size_t count) {
  const bool invert = spec[0] == '^';
  if (invert) ++spec;
  uint64_t mask = 0;
  const std::string s(spec);
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    const std::string tok = s.substr(pos, comma - pos);
    for (size_t i = 0; i < count; ++i)
      if (strcasecmp(tok.c_str(), names[i].name) == 0) mask |= names[i].bit;
    pos = comma + 1;
  }
  return invert ? ~mask : mask;
}

std::string ExpandPath(const char* pattern, const char* host) {
  std::string out;
  for (const char* p = pattern; *p; ++p) {
    if (p[0] == '%' && p[1] == 'h') {
      out += host;
      ++p;
    } else if (p[0] == '%' && p[1] == 'p') {
      out += std::to_string(getpid());
      ++p;
    } else {
      out += *p;
    }
  }
  return out;
}

bool FirstTime(std::string_view key) {
  static Mutex* mu = new Mutex();  // leaked: warnings may come from atexit handlers
  static std::set<std::string, std::less<>>* seen PT_GUARDED_BY(*mu) =
      new std::set<std::string, std::less<>>();
  MutexLock lock(mu);
  return seen->emplace(key).second;
}

void SetLevel(Level level) {
  Init();
  g_level = level;
}

void Write(Level level, uint64_t subsys, const char* file, int line, const char* fmt, ...) {
  char host[64] = {0};
  gethostname(host, sizeof(host) - 1);
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  const char* kind = level == kWarn ? "WARN" : level == kInfo ? "INFO" : "TRACE";
  const char* base = strrchr(file, '/');
  base = base ? base + 1 : file;
  if (level == kWarn) {
    fprintf(g_out ? g_out : stderr, "%s:%d ddrr %s %s\n", host, getpid(), kind, msg);
  } else {
    fprintf(g_out ? g_out : stderr, "%s:%d ddrr %s %s:%d %s\n", host, getpid(), kind, base, line,
            msg);
  }
  fflush(g_out ? g_out : stderr);
}

}  // namespace ddrr::log
