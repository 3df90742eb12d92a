#include "launch/launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/params.h"
#include "launch/line_prefixer.h"
#include "launch/process.h"

extern char** environ;

namespace ddrr::launch {
namespace {

using Clock = std::chrono::steady_clock;

// After the last rank exits, how long to keep reading pipes that a leftover grandchild may
// still hold open.
constexpr auto kDrainAfterExit = std::chrono::seconds(2);
constexpr int kPollMillis = 50;  // also how often exits are reaped

// Written by the signal handler, read by the poll loop (self-pipe).
int g_signal_pipe_write = -1;

void OnForwardedSignal(int signal_number) {
  int saved_errno = errno;
  unsigned char byte = static_cast<unsigned char>(signal_number);
  [[maybe_unused]] ssize_t ignored = write(g_signal_pipe_write, &byte, 1);
  errno = saved_errno;
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read_end;
  Fd write_end;
};

StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

// One of a rank's output streams, relayed with a prefix to the launcher's own fd.
struct Relay {
  Fd from;
  int to;
  LinePrefixer prefixer;
};

struct Rank {
  int index = 0;  // LOCAL_RANK
  int id = 0;     // RANK
  pid_t pid = -1;
  bool running = false;
  bool signalled = false;  // by the launcher, while running
  int exit_status = 0;
  std::vector<Relay> relays;  // stdout, stderr (empty without prefix_output)
};

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed or broken stdout: drop output, keep supervising
    done += static_cast<size_t>(n);
  }
}

