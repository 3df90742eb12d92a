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

// Paths from the directory of an installed ddrr (bin/) to the library directory, ddrr's own
// library directory (lib/ddrr) and its helper programs' (libexec/ddrr), as the install rules lay
// them out (cmake/DdrrInstall.cmake defines them).
constexpr std::string_view kInstalledLib = DDRR_INSTALL_LIB_FROM_BIN;
constexpr std::string_view kInstalledPrivateLib = DDRR_INSTALL_PRIVATE_LIB_FROM_BIN;
constexpr std::string_view kInstalledPrivateLibexec = DDRR_INSTALL_PRIVATE_LIBEXEC_FROM_BIN;

// One file ddrr looks for. `variable` names where it is (a directory holding `must_hold`, or the
// file itself when `must_hold` is empty); by default that is `installed` (an install prefix's
// layout) or else `built` (the build tree's): `<dir>/<path>` from the directory of the running
// executable.
struct Installed {
  param::Id variable;
  std::string_view installed_dir, installed_path;
  std::string_view built;
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

bool Holds(const std::string& where, const Installed& file) {
  return Exists(*file.must_hold == '\0' ? where : where + "/" + file.must_hold);
}

StatusOr<std::string> Find(const Installed& file, const char* argv0) {
  if (const char* value = param::Raw(file.variable)) {
    if (Holds(value, file)) return std::string(value);
    return Status::NotFound(std::string(param::Name(file.variable)) + "=" + value + " holds no " +
                            file.what);
  }
  std::string installed(file.installed_dir);
  if (!file.installed_path.empty()) installed.append("/").append(file.installed_path);
  const std::string candidates[] = {BesideExecutable(argv0, installed),
                                    BesideExecutable(argv0, file.built)};
  for (const std::string& where : candidates) {
    if (Holds(where, file)) return where;
  }
  std::string looked = candidates[0];
  if (candidates[1] != candidates[0]) looked.append(" or ").append(candidates[1]);
  return Status::NotFound(std::string("no ") + file.what + " in " + looked + "; set " +
                          param::Name(file.variable));
}

}  // namespace

StatusOr<std::string> FindHostRuntimeDir(const char* argv0) {
  return Find({param::kHostrtDir, kInstalledPrivateLib, "hostrt", "../lib/hostrt",
               "libcudart.so.13", "host runtime (libcudart.so.13)"},
              argv0);
}

StatusOr<std::string> FindEmuNcclDir(const char* argv0) {
  return Find({param::kEmuDir, kInstalledPrivateLib, "emu", "../lib/emu", "libnccl.so.2",
               "emu libnccl.so.2"},
              argv0);
}

StatusOr<std::string> FindGpushareLibrary(const char* argv0) {
  return Find({param::kGpushareLib, kInstalledLib, "libddrr_gpushare.so",
               "../lib/libddrr_gpushare.so", "", "libddrr_gpushare.so"},
              argv0);
}

StatusOr<std::string> FindRecorderLibrary(const char* argv0) {
  return Find({param::kLib, kInstalledLib, "libddrr.so", "../lib/libddrr.so", "", "libddrr.so"},
              argv0);
}

StatusOr<std::string> FindReplayDriver(const char* argv0) {
  return Find({param::kReplayDriver, kInstalledPrivateLibexec, "ddrr-replay-rank",
               "ddrr-replay-rank", "", "ddrr-replay-rank"},
              argv0);
}

}  // namespace ddrr::launch
