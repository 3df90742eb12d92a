#include "launch/installed.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/params.h"

namespace ddrr::launch {
namespace {

// One file ddrr looks for. `variable` names where it is (a directory holding `must_hold`, or the
// file itself when `must_hold` is empty); by default that is `beside_exe`, a path from the
// directory of the running executable.
struct Installed {
  param::Id variable;
  std::string_view beside_exe;
  const char* must_hold;
  const char* what;  // for messages
};

// `relative` taken from the running executable's directory, with its directories resolved (the
// last component is kept as named).
std::string BesideExecutable(const char* argv0, std::string_view relative) {
  std::string dir;
  char exe[PATH_MAX];
  ssize_t length = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (length > 0) {
    dir.assign(exe, static_cast<size_t>(length));
  } else if (argv0 != nullptr) {
    dir = argv0;
  }
  size_t slash = dir.rfind('/');
  dir = slash == std::string::npos ? "." : dir.substr(0, slash);
  slash = relative.rfind('/');
  if (slash != std::string_view::npos) dir.append("/").append(relative.substr(0, slash));
  char resolved[PATH_MAX];
  if (realpath(dir.c_str(), resolved) != nullptr) dir = resolved;
  return dir.append("/").append(relative.substr(slash + 1));  // npos + 1 == 0: all of it
}

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

StatusOr<std::string> Find(const Installed& file, const char* argv0) {
  const char* value = param::Raw(file.variable);
  const bool from_env = value != nullptr;
  const std::string where = from_env ? value : BesideExecutable(argv0, file.beside_exe);
  std::string path = where;
  if (*file.must_hold != '\0') path.append("/").append(file.must_hold);
  if (Exists(path)) return where;
  if (from_env) {
    return Status::NotFound(std::string(param::Name(file.variable)) + "=" + where + " holds no " +
                            file.what);
  }
  return Status::NotFound(std::string("no ") + file.what + " in " + where + "; set " +
                          param::Name(file.variable));
}

}  // namespace

StatusOr<std::string> FindHostRuntimeDir(const char* argv0) {
  return Find(
      {param::kHostrtDir, "../lib/hostrt", "libcudart.so.13", "host runtime (libcudart.so.13)"},
      argv0);
}

StatusOr<std::string> FindEmuNcclDir(const char* argv0) {
  return Find({param::kEmuDir, "../lib/emu", "libnccl.so.2", "emu libnccl.so.2"}, argv0);
}

StatusOr<std::string> FindGpushareLibrary(const char* argv0) {
  return Find({param::kGpushareLib, "../lib/libddrr_gpushare.so", "", "libddrr_gpushare.so"},
              argv0);
}

StatusOr<std::string> FindRecorderLibrary(const char* argv0) {
  return Find({param::kLib, "../lib/libddrr.so", "", "libddrr.so"}, argv0);
}

StatusOr<std::string> FindReplayDriver(const char* argv0) {
  return Find({param::kReplayDriver, "ddrr-replay-rank", "", "ddrr-replay-rank"}, argv0);
}

}  // namespace ddrr::launch