StatusOr<int> PickFreePort() {
  Fd sock(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return Status::FromErrno("socket", errno);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (bind(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return Status::FromErrno("bind 127.0.0.1:0", errno);
  }
  socklen_t length = sizeof(address);
  if (getsockname(sock.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return Status::FromErrno("getsockname", errno);
  }
  return static_cast<int>(ntohs(address.sin_port));
}

double GraceSeconds(const LaunchOptions& options) {
  if (options.grace_seconds >= 0) return options.grace_seconds;
  return param::Real(param::kRunGrace);
}

int RankId(const LaunchOptions& options, int index) {
  return options.rank_ids.empty() ? index : options.rank_ids[static_cast<size_t>(index)];
}

int WorldSize(const LaunchOptions& options) {
  return options.world_size > 0 ? options.world_size : options.nranks;
}

// Set by the launcher for each rank, so not to be given in extra_env.
constexpr std::string_view kRankVariables[] = {
    "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"};

using EnvVar = std::pair<std::string, std::string>;

std::string_view NameOf(std::string_view entry) { return entry.substr(0, entry.find('=')); }

// `env` (NAME=value entries) with `vars` replacing the variables of their names, or added.
void Override(std::vector<std::string>& env, const std::vector<EnvVar>& vars) {
  std::erase_if(env, [&](const std::string& entry) {
    return std::any_of(vars.begin(), vars.end(),
                       [&](const EnvVar& var) { return var.first == NameOf(entry); });
  });
  for (const auto& [name, value] : vars) env.push_back(name + "=" + value);
}

// The value of `name` in `env`; empty when unset.
std::string_view Lookup(const std::vector<std::string>& env, std::string_view name) {
  for (const std::string& entry : env) {
    if (NameOf(entry) == name) return std::string_view(entry).substr(name.size() + 1);
  }
  return {};
}

// `first`, then `rest` if there is any.
std::string Joined(const std::string& first, std::string_view rest) {
  return rest.empty() ? first : first + ":" + std::string(rest);
}

// What every rank inherits: this process's environment with extra_env over it.
std::vector<std::string> BaseEnvironment(const LaunchOptions& options) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) env.emplace_back(*entry);
  Override(env, options.extra_env);
  return env;
}

// `base` with the rank variables (and LD_LIBRARY_PATH, LD_PRELOAD, DDRR_RANKS_PER_GPU when they
// apply) replaced.
std::vector<std::string> RankEnvironment(const LaunchOptions& options,
                                         const std::vector<std::string>& base, const Rank& rank,
                                         int port) {
  std::vector<EnvVar> overrides = {
      {"RANK", std::to_string(rank.id)},
      {"WORLD_SIZE", std::to_string(WorldSize(options))},
      {"LOCAL_RANK", std::to_string(static_cast<size_t>(rank.index) < options.local_ranks.size()
                                        ? options.local_ranks[rank.index]
                                        : rank.index)},
      {"LOCAL_WORLD_SIZE",
       std::to_string(options.local_world_size > 0 ? options.local_world_size : options.nranks)},
      {"MASTER_ADDR", "127.0.0.1"},
      {"MASTER_PORT", std::to_string(port)},
  };
  const std::string& first_dir = options.host_runtime ? options.hostrt_dir : options.emu_dir;
  if (!first_dir.empty()) {
    overrides.emplace_back("LD_LIBRARY_PATH", Joined(first_dir, Lookup(base, "LD_LIBRARY_PATH")));
  }
  if (options.ranks_per_gpu > 0) {
    // Appended: a preloaded recorder must come first, so that it records the virtual devices.
    std::string_view preload = Lookup(base, "LD_PRELOAD");
    overrides.emplace_back("LD_PRELOAD", preload.empty()
                                             ? options.gpushare_lib
                                             : std::string(preload) + ":" + options.gpushare_lib);
    overrides.emplace_back("DDRR_RANKS_PER_GPU", std::to_string(options.ranks_per_gpu));
  }
  std::vector<std::string> env = base;
  Override(env, overrides);
  return env;
}

// Between fork and exec: only async-signal-safe calls.
[[noreturn]] void ExecRank(const std::vector<char*>& argv, const std::vector<char*>& envp,
                           int stdin_fd, int stdout_fd, int stderr_fd, pid_t launcher) {
  DieWithParent(launcher);
  setpgid(0, 0);
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &default_action, nullptr);  // ignored in the launcher only
  dup2(stdin_fd, STDIN_FILENO);
  if (stdout_fd >= 0) dup2(stdout_fd, STDOUT_FILENO);
  if (stderr_fd >= 0) dup2(stderr_fd, STDERR_FILENO);
  execvpe(argv[0], argv.data(), envp.data());
  const char kMessage[] = "ddrr run: cannot execute ";
  [[maybe_unused]] ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  ignored = write(STDERR_FILENO, argv[0], strlen(argv[0]));
  ignored = write(STDERR_FILENO, "\n", 1);
  _exit(127);
}

bool AnyRunning(const std::vector<Rank>& ranks) {
  return std::any_of(ranks.begin(), ranks.end(), [](const Rank& rank) { return rank.running; });
}

void SignalRunning(std::vector<Rank>& ranks, int signal_number) {
  for (Rank& rank : ranks) {
    if (!rank.running) continue;
    kill(-rank.pid, signal_number);  // the whole process group of the rank
    rank.signalled = true;
  }
}

// Reads what is available on a relay; false at end of stream.
bool PumpRelay(Relay& relay) {
  char buffer[65536];
  ssize_t n = read(relay.from.get(), buffer, sizeof(buffer));
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) {
    WriteAll(relay.to, relay.prefixer.Flush());
    relay.from.reset();
    return false;
  }
  WriteAll(relay.to, relay.prefixer.Feed(std::string_view(buffer, static_cast<size_t>(n))));
  return true;
}

