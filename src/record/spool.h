// Spool: the write-ahead log of one rank (layout in spool_format.h), mapped MAP_SHARED so a
// record is safe from SIGKILL the moment it is committed.
//
// Writing side (recorder): Reserve*() under the append lock, fill the record, Commit(). The
// lock only covers seq assignment and space reservation; it never waits for the sealer: a full
// ring drops the event and counts it.
// Reading side (sealer, salvage): At() walks the records from tail to head.
//
// Thread-safety: Lock/Reserve/Commit from any thread; the reading side from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "record/spool_format.h"

namespace ddrr::record {

// A spinlock that yields after a short spin: the critical section is a few dozen instructions,
// but with more threads than cores its holder can be preempted, and spinning then only burns
// the holder's core.
class AppendLock {
 public:
  void lock() {
    int spins = 0;
    while (flag_.exchange(true, std::memory_order_acquire)) {
      while (flag_.load(std::memory_order_relaxed)) {
        if (++spins > 64) Yield();
      }
    }
  }
  void unlock() { flag_.store(false, std::memory_order_release); }

 private:
  static void Yield();
  std::atomic<bool> flag_{false};
};

class Spool {
 public:
  // Creates (truncating) `path` with a ring of `ring_bytes` and the rank file's `preamble`.
  static StatusOr<std::unique_ptr<Spool>> Create(const std::string& path, uint32_t rank,
                                                 uint64_t ring_bytes, std::string_view preamble);
  // Maps an existing spool read-only and checks its header; kCorruption with the reason when it
  // is not a spool ddrr can read.
  static StatusOr<std::unique_ptr<Spool>> OpenReadOnly(const std::string& path);
  ~Spool();

  const std::string& path() const { return path_; }
  SpoolHeader& header() const { return *header_; }
  std::string_view preamble() const;
  uint64_t capacity() const { return capacity_; }

  // --- writing side -------------------------------------------------------------------------
  AppendLock& lock() { return lock_; }
  // With lock() held: reserves a record of RecordBytes(label_len, body_len) at head and, for an
  // event, assigns it the next seq. Returns nullptr (and counts a drop for events) when the ring
  // lacks room. The returned record has `len`, `state` and `seq` set.
  // `*used` (optional) gets the ring bytes in use after the reservation.
  RecordHeader* ReserveLocked(uint32_t label_len, uint32_t body_len, bool is_event,
                              uint64_t* used = nullptr);
  static void Commit(RecordHeader* rec) { rec->state.store(kCommitted, std::memory_order_release); }

  // --- reading side -------------------------------------------------------------------------
  enum class Slot { kRecord, kPadding, kNotCommitted, kMalformed };
  // Looks at the record at ring position `pos` (tail <= pos < head). Sets `*next` to the
  // position after it (unless kMalformed). For kRecord the header and bytes are safe to read.
  Slot At(uint64_t pos, const RecordHeader** rec, uint64_t* next) const;
  static std::string_view Label(const RecordHeader* r) {
    return {reinterpret_cast<const char*>(r + 1), r->label_len};
  }
  static std::string_view Body(const RecordHeader* r) {
    return {reinterpret_cast<const char*>(r + 1) + r->label_len, r->body_len};
  }
  // Frees ring space up to `pos` (sealer only).
  void Release(uint64_t pos) { header_->tail.store(pos, std::memory_order_release); }

 private:
  Spool(std::string path, void* base, size_t size, int lock_fd = -1);
  uint8_t* RingAt(uint64_t pos) const { return ring_ + pos % capacity_; }

  std::string path_;
  void* base_;
  size_t size_;
  SpoolHeader* header_;
  uint8_t* ring_ = nullptr;
  uint64_t capacity_ = 0;
  AppendLock lock_;
  int lock_fd_;  // the writer's flock on the spool file: held while the writer lives
};

// True while a live process still writes `path` (it holds the spool's flock): such a spool
// must not be salvaged.
bool SpoolIsLive(const std::string& path);

}  // namespace ddrr::record
