// FileSizeSignalGuard: while alive, a write past RLIMIT_FSIZE fails with EFBIG instead of
// killing the process with SIGXFSZ (whose default action terminates it). ddrr writes its files
// from the job's own threads too (trace creation, the spool, the footer at exit), and must
// never change how the job ends. Construct it around each call that can grow a file; after a
// call that failed with EFBIG, call Consume() to drop the SIGXFSZ that call left pending on
// this thread.
#pragma once

#include <signal.h>

namespace ddrr {

class FileSizeSignalGuard {
 public:
  FileSizeSignalGuard() {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGXFSZ);
    pthread_sigmask(SIG_BLOCK, &block, &previous_);
  }
  ~FileSizeSignalGuard() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  FileSizeSignalGuard(const FileSizeSignalGuard&) = delete;
  FileSizeSignalGuard& operator=(const FileSizeSignalGuard&) = delete;

  void Consume() {
    sigset_t xfsz;
    sigemptyset(&xfsz);
    sigaddset(&xfsz, SIGXFSZ);
    const timespec now = {0, 0};
    sigtimedwait(&xfsz, nullptr, &now);
  }

 private:
  sigset_t previous_;
};

}  // namespace ddrr
