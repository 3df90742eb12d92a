// OpStore: where `ddrr check` keeps the OpRecords of every (communicator, rank) between reading
// the ranks one by one and comparing them across ranks. Records go to an unlinked temporary
// file in chunks, so memory does not grow with the length of the run: appending holds one
// chunk per stream being written (only the current rank's), reading holds one small buffer per
// open cursor (one per member of the communicator being compared). The chunk index grows only
// when a rank's streams interleave (16 bytes per switch between them, at most one per 512
// records): chunks written back to back for one stream are one chunk.
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "analysis/op_record.h"
#include "common/status.h"

namespace ddrr::analysis {

class OpStore {
 public:
  using StreamId = uint32_t;

  // The file goes in `dir`; empty: $TMPDIR, else /tmp.
  static StatusOr<std::unique_ptr<OpStore>> Create(const std::string& dir = "");
  ~OpStore();
  OpStore(const OpStore&) = delete;
  OpStore& operator=(const OpStore&) = delete;

  StreamId NewStream();
  // Records of one stream are read back in the order they were appended.
  Status Append(StreamId s, const OpRecord& r);
  // Writes what the stream has buffered and frees the buffer; more appends may follow.
  Status Flush(StreamId s);
  uint64_t size(StreamId s) const { return streams_[s].size; }
  size_t chunks(StreamId s) const { return streams_[s].chunks.size(); }
  uint64_t bytes_written() const { return end_; }
  const std::string& dir() const { return dir_; }

  class Cursor {
   public:
    Cursor() = default;
    // The next record; false at the end of the stream or on a read error (status()).
    bool Next(OpRecord* r);
    const Status& status() const { return status_; }

   private:
    friend class OpStore;
    const OpStore* store_ = nullptr;
    StreamId stream_ = 0;
    size_t chunk_ = 0;       // next chunk to read
    uint64_t in_chunk_ = 0;  // records of chunk_ - 1 already loaded
    std::vector<OpRecord> buf_;
    size_t pos_ = 0;
    Status status_;
  };
  // Reads a flushed stream from its start.
  Cursor Read(StreamId s) const;

 private:
  struct Chunk {
    uint64_t offset;
    uint64_t count;
  };
  struct Stream {
    std::vector<Chunk> chunks;
    std::vector<OpRecord> pending;
    uint64_t size = 0;
  };
  OpStore(int fd, std::string dir) : fd_(fd), dir_(std::move(dir)) {}

  int fd_;
  std::string dir_;
  uint64_t end_ = 0;
  std::vector<Stream> streams_;
};

}  // namespace ddrr::analysis
