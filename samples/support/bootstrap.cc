#include "support/bootstrap.h"

#include <cuda_runtime_api.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "support/check.h"

namespace ddrr_samples {
namespace {

using Clock = std::chrono::system_clock;

// Files written more than this long before the process started belong to an earlier run with
// the same job key (rank 0 of that run died before retiring its id); readers skip them.
constexpr auto kStaleAfter = std::chrono::seconds(60);
constexpr int kDefaultTimeoutSeconds = 120;
// Magic + id: a short or foreign file is never mistaken for an id.
constexpr char kMagic[8] = {'D', 'D', 'R', 'R', 'I', 'D', '0', '1'};

const Clock::time_point kProcessStart = Clock::now();

// Ids rank 0 published and has not retired yet. A rank 0 that exits early (an error, a fault)
// takes the job down anyway, because NCCL's bootstrap root lives in its process: so its files
// are removed at exit too, and failed runs leave nothing behind.
std::vector<std::string>& Published() {
  static std::vector<std::string> paths;
  return paths;
}

void RemovePublished() {
  for (const std::string& path : Published()) unlink(path.c_str());
  const char* dir = getenv("DDRR_SAMPLE_BOOTSTRAP_DIR");
  if (!Published().empty() && (dir == nullptr || *dir == '\0')) rmdir(BootstrapDir().c_str());
}

// Reads an integer environment variable. Returns false when unset; exits 2 when malformed,
// because a wrong rank is far more confusing later than a clear message now.
bool EnvInt(const char* name, int* value) {
  const char* text = getenv(name);
  if (text == nullptr || *text == '\0') return false;
  errno = 0;
  char* end = nullptr;
  long parsed = strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || parsed < 0 || parsed > (1 << 30)) {
    fprintf(stderr, "%s=%s is not a non-negative integer\n", name, text);
    exit(kExitUsage);
  }
  *value = static_cast<int>(parsed);
  return true;
}

[[noreturn]] void DieErrno(const std::string& what, const std::string& path) {
  fprintf(stderr, "%s%s %s: %s\n", LogPrefix(), what.c_str(), path.c_str(), strerror(errno));
  exit(kExitFailure);
}

std::string IdPath(const std::string& name) { return BootstrapDir() + "/nccl-id-" + name; }

// DDRR_SAMPLE_KEEP_ID=1: the published id stays (never retired, never stale), so a rank re-run
// on its own later (ddrr's application replay) finds the id its job used.
bool KeepId() {
  const char* keep = getenv("DDRR_SAMPLE_KEEP_ID");
  return keep != nullptr && *keep != '\0' && strcmp(keep, "0") != 0;
}

int TimeoutSeconds() {
  int seconds = kDefaultTimeoutSeconds;
  EnvInt("DDRR_SAMPLE_BOOTSTRAP_TIMEOUT", &seconds);
  return seconds;
}

void PublishId(const std::string& path, const ncclUniqueId& id) {
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), error);
  if (error) {
    fprintf(stderr, "%scannot create directory for %s: %s\n", LogPrefix(), path.c_str(),
            error.message().c_str());
    exit(kExitFailure);
  }
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) DieErrno("cannot create", tmp);
  char buffer[sizeof(kMagic) + sizeof(id)];
  memcpy(buffer, kMagic, sizeof(kMagic));
  memcpy(buffer + sizeof(kMagic), &id, sizeof(id));
  if (write(fd, buffer, sizeof(buffer)) != static_cast<ssize_t>(sizeof(buffer))) {
    DieErrno("cannot write", tmp);
  }
  if (close(fd) != 0) DieErrno("cannot close", tmp);
  if (rename(tmp.c_str(), path.c_str()) != 0) DieErrno("cannot rename into place", path);
}

// Returns true and fills `id` when `path` holds a complete id from this run.
bool TryReadId(const std::string& path, ncclUniqueId* id, bool* saw_stale) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return false;
  auto written = Clock::from_time_t(st.st_mtim.tv_sec);
  if (written + kStaleAfter < kProcessStart && !KeepId()) {
    *saw_stale = true;
    return false;
  }
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;  // replaced between stat and open: try again
  char buffer[sizeof(kMagic) + sizeof(*id) + 1];
  ssize_t got = read(fd, buffer, sizeof(buffer));
  close(fd);
  if (got != static_cast<ssize_t>(sizeof(kMagic) + sizeof(*id)) ||
      memcmp(buffer, kMagic, sizeof(kMagic)) != 0) {
    return false;
  }
  memcpy(id, buffer + sizeof(kMagic), sizeof(*id));
  return true;
}

}  // namespace

