#include "record/spool.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/crc32c.h"
#include "common/file_size_guard.h"
#include "common/log.h"

namespace ddrr::record {
namespace {

constexpr uint64_t kPage = 4096;
uint64_t PageUp(uint64_t n) { return (n + kPage - 1) & ~(kPage - 1); }

Status Bad(const std::string& path, const std::string& why) {
  return Status::Corruption("spool " + path + ": " + why);
}

}  // namespace

void AppendLock::Yield() { sched_yield(); }

Spool::Spool(std::string path, void* base, size_t size, int lock_fd)
    : path_(std::move(path)),
      base_(base),
      size_(size),
      header_(static_cast<SpoolHeader*>(base)),
      lock_fd_(lock_fd) {
  ring_ = static_cast<uint8_t*>(base) + header_->ring_offset;
  capacity_ = header_->ring_capacity;
}

Spool::~Spool() {
  ::munmap(base_, size_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock: the spool may be salvaged now
}

bool SpoolIsLive(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool live = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // also drops our lock if we got it
  return live;
}

std::string_view Spool::preamble() const {
  return {static_cast<const char*>(base_) + header_->preamble_offset, header_->preamble_len};
}

StatusOr<std::unique_ptr<Spool>> Spool::Create(const std::string& path, uint32_t rank,
                                               uint64_t ring_bytes, std::string_view preamble) {
  const uint64_t capacity = ring_bytes & ~(kSpoolAlign - 1);
  if (capacity < kMinRingBytes || capacity > kMaxRingBytes) {
    return Status::InvalidArgument("spool size " + std::to_string(ring_bytes) + " out of range");
  }
  if (preamble.size() > kMaxPreambleBytes) return Status::InvalidArgument("header too large");
  const uint64_t preamble_offset = kSpoolHeaderSize;
  const uint64_t ring_offset = PageUp(preamble_offset + preamble.size());
  const uint64_t size = ring_offset + capacity;

  // Lock before truncating: two live processes that claim one rank (a launcher without rank
  // variables taken for rank 0, say) must not clobber each other's spool and rank file.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create spool " + path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Status::Unavailable(path +
                               " is being recorded by another live process (two "
                               "processes claim rank " +
                               std::to_string(rank) + "; set RANK)");
  }
  if (::ftruncate(fd, 0) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::FromErrno("truncate spool " + path, e);
  }
  // Allocate the blocks now: a store into a sparse mapping on a full disk raises SIGBUS in the
  // job, which the recorder must never cause.
  // Runs on a job thread: past RLIMIT_FSIZE this must fail (EFBIG), not kill the job.
  FileSizeSignalGuard guard;
  int err = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
  if (err == EOPNOTSUPP || err == EINVAL) {
    DDRR_WARN("spool %s: cannot preallocate (%s); a full disk could fault the job", path.c_str(),
              strerror(err));
    err = ::ftruncate(fd, static_cast<off_t>(size)) == 0 ? 0 : errno;
  }
  if (err == EFBIG) guard.Consume();
  if (err != 0) {
    ::close(fd);
    ::unlink(path.c_str());
    return Status::FromErrno("allocate spool " + path, err);
  }
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  err = errno;
  if (base == MAP_FAILED) {
    ::close(fd);
    ::unlink(path.c_str());
    return Status::FromErrno("map spool " + path, err);
  }
  // Write every page once now: the first store into a page of a shared file mapping faults
  // (~2 us), and taking those faults here, not in the job's calls, is what keeps the p99 of an
  // intercepted call near its median (docs/PERFORMANCE.md).
  for (size_t off = 0; off < size; off += 4096) static_cast<volatile uint8_t*>(base)[off] = 0;
  auto* h = static_cast<SpoolHeader*>(base);  // the file is zero-filled: atomics start at 0
  h->version = kSpoolVersion;
  h->header_size = kSpoolHeaderSize;
  h->rank = rank;
  h->preamble_len = static_cast<uint32_t>(preamble.size());
  h->preamble_crc = Crc32c(preamble.data(), preamble.size());
  h->writer_pid = static_cast<uint32_t>(::getpid());
  h->preamble_offset = preamble_offset;
  h->ring_offset = ring_offset;
  h->ring_capacity = capacity;
  h->next_seq.store(1, std::memory_order_relaxed);
  std::memcpy(static_cast<uint8_t*>(base) + preamble_offset, preamble.data(), preamble.size());
  std::atomic_thread_fence(std::memory_order_release);
  std::memcpy(h->magic, kSpoolMagic, 8);  // last: a spool without magic was never started
  // The lock taken above is held until the writer ends (the kernel drops it when the process
  // dies): a reader that cannot take it knows the spool is live and leaves it alone.
  return std::unique_ptr<Spool>(new Spool(path, base, size, fd));
}

