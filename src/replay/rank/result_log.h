// ResultLog: what a replay rank tells `ddrr replay` besides its trace: data that came back wrong,
// calls it could not replay and why, a call that hung, and a closing summary. One line per fact,
// appended as it happens (a rank the CLI kills keeps what it wrote), in
// <work dir>/rank-<r>.log. The CLI reads it with ReadResultLog (src/replay/result_log_reader.h).
#pragma once

#include <cstdint>
#include <string>

#include "common/mutex.h"

namespace ddrr::replay {

class ResultLog {
 public:
  explicit ResultLog(const std::string& path);
  ~ResultLog();
  ResultLog(const ResultLog&) = delete;
  ResultLog& operator=(const ResultLog&) = delete;

  // `kind` is one word (mismatch, diverged, unresolved, hung, summary, error); `text` the rest.
  // Lines of one kind past `limit` are counted, not written.
  void Write(const std::string& kind, const std::string& text, uint64_t limit = 20);

 private:
  int fd_ = -1;
  Mutex mu_;
  uint64_t written_[8] GUARDED_BY(mu_) = {};  // per kind, by KindIndex
};

}  // namespace ddrr::replay
