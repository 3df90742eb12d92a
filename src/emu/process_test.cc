// Ranks as forked processes: collectives match the reference, and a killed rank makes the
// others fail early with an error that names it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "emu/api.h"
#include "emu/test_util.h"

namespace ddrr::emu {
namespace {

using testing::Bytes;

struct Case {
  CollKind kind;
  DataType dtype;
  RedOpKind op;
  size_t count;
};

// What each rank contributes to `c`; every process computes all of them for the reference.
std::vector<Bytes> EveryRanksInput(const Case& c, int n) {
  std::vector<Bytes> inputs;
  for (int q = 0; q < n; ++q) {
    inputs.push_back(testing::MakeInput(c.dtype, testing::InputElems(c.kind, c.count, n), q + 1));
  }
  return inputs;
}

// Memory every rank process reaches through one mapping made before fork, as the host
// runtime's CUDA IPC handles let rank processes reach each other's cudaMalloc buffers.
class ArenaOps final : public MemoryOps {
 public:
  ArenaOps(char* base, size_t size, bool refuse_imports)
      : base_(base), size_(size), refuse_imports_(refuse_imports) {}
  Status Sync(void*) override { return Status::Ok(); }
  Status CopyToHost(void* dst, const void* src, size_t bytes, void* s) override {
    return HostMemoryOps()->CopyToHost(dst, src, bytes, s);
  }
  Status CopyFromHost(void* dst, const void* src, size_t bytes, void* s) override {
    return HostMemoryOps()->CopyFromHost(dst, src, bytes, s);
  }
  bool HostAccessible() const override { return true; }
  bool Export(const void* user, size_t bytes, PeerRef* ref) override {
    const char* p = static_cast<const char*>(user);
    if (p < base_ || p + bytes > base_ + size_) return false;
    ref->offset = p - base_;
    return true;
  }
  Status Import(const PeerRef& ref, size_t bytes, PeerView* view) override {
    if (refuse_imports_) return Status::Unavailable("refused by the test");
    ++imports;
    view->data = base_ + ref.offset;
    return Status::Ok();
  }
  int imports = 0;

