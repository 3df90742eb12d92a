// What the ways of starting processes in this component share: the signals passed on to the
// children, and how their end is reported.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <iterator>
#include <string>
#include <vector>

namespace ddrr::launch {

// Received by a launcher, these are meant for the job it runs.
inline constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP};

// While alive, `handler` catches kForwardedSignals (SA_RESTART) and, with `ignore_sigpipe`,
// SIGPIPE is ignored; the previous dispositions come back when it goes.
class ForwardedSignalHandlers {
 public:
  ForwardedSignalHandlers(void (*handler)(int), bool ignore_sigpipe);
  ~ForwardedSignalHandlers();
  ForwardedSignalHandlers(const ForwardedSignalHandlers&) = delete;
  ForwardedSignalHandlers& operator=(const ForwardedSignalHandlers&) = delete;

 private:
  struct sigaction previous_[std::size(kForwardedSignals)];
  bool ignore_sigpipe_;
  struct sigaction previous_pipe_;
};

// In a child between fork and exec (async-signal-safe): it gets SIGKILL when the process that
// forked it dies, and exits at once if that happened before this call, so a launcher killed
// with SIGKILL leaves no orphan behind (the kernel keeps the setting across exec).
void DieWithParent(pid_t parent);

// A child's end as a shell reports it: its exit code, or 128 + the signal that killed it.
int ExitStatusOf(int wait_status);

// argv/envp for exec: pointers into `strings`, then a null.
std::vector<char*> CStrings(std::vector<std::string>& strings);

}  // namespace ddrr::launch
