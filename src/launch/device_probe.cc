#include "launch/device_probe.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace ddrr::launch {
namespace {

// CUDA 13's values (driver_types.h); this file stays free of CUDA headers.
constexpr int kCudaErrorInsufficientDriver = 35;
constexpr int kCudaErrorNoDevice = 100;

// What the child reports through the pipe.
struct Answer {
  int stage = 0;  // kNotLoaded, kCallFailed or kCounted
  int error = 0;
  int count = 0;
  char text[400] = {0};
};
constexpr int kNotLoaded = 1;
constexpr int kCallFailed = 2;
constexpr int kCounted = 3;

using GetDeviceCountFn = int (*)(int*);
using ErrorTextFn = const char* (*)(int);

// In the child. dlvsym with the runtime's version node, not dlsym: a recorder preloaded by
// `ddrr record` hooks dlsym and would hand back its wrapper, which would start recording the
// probe as a rank of the job.
Answer Ask(const std::string& cudart) {
  Answer answer;
  void* handle = dlopen(cudart.c_str(), RTLD_NOW | RTLD_LOCAL);
  auto count_fn = handle != nullptr ? reinterpret_cast<GetDeviceCountFn>(
                                          dlvsym(handle, "cudaGetDeviceCount", "libcudart.so.13"))
                                    : nullptr;
  if (count_fn == nullptr) {
    answer.stage = kNotLoaded;
    const char* why = dlerror();
    snprintf(answer.text, sizeof(answer.text), "%s",
             why != nullptr ? why : "no cudaGetDeviceCount");
    return answer;
  }
  answer.error = count_fn(&answer.count);
  if (answer.error == 0) {
    answer.stage = kCounted;
    return answer;
  }
  answer.stage = kCallFailed;
  auto name = reinterpret_cast<ErrorTextFn>(dlvsym(handle, "cudaGetErrorName", "libcudart.so.13"));
  auto text =
      reinterpret_cast<ErrorTextFn>(dlvsym(handle, "cudaGetErrorString", "libcudart.so.13"));
  snprintf(answer.text, sizeof(answer.text), "%s (%s)", text ? text(answer.error) : "error",
           name ? name(answer.error) : "?");
  return answer;
}

std::string Advice(int error) {
  if (error == kCudaErrorInsufficientDriver) {
    return "; no usable NVIDIA driver on this machine (install one that supports CUDA 13)";
  }
  if (error == kCudaErrorNoDevice) {
    return "; no device is visible (check CUDA_VISIBLE_DEVICES, or DDRR_HOST_DEVICES on the host "
           "runtime)";
  }
  return "";
}

}  // namespace

StatusOr<int> ProbeDeviceCount(const std::string& cudart, double timeout_seconds) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(fds[0]);
    close(fds[1]);
    return Status::FromErrno("fork", err);
  }
  if (pid == 0) {
    close(fds[0]);
    Answer answer = Ask(cudart);
    [[maybe_unused]] ssize_t ignored = write(fds[1], &answer, sizeof(answer));
    _exit(0);  // no atexit handlers, no CUDA teardown: the parent has what it needs
  }
  close(fds[1]);
  Answer answer;
  size_t got = 0;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(timeout_seconds));
  bool timed_out = false;
  while (got < sizeof(answer)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fd = {fds[0], POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = read(fds[0], reinterpret_cast<char*>(&answer) + got, sizeof(answer) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string who = "asking " + cudart + " for the device count";
  if (timed_out) {
    return Status::Unavailable(who + " took longer than " +
                               std::to_string(static_cast<int>(timeout_seconds)) +
                               " s; is the GPU or its driver stuck?");
  }
  if (got < sizeof(answer)) {
    return Status::Unavailable(who + ": the probe process died (status " + std::to_string(status) +
                               ")");
  }
  answer.text[sizeof(answer.text) - 1] = '\0';
  switch (answer.stage) {
    case kCounted:
      return answer.count;
    case kNotLoaded:
      return Status::Unavailable(std::string("cannot load the CUDA runtime ") + cudart + " (" +
                                 answer.text + "); install CUDA 13 or put it on LD_LIBRARY_PATH");
    default:
      return Status::Unavailable("cudaGetDeviceCount failed: " + std::string(answer.text) +
                                 Advice(answer.error));
  }
}

Status CheckRanksFit(int nranks, int ranks_per_gpu, int devices) {
  if (ranks_per_gpu > 0 && static_cast<long>(devices) * ranks_per_gpu >= nranks) {
    return Status::Ok();
  }
  const int needed = ranks_per_gpu > 0 ? (nranks + ranks_per_gpu - 1) / ranks_per_gpu : nranks;
  return Status::InvalidArgument(
      std::to_string(nranks) + " ranks at " + std::to_string(ranks_per_gpu) + " per GPU need " +
      std::to_string(needed) + " device" + (needed == 1 ? "" : "s") + ", but " +
      std::to_string(devices) + (devices == 1 ? " is" : " are") +
      " visible; lower -n, raise --ranks-per-gpu, or make more devices visible");
}

Status CheckPlacement(const LaunchOptions& options, double timeout_seconds) {
  const std::string cudart =
      options.host_runtime ? options.hostrt_dir + "/libcudart.so.13" : "libcudart.so.13";
  DDRR_ASSIGN_OR_RETURN(int devices, ProbeDeviceCount(cudart, timeout_seconds));
  return CheckRanksFit(options.nranks, std::max(options.ranks_per_gpu, 1), devices);
}

}  // namespace ddrr::launch