std::string BootstrapDir() {
  if (const char* dir = getenv("DDRR_SAMPLE_BOOTSTRAP_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  std::string key;
  const char* job = getenv("DDRR_SAMPLE_JOB");
  const char* port = getenv("MASTER_PORT");
  const char* addr = getenv("MASTER_ADDR");
  if (job != nullptr && *job != '\0') {
    key = job;
  } else if (port != nullptr && *port != '\0') {
    key = std::string(addr != nullptr ? addr : "localhost") + "-" + port;
  } else {
    key = "ppid-" + std::to_string(getppid());
  }
  // The key comes from the environment: keep it to one safe path component.
  for (char& c : key) {
    if (c == '/' || c == '\0' || c == ' ') c = '_';
  }
  return "/tmp/ddrr-samples-" + std::to_string(getuid()) + "/" + key;
}

JobInfo DetectJob() {
  struct Source {
    const char* rank;
    const char* size;
  };
  constexpr Source kSources[] = {{"RANK", "WORLD_SIZE"},
                                 {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
                                 {"PMI_RANK", "PMI_SIZE"},
                                 {"SLURM_PROCID", "SLURM_NTASKS"},
                                 // A launcher ddrr does not know (tests of rank detection).
                                 {"DDRR_SAMPLE_RANK", "DDRR_SAMPLE_WORLD_SIZE"}};
  JobInfo job;
  job.source = "none (single rank)";
  for (const Source& source : kSources) {
    if (!EnvInt(source.rank, &job.rank)) continue;
    if (!EnvInt(source.size, &job.world_size)) {
      fprintf(stderr, "%s is set but %s is not\n", source.rank, source.size);
      exit(kExitUsage);
    }
    job.source = std::string(source.rank) + "/" + source.size;
    break;
  }
  if (job.world_size < 1 || job.rank >= job.world_size) {
    fprintf(stderr, "rank %d is not in a world of %d (from %s)\n", job.rank, job.world_size,
            job.source.c_str());
    exit(kExitUsage);
  }
  job.local_rank = job.rank;
  job.local_world_size = job.world_size;
  for (const char* name :
       {"LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) {
    if (EnvInt(name, &job.local_rank)) break;
  }
  for (const char* name : {"LOCAL_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"}) {
    if (EnvInt(name, &job.local_world_size)) break;
  }
  return job;
}

int SelectDevice(const JobInfo& job, bool duplicate_device) {
  int count = 0;
  CUDA_CHECK(cudaGetDeviceCount(&count));
  if (count < 1) {
    fprintf(stderr, "%sno CUDA device visible\n", LogPrefix());
    exit(kExitFailure);
  }
  int device = job.local_rank % count;
  if (duplicate_device) device = job.local_rank % count == 0 ? 1 % count : 0;
  CUDA_CHECK(cudaSetDevice(device));
  return device;
}

ncclUniqueId ShareUniqueId(const JobInfo& job, const std::string& name,
                           const std::function<ncclUniqueId()>& create) {
  ncclUniqueId id;
  const std::string path = IdPath(name);
  if (job.rank == 0) {
    // Clear any id left by an earlier run first, so that a fast reader cannot take it.
    if (unlink(path.c_str()) != 0 && errno != ENOENT) DieErrno("cannot remove stale", path);
    id = create();
    PublishId(path, id);
    if (KeepId()) return id;
    if (Published().empty()) atexit(RemovePublished);
    Published().push_back(path);
    return id;
  }
  const int timeout = TimeoutSeconds();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
  bool saw_stale = false;
  while (!TryReadId(path, &id, &saw_stale)) {
    if (std::chrono::steady_clock::now() > deadline) {
      fprintf(stderr,
              "%stimed out after %d s waiting for rank 0 to publish the NCCL unique id in %s%s.\n"
              "  Is rank 0 running, with the same job key (DDRR_SAMPLE_JOB, MASTER_ADDR/"
              "MASTER_PORT, or the same parent process)? Ranks on different hosts need "
              "DDRR_SAMPLE_BOOTSTRAP_DIR on a shared filesystem.\n",
              LogPrefix(), timeout, path.c_str(),
              saw_stale ? " (only a stale file from an earlier run was there)" : "");
      exit(kExitFailure);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return id;
}

void RetireUniqueId(const JobInfo& job, const std::string& name) {
  if (job.rank != 0 || KeepId()) return;
  const std::string path = IdPath(name);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) DieErrno("cannot remove", path);
  std::erase(Published(), path);
  // Also drop the per-job directory we derived, once empty (a failure just means it is not).
  const char* dir = getenv("DDRR_SAMPLE_BOOTSTRAP_DIR");
  if (dir == nullptr || *dir == '\0') rmdir(BootstrapDir().c_str());
}

}  // namespace ddrr_samples
