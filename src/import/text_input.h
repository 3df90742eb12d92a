// Reading the text inputs of `ddrr import`: whole lines of bounded length, binary files refused.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ddrr::import {

// Longest line accepted; a longer one means the file is not a log.
inline constexpr size_t kMaxLineBytes = 1 << 20;

class LineReader {
 public:
  static StatusOr<LineReader> Open(const std::string& path);
  LineReader(LineReader&& o) noexcept;
  LineReader& operator=(LineReader&&) = delete;
  ~LineReader();

  // The next line without its end ("\n", "\r\n"); false at the end of the file or on an error
  // (status() says which).
  bool Next(std::string_view* line);
  const Status& status() const { return status_; }
  uint64_t line_number() const { return line_number_; }
  const std::string& path() const { return path_; }

 private:
  LineReader(std::string path, FILE* f) : path_(std::move(path)), f_(f) {}
  bool Fill();

  std::string path_;
  FILE* f_ = nullptr;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  uint64_t line_number_ = 0;
  Status status_;
};

// The first bytes of a file (up to `n`), for telling formats apart.
StatusOr<std::string> ReadHead(const std::string& path, size_t n);

// True when `bytes` look like text: no NUL bytes, few control characters.
bool LooksLikeText(std::string_view bytes);

}  // namespace ddrr::import
