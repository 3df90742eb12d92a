#include "launch/process.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ddrr::launch {

ForwardedSignalHandlers::ForwardedSignalHandlers(void (*handler)(int), bool ignore_sigpipe)
    : ignore_sigpipe_(ignore_sigpipe) {
  struct sigaction action = {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (size_t i = 0; i < std::size(kForwardedSignals); ++i) {
    sigaction(kForwardedSignals[i], &action, &previous_[i]);
  }
  if (ignore_sigpipe_) {
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &previous_pipe_);
  }
}

ForwardedSignalHandlers::~ForwardedSignalHandlers() {
  for (size_t i = 0; i < std::size(kForwardedSignals); ++i) {
    sigaction(kForwardedSignals[i], &previous_[i], nullptr);
  }
  if (ignore_sigpipe_) sigaction(SIGPIPE, &previous_pipe_, nullptr);
}

void DieWithParent(pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(128 + SIGKILL);  // the parent died before the line above
}

int ExitStatusOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace ddrr::launch
