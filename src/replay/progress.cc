#include "replay/progress.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "common/enum_names.h"

namespace ddrr::replay {
namespace {

constexpr uint64_t kMagic = 0x6464727270726f67ull;  // "ddrrprog"

struct TableHeader {
  uint64_t magic;
  uint64_t slots;
};

size_t TableBytes(int slots) { return sizeof(TableHeader) + sizeof(RankSlot) * slots; }

}  // namespace

const char* RankStateName(RankState state) {
  static constexpr const char* kNames[] = {"starting",
                                           "replaying",
                                           "in a call",
                                           "at the end of its recording",
                                           "stopped after a hung call",
                                           "finished"};
  static_assert(std::size(kNames) == static_cast<size_t>(RankState::kFinished) + 1);
  return NameIn(kNames, state, "unknown");
}

int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

ProgressTable::ProgressTable(void* mapping, size_t bytes, int slots)
    : mapping_(mapping),
      bytes_(bytes),
      slots_(slots),
      slot_(reinterpret_cast<RankSlot*>(static_cast<char*>(mapping) + sizeof(TableHeader))) {}

ProgressTable::ProgressTable(ProgressTable&& other) noexcept { *this = std::move(other); }

ProgressTable& ProgressTable::operator=(ProgressTable&& other) noexcept {
  if (this != &other) {
    if (mapping_) munmap(mapping_, bytes_);
    mapping_ = other.mapping_;
    bytes_ = other.bytes_;
    slots_ = other.slots_;
    slot_ = other.slot_;
    other.mapping_ = nullptr;
    other.slot_ = nullptr;
  }
  return *this;
}

ProgressTable::~ProgressTable() {
  if (mapping_) munmap(mapping_, bytes_);
}

StatusOr<ProgressTable> ProgressTable::Create(const std::string& path, int slots) {
  if (slots < 1) return Status::InvalidArgument("a progress table needs at least one slot");
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(path, errno);
  const size_t bytes = TableBytes(slots);
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    const int err = errno;
    close(fd);
    return Status::FromErrno(path, err);
  }
  void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int err = errno;
  close(fd);
  if (m == MAP_FAILED) return Status::FromErrno(path, err);
  auto* header = static_cast<TableHeader*>(m);
  header->slots = static_cast<uint64_t>(slots);
  ProgressTable table(m, bytes, slots);
  for (int i = 0; i < slots; ++i) table.slot(i).rank.store(-1);
  header->magic = kMagic;
  return table;
}

StatusOr<ProgressTable> ProgressTable::Open(const std::string& path) {
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0 || static_cast<size_t>(st.st_size) < sizeof(TableHeader)) {
    close(fd);
    return Status::InvalidArgument(path + ": not a replay progress table");
  }
  const size_t bytes = static_cast<size_t>(st.st_size);
  void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int err = errno;
  close(fd);
  if (m == MAP_FAILED) return Status::FromErrno(path, err);
  const auto* header = static_cast<const TableHeader*>(m);
  if (header->magic != kMagic || TableBytes(static_cast<int>(header->slots)) != bytes) {
    munmap(m, bytes);
    return Status::InvalidArgument(path + ": not a replay progress table");
  }
  return ProgressTable(m, bytes, static_cast<int>(header->slots));
}

void ProgressWriter::State(RankState state) {
  if (!slot_) return;
  slot_->state.store(static_cast<uint32_t>(state), std::memory_order_relaxed);
  slot_->changed_ns.store(MonotonicNs(), std::memory_order_release);
}

void ProgressWriter::Enter(uint32_t fn, uint64_t seq, uint64_t comm_key, uint64_t op_seq) {
  if (!slot_) return;
  slot_->fn.store(fn, std::memory_order_relaxed);
  slot_->seq.store(seq, std::memory_order_relaxed);
  slot_->comm_key.store(comm_key, std::memory_order_relaxed);
  slot_->op_seq.store(op_seq, std::memory_order_relaxed);
  State(RankState::kInCall);
}

void ProgressWriter::Leave() {
  if (!slot_) return;
  slot_->calls_done.fetch_add(1, std::memory_order_relaxed);
  State(RankState::kReplaying);
}

void ProgressWriter::Total(uint64_t calls) {
  if (slot_) slot_->calls_total.store(calls, std::memory_order_relaxed);
}

}  // namespace ddrr::replay