Status CheckOptions(const LaunchOptions& options) {
  if (options.nranks < 1) return Status::InvalidArgument("the number of ranks must be >= 1");
  if (options.argv.empty()) return Status::InvalidArgument("no program to run");
  if (options.host_runtime && options.hostrt_dir.empty()) {
    return Status::InvalidArgument("host runtime requested without its directory");
  }
  if (options.ranks_per_gpu > 0 && options.gpushare_lib.empty()) {
    return Status::InvalidArgument("ranks per GPU requested without libddrr_gpushare.so");
  }
  if (!options.rank_ids.empty() && options.rank_ids.size() != static_cast<size_t>(options.nranks)) {
    return Status::InvalidArgument(std::to_string(options.rank_ids.size()) + " rank ids for " +
                                   std::to_string(options.nranks) + " ranks");
  }
  if (options.world_size < 0) return Status::InvalidArgument("the world size must be >= 0");
  std::set<int> ids;
  for (int index = 0; index < options.nranks; ++index) {
    const int id = RankId(options, index);
    if (id < 0) return Status::InvalidArgument("rank id " + std::to_string(id) + " is negative");
    if (!ids.insert(id).second) {
      return Status::InvalidArgument("rank id " + std::to_string(id) + " is given twice");
    }
    if (id >= WorldSize(options)) {
      return Status::InvalidArgument("rank id " + std::to_string(id) +
                                     " is not below the world size " +
                                     std::to_string(WorldSize(options)));
    }
  }
  std::set<std::string> names;
  for (const auto& [name, value] : options.extra_env) {
    if (name.empty() || name.find('=') != std::string::npos) {
      return Status::InvalidArgument("'" + name + "' is not an environment variable name");
    }
    if (std::find(std::begin(kRankVariables), std::end(kRankVariables), name) !=
        std::end(kRankVariables)) {
      return Status::InvalidArgument(name + " is set by the launcher for each rank");
    }
    if (!names.insert(name).second) {
      return Status::InvalidArgument(name + " is given twice in the extra environment");
    }
  }
  if (options.stop_signal <= 0 || options.stop_signal >= NSIG) {
    return Status::InvalidArgument("stop signal " + std::to_string(options.stop_signal) +
                                   " is not a signal");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<LaunchResult> RunRanks(const LaunchOptions& options) {
  DDRR_RETURN_IF_ERROR(CheckOptions(options));
  int port = options.master_port;
  if (port == 0) {
    DDRR_ASSIGN_OR_RETURN(port, PickFreePort());
  }
  Fd dev_null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (dev_null.get() < 0) return Status::FromErrno("open /dev/null", errno);
  DDRR_ASSIGN_OR_RETURN(Pipe signal_pipe, MakePipe());
  fcntl(signal_pipe.read_end.get(), F_SETFL, O_NONBLOCK);
  fcntl(signal_pipe.write_end.get(), F_SETFL, O_NONBLOCK);
  g_signal_pipe_write = signal_pipe.write_end.get();
  // SIGPIPE ignored: a closed stdout must not kill the launcher.
  ForwardedSignalHandlers forwarding(OnForwardedSignal, /*ignore_sigpipe=*/true);

  std::vector<std::string> argv_strings = options.argv;
  std::vector<char*> argv = CStrings(argv_strings);
  const std::vector<std::string> base_env = BaseEnvironment(options);
  std::vector<Rank> ranks(static_cast<size_t>(options.nranks));
  Status start_error;
  for (int r = 0; r < options.nranks && start_error.ok(); ++r) {
    Rank& rank = ranks[static_cast<size_t>(r)];
    rank.index = r;
    rank.id = RankId(options, r);
    std::vector<std::string> env_strings = RankEnvironment(options, base_env, rank, port);
    std::vector<char*> envp = CStrings(env_strings);
    Pipe out, err;
    if (options.prefix_output) {
      auto out_or = MakePipe();
      auto err_or = MakePipe();
      if (!out_or.ok() || !err_or.ok()) {
        start_error = !out_or.ok() ? out_or.status() : err_or.status();
        break;
      }
      out = std::move(out_or).value();
      err = std::move(err_or).value();
    }
    const pid_t launcher = getpid();
    pid_t pid = fork();
    if (pid < 0) {
      start_error = Status::FromErrno("fork", errno);
      break;
    }
    if (pid == 0)
      ExecRank(argv, envp, dev_null.get(), out.write_end.get(), err.write_end.get(), launcher);
    setpgid(pid, pid);  // also done by the child: whichever runs first wins the race
    rank.pid = pid;
    rank.running = true;
    if (options.prefix_output) {
      std::string prefix = "[rank " + std::to_string(rank.id) + "] ";
      rank.relays.push_back(Relay{std::move(out.read_end), STDOUT_FILENO, LinePrefixer(prefix)});
      rank.relays.push_back(Relay{std::move(err.read_end), STDERR_FILENO, LinePrefixer(prefix)});
    }
  }

  std::optional<int> first_failure;
  if (!start_error.ok()) first_failure = 1;  // stop the ranks already started, then report
  bool stopped = false;
  std::optional<Clock::time_point> term_at, kill_at, drain_until;
  const auto grace = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(GraceSeconds(options)));
  const auto kill_after = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(options.kill_after_seconds));
  auto start_shutdown = [&] {
    if (!term_at) term_at = Clock::now() + grace;
  };
  if (!start_error.ok()) term_at = Clock::now();

  while (true) {
    const bool any_running = AnyRunning(ranks);
    std::vector<pollfd> fds = {{signal_pipe.read_end.get(), POLLIN, 0}};
    std::vector<Relay*> polled;
    for (Rank& rank : ranks) {
      for (Relay& relay : rank.relays) {
        if (relay.from.get() < 0) continue;
        fds.push_back({relay.from.get(), POLLIN, 0});
        polled.push_back(&relay);
      }
    }
    if (!any_running && polled.empty()) break;
    if (!any_running && !drain_until) drain_until = Clock::now() + kDrainAfterExit;
    if (drain_until && Clock::now() >= *drain_until) break;

    poll(fds.data(), fds.size(), kPollMillis);

    if (fds[0].revents & POLLIN) {
      unsigned char signal_number;
      while (read(signal_pipe.read_end.get(), &signal_number, 1) == 1) {
        SignalRunning(ranks, signal_number);
        start_shutdown();
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) PumpRelay(*polled[i - 1]);
    }
    for (Rank& rank : ranks) {
      if (!rank.running) continue;
      int status = 0;
      if (waitpid(rank.pid, &status, WNOHANG) != rank.pid) continue;
      rank.running = false;
      rank.exit_status = ExitStatusOf(status);
      if (rank.exit_status != 0 && !first_failure) {
        first_failure = rank.exit_status;
        DDRR_INFO(log::kHostRt, "rank %d exited with status %d; stopping the others", rank.id,
                  rank.exit_status);
        start_shutdown();
      }
    }
    Clock::time_point now = Clock::now();
    if (options.should_stop && !stopped && AnyRunning(ranks) && options.should_stop()) {
      stopped = true;
      DDRR_INFO(log::kHostRt, "stop requested; sending signal %d to every rank",
                options.stop_signal);
      SignalRunning(ranks, options.stop_signal);
      // No SIGTERM stage after a stop: SIGKILL follows if stop_signal does not end a rank.
      if (!term_at) term_at = now;
      if (!kill_at) kill_at = now + kill_after;
    }
    if (term_at && !kill_at && now >= *term_at) {
      SignalRunning(ranks, SIGTERM);
      kill_at = now + kill_after;
    }
    if (kill_at && now >= *kill_at) SignalRunning(ranks, SIGKILL);
  }
  // Output left in pipes held open by grandchildren past the drain time is dropped; the unfinished
  // last lines are still written.
  for (Rank& rank : ranks) {
    for (Relay& relay : rank.relays) {
      if (relay.from.get() >= 0) WriteAll(relay.to, relay.prefixer.Flush());
    }
  }
  if (!start_error.ok()) return start_error;
  LaunchResult result;
  result.exit_status = first_failure.value_or(0);
  result.stopped = stopped;
  for (const Rank& rank : ranks) {
    result.ranks.push_back(RankResult{rank.id, rank.pid, rank.exit_status, rank.signalled});
  }
  return result;
}

}  // namespace ddrr::launch
