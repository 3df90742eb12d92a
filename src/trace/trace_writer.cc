#include "trace/trace_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>

#include "common/crc32c.h"
#include "common/file_size_guard.h"
#include "trace/format.h"

namespace ddrr::trace {

StatusOr<std::unique_ptr<TraceWriter>> TraceWriter::Create(const std::string& path,
                                                           const HeaderInfo& header,
                                                           const WriterOptions& options) {
  return CreateWithPreamble(path, EncodePreamble(header), options);
}

std::string TraceWriter::EncodePreamble(const HeaderInfo& header) {
  WireEncoder h;
  EncodeHeader(h, header);
  std::string out(kPreambleSize + h.size(), '\0');
  const uint32_t version = kFormatVersion, len = static_cast<uint32_t>(h.size());
  const uint32_t crc = Crc32c(h.data(), h.size());
  std::memcpy(out.data(), kFileMagic, 8);
  std::memcpy(out.data() + 8, &version, 4);
  std::memcpy(out.data() + 12, &len, 4);
  std::memcpy(out.data() + 16, &crc, 4);
  std::memcpy(out.data() + kPreambleSize, h.data(), h.size());
  return out;
}

StatusOr<std::unique_ptr<TraceWriter>> TraceWriter::CreateWithPreamble(
    const std::string& path, std::string_view preamble, const WriterOptions& options) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("create trace " + path, errno);
  std::unique_ptr<TraceWriter> w(new TraceWriter(path, fd, options));
  if (!w->cctx_) return Status::Internal("zstd: cannot create a compression context");
  DDRR_RETURN_IF_ERROR(w->WriteAll(preamble.data(), preamble.size()));
  return w;
}

TraceWriter::TraceWriter(std::string path, int fd, const WriterOptions& options)
    : path_(std::move(path)), fd_(fd), options_(options), cctx_(ZSTD_createCCtx()) {}

TraceWriter::~TraceWriter() {
  if (!closed_) {
    FooterInfo f;
    f.end_reason = kEndClosed;
    (void)Close(f);
  }
  ZSTD_freeCCtx(cctx_);
}