 private:
  char* base_;
  size_t size_;
  bool refuse_imports_;
};

// Runs `cases` with each rank's buffers carved from its part of a shared arena; returns each
// rank's exit code (0 ok, 3 call failed, 4 wrong result, 5 wrong path).
std::vector<int> RunArenaCases(int n, const std::vector<Case>& cases, int refusing_rank,
                               Comm::DirectMode want_mode) {
  const size_t per_rank = size_t{64} << 20;
  char* arena = static_cast<char*>(
      mmap(nullptr, per_rank * n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  UniqueIdBytes id = GetUniqueId();
  std::vector<int> codes = testing::RunProcesses(n, [&](int rank) {
    ArenaOps ops(arena, per_rank * n, rank == refusing_rank);
    CommOptions opts;
    opts.mem = &ops;
    opts.direct = 1;
    opts.direct_min_bytes = 0;
    Comm* comm = nullptr;
    if (!CommInitRank(&comm, n, id, rank, opts).ok()) return 2;
    for (const Case& c : cases) {
      std::vector<Bytes> inputs = EveryRanksInput(c, n);
      std::vector<uint64_t> scalars(n, 0);
      char* send = arena + rank * per_rank;
      size_t out_bytes = testing::OutputElems(c.kind, c.count, n) * ElementSize(c.dtype);
      char* recv = send + per_rank / 2;
      std::memcpy(send, inputs[rank].data(), inputs[rank].size());
      std::memset(recv, 0x5a, out_bytes);
      Result r = Collective(comm, c.kind, send, recv, c.count, static_cast<int>(c.dtype),
                            static_cast<int>(c.op), 1, nullptr);
      if (!r.ok()) return 3;
      Bytes want =
          testing::ExpectedOutput(c.kind, c.dtype, c.op, inputs, scalars, c.count, 1, rank);
      if (!want.empty() && std::memcmp(want.data(), recv, want.size()) != 0) return 4;
    }
    if (comm->direct_mode() != want_mode) return 5;
    if (want_mode == Comm::DirectMode::kOn && ops.imports == 0) return 5;
    CommDestroy(comm);
    return 0;
  });
  munmap(arena, per_rank * n);
  return codes;
}

const std::vector<Case> kArenaCases = {
    {CollKind::kAllReduce, DataType::kFloat32, RedOpKind::kSum, 3000001},
    {CollKind::kAllReduce, DataType::kFloat16, RedOpKind::kAvg, 4097},
    {CollKind::kReduce, DataType::kInt32, RedOpKind::kProd, 5001},
    {CollKind::kReduceScatter, DataType::kInt64, RedOpKind::kMax, 100003},
    {CollKind::kAllGather, DataType::kUint8, RedOpKind::kSum, 1},
    {CollKind::kBroadcast, DataType::kFloat8e4m3, RedOpKind::kSum, 70001},
    {CollKind::kAlltoAll, DataType::kBfloat16, RedOpKind::kSum, 9999},
    {CollKind::kGather, DataType::kFloat64, RedOpKind::kSum, 333},
    {CollKind::kScatter, DataType::kFloat64, RedOpKind::kSum, 333}};

TEST(EmuProcessTest, DirectCollectivesAcrossProcesses) {
  std::vector<int> codes = RunArenaCases(4, kArenaCases, -1, Comm::DirectMode::kOn);
  for (int r = 0; r < 4; ++r) EXPECT_EQ(codes[r], 0) << "rank " << r;
}

// One rank cannot map its peers' buffers: the first collective's vote turns direct off on
// every rank, and everything still arrives through staging.
TEST(EmuProcessTest, FailedMappingVotesDirectOffEverywhere) {
  std::vector<int> codes = RunArenaCases(3, kArenaCases, 2, Comm::DirectMode::kOff);
  for (int r = 0; r < 3; ++r) EXPECT_EQ(codes[r], 0) << "rank " << r;
}

TEST(EmuProcessTest, CollectivesAcrossProcesses) {
  const int n = 4;
  UniqueIdBytes id = GetUniqueId();
  const Case cases[] = {{CollKind::kAllReduce, DataType::kFloat32, RedOpKind::kSum, 3000001},
                        {CollKind::kAllReduce, DataType::kFloat16, RedOpKind::kAvg, 4097},
                        {CollKind::kReduceScatter, DataType::kInt64, RedOpKind::kMax, 100003},
                        {CollKind::kAllGather, DataType::kUint8, RedOpKind::kSum, 1},
                        {CollKind::kAlltoAll, DataType::kBfloat16, RedOpKind::kSum, 9999},
                        {CollKind::kScatter, DataType::kFloat64, RedOpKind::kSum, 333}};
  std::vector<int> codes = testing::RunProcesses(n, [&](int rank) {
    Comm* comm = nullptr;
    if (!CommInitRank(&comm, n, id, rank, {}).ok()) return 2;
    for (const Case& c : cases) {
      std::vector<Bytes> inputs = EveryRanksInput(c, n);
      std::vector<uint64_t> scalars(n, 0);
      Bytes out(testing::OutputElems(c.kind, c.count, n) * ElementSize(c.dtype));
      Result r = Collective(comm, c.kind, inputs[rank].data(), out.data(), c.count,
                            static_cast<int>(c.dtype), static_cast<int>(c.op), 1, nullptr);
      if (!r.ok()) return 3;
      Bytes want =
          testing::ExpectedOutput(c.kind, c.dtype, c.op, inputs, scalars, c.count, 1, rank);
      if (!want.empty() && want != out) return 4;
    }
    CommDestroy(comm);
    return 0;
  });
  for (int r = 0; r < n; ++r) EXPECT_EQ(codes[r], 0) << "rank " << r;
}

TEST(EmuProcessTest, KilledRankIsNamedQuickly) {
  const int n = 3;
  UniqueIdBytes id = GetUniqueId();
  // Rank 2 joins and is killed before the first collective; ranks 0 and 1 must name it well
  // before their 20 s timeout (the liveness check sees the dead pid).
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t victim = fork();
  if (victim == 0) {
    Comm* c = nullptr;
    if (!CommInitRank(&c, n, id, 2, {}).ok()) _exit(2);
    char ok = 1;
    if (write(fds[1], &ok, 1) != 1) _exit(3);
    pause();
    _exit(0);
  }
  CommOptions opts;
  opts.timeout_s = 20;
  std::vector<pid_t> survivors;
  for (int rank = 0; rank < 2; ++rank) {
    pid_t pid = fork();
    if (pid == 0) {
      alarm(30);
      Comm* c = nullptr;
      Result r = CommInitRank(&c, n, id, rank, opts);
      if (r.ok()) {
        float x = 1;
        r = Collective(c, CollKind::kAllReduce, &x, &x, 1, static_cast<int>(DataType::kFloat32), 0,
                       0, nullptr);
      }
      if (r.code() != Code::kRemoteError) _exit(3);
      if (r.message().find("rank 2 (pid " + std::to_string(victim) + ") exited") ==
          std::string::npos) {
        _exit(4);
      }
      _exit(0);
    }
    survivors.push_back(pid);
  }
  char ok = 0;
  ASSERT_EQ(read(fds[0], &ok, 1), 1);
  usleep(200000);
  auto start = std::chrono::steady_clock::now();
  kill(victim, SIGKILL);
  waitpid(victim, nullptr, 0);
  for (pid_t pid : survivors) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(secs, 5);
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace ddrr::emu