StatusOr<std::unique_ptr<Spool>> Spool::OpenReadOnly(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("spool " + path + ": no such file");
    return Status::FromErrno("open spool " + path, errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::FromErrno("stat spool " + path, err);
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < kSpoolHeaderSize) {
    ::close(fd);
    return Bad(path, "file of " + std::to_string(size) + " bytes is too short for a header");
  }
  void* base = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  const int err = errno;
  ::close(fd);
  if (base == MAP_FAILED) return Status::FromErrno("map spool " + path, err);
  const auto* h = static_cast<const SpoolHeader*>(base);
  auto fail = [&](const std::string& why) {
    ::munmap(base, size);
    return Bad(path, why);
  };
  if (std::memcmp(h->magic, kSpoolMagic, 8) != 0) return fail("bad magic (not a ddrr spool)");
  if (h->version > kSpoolVersion) {
    ::munmap(base, size);
    return Status::UnsupportedVersion("spool " + path + ": version " + std::to_string(h->version) +
                                      "; use a newer ddrr");
  }
  if (h->version == 0 || h->header_size != kSpoolHeaderSize) return fail("bad header size");
  if (h->preamble_offset < kSpoolHeaderSize || h->preamble_len > kMaxPreambleBytes ||
      h->preamble_offset + h->preamble_len > size) {
    return fail("preamble out of bounds");
  }
  const uint64_t cap = h->ring_capacity;
  if (cap < kMinRingBytes || cap > kMaxRingBytes || cap % kSpoolAlign != 0 ||
      h->ring_offset < h->preamble_offset + h->preamble_len || h->ring_offset + cap > size) {
    return fail("ring out of bounds");
  }
  const auto* pre = static_cast<const uint8_t*>(base) + h->preamble_offset;
  if (Crc32c(pre, h->preamble_len) != h->preamble_crc) return fail("preamble checksum mismatch");
  const uint64_t head = h->head.load(), tail = h->tail.load();
  if (tail > head || head - tail > cap || tail % kSpoolAlign != 0) {
    return fail("ring positions out of range (tail " + std::to_string(tail) + ", head " +
                std::to_string(head) + ")");
  }
  return std::unique_ptr<Spool>(new Spool(path, base, size));
}

RecordHeader* Spool::ReserveLocked(uint32_t label_len, uint32_t body_len, bool is_event,
                                   uint64_t* used) {
  const uint64_t need = RecordBytes(label_len, body_len);
  const uint64_t head = header_->head.load(std::memory_order_relaxed);
  const uint64_t off = head % capacity_;
  const uint64_t pad = off + need > capacity_ ? capacity_ - off : 0;
  const uint64_t tail = header_->tail.load(std::memory_order_acquire);
  if (need > capacity_ / 2 || head + pad + need - tail > capacity_) {
    if (is_event) header_->dropped.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  if (pad) {
    auto* p = reinterpret_cast<RecordHeader*>(RingAt(head));
    p->len = static_cast<uint32_t>(pad);
    p->state.store(kPadding, std::memory_order_relaxed);
  }
  auto* rec = reinterpret_cast<RecordHeader*>(RingAt(head + pad));
  rec->len = static_cast<uint32_t>(need);
  rec->state.store(kReserved, std::memory_order_relaxed);
  rec->seq = is_event ? header_->next_seq.fetch_add(1, std::memory_order_relaxed) : 0;
  // Release: the sealer that sees the new head also sees the lengths and states above.
  header_->head.store(head + pad + need, std::memory_order_release);
  if (used) *used = head + pad + need - tail;
  return rec;
}

Spool::Slot Spool::At(uint64_t pos, const RecordHeader** out, uint64_t* next) const {
  const uint64_t off = pos % capacity_;
  const auto* rec = reinterpret_cast<const RecordHeader*>(RingAt(pos));
  const uint32_t state = rec->state.load(std::memory_order_acquire);
  const uint64_t len = rec->len;
  if (state == kPadding) {
    if (len != capacity_ - off) return Slot::kMalformed;
    *next = pos + len;
    return Slot::kPadding;
  }
  if (len < sizeof(RecordHeader) || len % kSpoolAlign != 0 || off + len > capacity_) {
    return Slot::kMalformed;
  }
  *next = pos + len;
  if (state == kReserved) return Slot::kNotCommitted;
  if (state != kCommitted) return Slot::kMalformed;
  if (RecordBytes(rec->label_len, rec->body_len) > len) return Slot::kMalformed;
  *out = rec;
  return Slot::kRecord;
}

}  // namespace ddrr::record