// pwrite at a tracked offset: a failed write (disk full) can be retried without leaving a
// half-written frame in front of the retry.
Status TraceWriter::WriteAll(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  size_t done = 0;
  FileSizeSignalGuard guard;  // past RLIMIT_FSIZE: EFBIG, never a SIGXFSZ that kills the job
  while (done < size) {
    ssize_t n = ::pwrite(fd_, p + done, size - done, static_cast<off_t>(offset_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      if (err == EFBIG) guard.Consume();
      return Status::FromErrno("write " + path_, err);
    }
    done += static_cast<size_t>(n);
  }
  offset_ += size;
  return Status::Ok();
}

Status TraceWriter::Append(uint64_t seq, uint32_t thread, uint64_t time_ns, std::string_view body,
                           const EventMeta* meta) {
  if (closed_) return Status::Internal("append to closed trace " + path_);
  event_.Clear();
  const bool first = frame_events_ == 0;
  if (first || seq != prev_seq_ + 1) event_.VarintAlways(1, seq);
  event_.Varint(2, thread);
  const uint64_t base = first ? 0 : prev_time_ns_;
  event_.Sint(3, static_cast<int64_t>(time_ns - base));
  if (first) frame_last_op_.clear();
  if (meta && meta->comm_key) {
    auto [it, fresh] = frame_last_op_.try_emplace(meta->comm_key, 0);
    if (fresh || meta->op_seq != it->second + 1) event_.VarintAlways(14, meta->op_seq);
    it->second = meta->op_seq;
  }
  event_.RawBytes(body.data(), body.size());

  if (first) {
    frame_first_seq_ = seq;
    frame_index_ = FrameIndexInfo{};
    frame_index_.kind = static_cast<int32_t>(FrameKindCode::kEvents);
    frame_index_.first_seq = seq;
    frame_index_.first_time_ns = time_ns;
  }
  if (meta && meta->is_mark && !frame_index_.has_mark) {
    frame_index_.has_mark = true;
    frame_index_.first_mark_step = meta->mark_step;
    frame_index_.first_mark_label = std::string(meta->mark_label);
  }
  frame_.RawVarint(event_.size());
  frame_.RawBytes(event_.data(), event_.size());
  ++frame_events_;
  ++event_count_;
  prev_seq_ = seq;
  last_seq_ = seq;
  prev_time_ns_ = time_ns;
  if (frame_.size() >= options_.frame_raw_bytes) return SealEvents();
  return Status::Ok();
}

Status TraceWriter::AppendPayload(uint64_t content_hash, std::string_view data) {
  if (closed_) return Status::Internal("append to closed trace " + path_);
  if (!stored_payloads_.insert(content_hash).second) return Status::Ok();
  event_.Clear();
  event_.Fixed64(1, content_hash);
  event_.Bytes(2, data);
  payload_frame_.RawVarint(event_.size());
  payload_frame_.RawBytes(event_.data(), event_.size());
  ++payload_count_;
  if (payload_frame_.size() >= options_.frame_raw_bytes) return SealPayloads();
  return Status::Ok();
}

Status TraceWriter::SealEvents() {
  if (frame_events_ == 0) return Status::Ok();
  DDRR_RETURN_IF_ERROR(SealFrame(static_cast<uint8_t>(FrameKindCode::kEvents), frame_,
                                 frame_events_, frame_first_seq_, frame_index_));
  frame_events_ = 0;
  return Status::Ok();
}

Status TraceWriter::SealPayloads() {
  if (payload_count_ == 0) return Status::Ok();
  FrameIndexInfo idx;
  idx.kind = static_cast<int32_t>(FrameKindCode::kPayloads);
  idx.event_count = payload_count_;
  DDRR_RETURN_IF_ERROR(SealFrame(static_cast<uint8_t>(FrameKindCode::kPayloads), payload_frame_,
                                 payload_count_, 0, idx));
  payload_count_ = 0;
  return Status::Ok();
}

Status TraceWriter::SealFrame(uint8_t kind, WireEncoder& raw, uint32_t count, uint64_t first_seq,
                              FrameIndexInfo index) {
  compressed_.resize(ZSTD_compressBound(raw.size()));
  size_t n = ZSTD_compressCCtx(cctx_, compressed_.data(), compressed_.size(), raw.data(),
                               raw.size(), options_.zstd_level);
  if (ZSTD_isError(n)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(n));

  FrameHeader h{};
  h.magic = kFrameMagic;
  h.kind = kind;
  h.compressed_len = static_cast<uint32_t>(n);
  h.raw_len = static_cast<uint32_t>(raw.size());
  h.event_count = count;
  h.first_seq = first_seq;
  uint8_t packed[kFrameHeaderSize];
  PackFrameHeader(h, packed);
  h.crc = FrameCrc(packed, reinterpret_cast<const uint8_t*>(compressed_.data()), n);
  PackFrameHeader(h, packed);

  index.offset = offset_;
  index.event_count = count;
  const uint64_t start = offset_;
  Status st = WriteAll(packed, sizeof(packed));
  if (st.ok()) st = WriteAll(compressed_.data(), n);
  if (!st.ok()) {
    offset_ = start;  // the frame stays buffered; a retry rewrites it in place
    return st;
  }
  index_.push_back(std::move(index));
  raw.Clear();
  return Status::Ok();
}

Status TraceWriter::Flush() {
  DDRR_RETURN_IF_ERROR(SealEvents());
  return SealPayloads();
}

Status TraceWriter::AppendRawFrame(std::string_view frame, FrameIndexInfo index,
                                   uint64_t last_seq) {
  if (closed_) return Status::Internal("append to closed trace " + path_);
  DDRR_RETURN_IF_ERROR(Flush());
  index.offset = offset_;
  DDRR_RETURN_IF_ERROR(WriteAll(frame.data(), frame.size()));
  if (index.kind == static_cast<int32_t>(FrameKindCode::kEvents)) {
    event_count_ += index.event_count;
    if (index.event_count) last_seq_ = last_seq;
  }
  index_.push_back(std::move(index));
  return Status::Ok();
}

Status TraceWriter::Abandon() {
  if (closed_) return Status::Ok();
  Status st = Flush();
  closed_ = true;
  ::close(fd_);
  return st;
}

Status TraceWriter::Close(const FooterInfo& footer) {
  if (closed_) return Status::Ok();
  DDRR_RETURN_IF_ERROR(Flush());
  WireEncoder f;
  EncodeFooter(f, index_, event_count_, last_seq_, footer);
  uint8_t prefix[kFooterPrefixSize];
  const uint32_t magic = kFooterMagic, len = static_cast<uint32_t>(f.size());
  const uint32_t crc = Crc32c(f.data(), f.size());
  std::memcpy(prefix, &magic, 4);
  std::memcpy(prefix + 4, &len, 4);
  std::memcpy(prefix + 8, &crc, 4);
  const uint64_t footer_offset = offset_;
  uint8_t trailer[kTrailerSize];
  std::memcpy(trailer, &footer_offset, 8);
  std::memcpy(trailer + 8, kTrailerMagic, 8);
  DDRR_RETURN_IF_ERROR(WriteAll(prefix, sizeof(prefix)));
  DDRR_RETURN_IF_ERROR(WriteAll(f.data(), f.size()));
  DDRR_RETURN_IF_ERROR(WriteAll(trailer, sizeof(trailer)));
  closed_ = true;
  if (::close(fd_) != 0) return Status::FromErrno("close " + path_, errno);
  return Status::Ok();
}

}  // namespace ddrr::trace
