#include "launch/spawn.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "launch/process.h"

namespace ddrr::launch {
namespace {

// The running child, for the signal handler; -1 when there is none to signal.
volatile sig_atomic_t g_child = -1;

void ForwardToChild(int signal_number) {
  const pid_t child = g_child;
  if (child > 0) kill(child, signal_number);
}

// Between fork and exec: only async-signal-safe calls.
[[noreturn]] void ExecChild(const std::vector<char*>& argv, pid_t launcher) {
  DieWithParent(launcher);
  execvp(argv[0], argv.data());
  const char* reason = strerrordesc_np(errno);
  for (const char* part : {"ddrr: error: cannot run ", static_cast<const char*>(argv[0]), ": ",
                           reason != nullptr ? reason : "unknown error", "\n"}) {
    [[maybe_unused]] ssize_t ignored = write(STDERR_FILENO, part, strlen(part));
  }
  _exit(127);
}

}  // namespace

StatusOr<int> RunChild(const std::vector<std::string>& argv) {
  if (argv.empty()) return Status::InvalidArgument("no program to run");
  std::vector<std::string> argv_strings = argv;
  std::vector<char*> args = CStrings(argv_strings);

  // Blocked from before the fork until the handlers are in: a signal in between is forwarded
  // once they are, instead of taking the launcher's old disposition. The child gets the old
  // mask back, and its own dispositions are the launcher's old ones (ignored stays ignored).
  sigset_t forwarded, previous_mask;
  sigemptyset(&forwarded);
  for (int signal_number : kForwardedSignals) sigaddset(&forwarded, signal_number);
  pthread_sigmask(SIG_BLOCK, &forwarded, &previous_mask);
  const pid_t self = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
    ExecChild(args, self);
  }
  if (pid < 0) {
    const int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
    return Status::FromErrno("fork", fork_errno);
  }
  g_child = pid;
  {
    ForwardedSignalHandlers forwarding(ForwardToChild, /*ignore_sigpipe=*/false);
    pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
    // Waited for without reaping, so that the handler never signals a pid already reused.
    siginfo_t info;
    while (waitid(P_PID, pid, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
    }
    g_child = -1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return ExitStatusOf(status);
}

}  // namespace ddrr::launch
