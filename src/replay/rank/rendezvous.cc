#include "replay/rank/rendezvous.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "replay/hang.h"

namespace ddrr::replay {
namespace {

Status WriteFile(const std::string& path, const void* data, size_t bytes) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(path, errno);
  const ssize_t n = write(fd, data, bytes);
  const int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(bytes)) return Status::FromErrno(path, n < 0 ? err : EIO);
  return Status::Ok();
}

}  // namespace

StatusOr<std::vector<ncclUniqueId>> Rendezvous::Read(const std::string& path, int count) const {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(path, errno);
  std::vector<ncclUniqueId> ids(static_cast<size_t>(count));
  const size_t bytes = sizeof(ncclUniqueId) * ids.size();
  const ssize_t n = read(fd, ids.data(), bytes);
  close(fd);
  if (n != static_cast<ssize_t>(bytes)) return Status::Corruption(path + ": short unique-id file");
  return ids;
}

StatusOr<std::vector<ncclUniqueId>> Rendezvous::Ids(const std::string& name, int count,
                                                    bool creator) {
  const std::string path = dir_ + "/id-" + name;
  if (creator) {
    std::vector<ncclUniqueId> ids(static_cast<size_t>(count));
    for (auto& id : ids) {
      const ncclResult_t r = ncclGetUniqueId(&id);
      if (r != ncclSuccess)
        return Status::Unavailable("ncclGetUniqueId failed: " + std::string(ncclGetErrorString(r)));
    }
    // Written aside, then linked into place: readers never see a partial file, and link() fails
    // if a second creator published first.
    const std::string tmp = path + ".tmp" + std::to_string(getpid());
    DDRR_RETURN_IF_ERROR(WriteFile(tmp, ids.data(), sizeof(ncclUniqueId) * ids.size()));
    const int rc = link(tmp.c_str(), path.c_str());
    const int err = errno;
    unlink(tmp.c_str());
    if (rc == 0) return ids;
    if (err != EEXIST) return Status::FromErrno(path, err);
    return Read(path, count);
  }
  const auto deadline = DeadlineAfter(timeout_seconds_);
  auto pause = std::chrono::microseconds(50);
  for (;;) {
    struct stat st;
    if (stat(path.c_str(), &st) == 0) return Read(path, count);
    if (std::chrono::steady_clock::now() >= deadline)
      return Status::Unavailable("no member created communicator " + name + " within " +
                                 std::to_string(static_cast<int>(timeout_seconds_)) + " s");
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
}

}  // namespace ddrr::replay
