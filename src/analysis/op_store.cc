#include "analysis/op_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace ddrr::analysis {
namespace {

// A chunk is written when a stream has this many records buffered: big enough that the index
// stays small, small enough that a rank's open streams cost little.
constexpr size_t kChunkRecords = 512;
// A cursor reads this many records at a time (8 KiB): one per member of a communicator of
// thousands of ranks stays a few MiB.
constexpr size_t kReadRecords = 128;

}  // namespace

StatusOr<std::unique_ptr<OpStore>> OpStore::Create(const std::string& dir_arg) {
  std::string dir = dir_arg;
  if (dir.empty()) {
    const char* t = std::getenv("TMPDIR");
    dir = t && *t ? t : "/tmp";
  }
  // Unlinked from the start, so a crash or ^C leaves nothing behind.
  int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {  // file systems without O_TMPFILE
    std::string path = dir + "/ddrr-check-XXXXXX";
    fd = mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0)
      return Status::FromErrno(
          "cannot create a temporary file in " + dir + " (set TMPDIR to a writable directory)",
          errno);
    unlink(path.c_str());
  }
  return std::unique_ptr<OpStore>(new OpStore(fd, dir));
}

OpStore::~OpStore() { close(fd_); }

OpStore::StreamId OpStore::NewStream() {
  streams_.emplace_back();
  return static_cast<StreamId>(streams_.size() - 1);
}

Status OpStore::Append(StreamId s, const OpRecord& r) {
  Stream& st = streams_[s];
  st.pending.push_back(r);
  ++st.size;
  if (st.pending.size() >= kChunkRecords) return Flush(s);
  return Status::Ok();
}

Status OpStore::Flush(StreamId s) {
  Stream& st = streams_[s];
  if (st.pending.empty()) return Status::Ok();
  const size_t bytes = st.pending.size() * sizeof(OpRecord);
  const char* p = reinterpret_cast<const char*>(st.pending.data());
  for (size_t done = 0; done < bytes;) {
    const ssize_t n = pwrite(fd_, p + done, bytes - done, static_cast<off_t>(end_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return Status::FromErrno(
          "cannot write the temporary file in " + dir_ + " (free space or set TMPDIR)",
          n < 0 ? errno : ENOSPC);
    done += static_cast<size_t>(n);
  }
  // Written right after the stream's previous chunk (nothing else in between, as when a rank
  // issues only collectives): one longer chunk, so the index does not grow with the run.
  if (!st.chunks.empty() &&
      st.chunks.back().offset + st.chunks.back().count * sizeof(OpRecord) == end_)
    st.chunks.back().count += st.pending.size();
  else
    st.chunks.push_back({end_, st.pending.size()});
  end_ += bytes;
  st.pending.clear();
  st.pending.shrink_to_fit();  // the rank is done with it until its next append
  return Status::Ok();
}

OpStore::Cursor OpStore::Read(StreamId s) const {
  Cursor c;
  c.store_ = this;
  c.stream_ = s;
  return c;
}

bool OpStore::Cursor::Next(OpRecord* r) {
  if (pos_ < buf_.size()) {
    *r = buf_[pos_++];
    return true;
  }
  if (!store_ || !status_.ok()) return false;
  const Stream& st = store_->streams_[stream_];
  // Move to the next chunk once the current one is used up.
  if (chunk_ > 0 && in_chunk_ >= st.chunks[chunk_ - 1].count) in_chunk_ = 0;
  if (in_chunk_ == 0) {
    if (chunk_ >= st.chunks.size()) return false;
    ++chunk_;
  }
  const Chunk& c = st.chunks[chunk_ - 1];
  const size_t n = static_cast<size_t>(std::min<uint64_t>(kReadRecords, c.count - in_chunk_));
  buf_.resize(n);
  const size_t bytes = n * sizeof(OpRecord);
  const uint64_t at = c.offset + in_chunk_ * sizeof(OpRecord);
  for (size_t done = 0; done < bytes;) {
    const ssize_t got = pread(store_->fd_, reinterpret_cast<char*>(buf_.data()) + done,
                              bytes - done, static_cast<off_t>(at + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      status_ = Status::FromErrno("cannot read the temporary file in " + store_->dir_,
                                  got < 0 ? errno : EIO);
      buf_.clear();
      return false;
    }
    done += static_cast<size_t>(got);
  }
  in_chunk_ += n;
  pos_ = 0;
  *r = buf_[pos_++];
  return true;
}

}  // namespace ddrr::analysis
