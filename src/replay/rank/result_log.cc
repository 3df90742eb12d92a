#include "replay/rank/result_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "common/mutex.h"

namespace ddrr::replay {
namespace {

size_t KindIndex(const std::string& kind) {
  static const char* const kKinds[] = {"mismatch", "diverged", "unresolved", "hung",
                                       "summary",  "error",    "skipped"};
  for (size_t i = 0; i < std::size(kKinds); ++i)
    if (kind == kKinds[i]) return i;
  return 7;
}

}  // namespace

ResultLog::ResultLog(const std::string& path) {
  fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
}

ResultLog::~ResultLog() {
  if (fd_ >= 0) close(fd_);
}

void ResultLog::Write(const std::string& kind, const std::string& text, uint64_t limit) {
  if (fd_ < 0) return;
  MutexLock lock(&mu_);
  if (written_[KindIndex(kind)]++ >= limit) return;
  const std::string line = kind + " " + text + "\n";
  [[maybe_unused]] ssize_t n = write(fd_, line.data(), line.size());
}

}  // namespace ddrr::replay
