#include "import/text_input.h"

#include <cerrno>
#include <cstring>

namespace ddrr::import {

StatusOr<LineReader> LineReader::Open(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  if (!f)
    return Status::NotFound("cannot open " + path + ": " + strerror(errno) +
                            "; check the path of the file to import");
  return LineReader(path, f);
}

LineReader::LineReader(LineReader&& o) noexcept
    : path_(std::move(o.path_)),
      f_(o.f_),
      buf_(std::move(o.buf_)),
      pos_(o.pos_),
      eof_(o.eof_),
      line_number_(o.line_number_),
      status_(o.status_) {
  o.f_ = nullptr;
}

LineReader::~LineReader() {
  if (f_) fclose(f_);
}

bool LineReader::Fill() {
  if (eof_) return false;
  buf_.erase(0, pos_);
  pos_ = 0;
  const size_t old = buf_.size();
  buf_.resize(old + (256 << 10));
  const size_t n = fread(buf_.data() + old, 1, buf_.size() - old, f_);
  buf_.resize(old + n);
  if (n == 0) {
    if (ferror(f_)) status_ = Status::IoError("cannot read " + path_ + ": " + strerror(errno));
    eof_ = true;
    return false;
  }
  if (memchr(buf_.data() + old, '\0', n)) {
    status_ = Status::InvalidArgument(path_ +
                                      " holds binary data, not a text log; pass the "
                                      "log itself or --format fr for a Flight Recorder dump");
    eof_ = true;
    buf_.clear();
    return false;
  }
  return true;
}

bool LineReader::Next(std::string_view* line) {
  if (!status_.ok()) return false;
  size_t scanned = 0;
  while (true) {
    const char* start = buf_.data() + pos_;
    const size_t avail = buf_.size() - pos_;
    const void* nl = memchr(start + scanned, '\n', avail - scanned);
    if (nl || (eof_ && avail)) {
      size_t len = nl ? static_cast<const char*>(nl) - start : avail;
      if (len > kMaxLineBytes) break;
      pos_ += nl ? len + 1 : len;
      if (len && start[len - 1] == '\r') --len;
      *line = std::string_view(start, len);
      ++line_number_;
      return true;
    }
    if (avail > kMaxLineBytes) break;
    scanned = avail;
    if (!Fill()) {
      if (!status_.ok()) return false;
      if (buf_.size() == pos_) return false;
    }
  }
  status_ = Status::InvalidArgument("line " + std::to_string(line_number_ + 1) + " of " + path_ +
                                    " is over 1 MiB long: not a log ddrr can import; cut the "
                                    "file down to its NCCL lines");
  return false;
}

StatusOr<std::string> ReadHead(const std::string& path, size_t n) {
  FILE* f = fopen(path.c_str(), "rb");
  if (!f)
    return Status::NotFound("cannot open " + path + ": " + strerror(errno) +
                            "; check the path of the file to import");
  std::string s(n, '\0');
  s.resize(fread(s.data(), 1, n, f));
  fclose(f);
  return s;
}

bool LooksLikeText(std::string_view bytes) {
  size_t control = 0;
  for (unsigned char c : bytes) {
    if (c == 0) return false;
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') ++control;
  }
  return control * 50 <= bytes.size();
}

}  // namespace ddrr::import
