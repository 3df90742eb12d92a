// Ranks as forked processes: collectives match the reference, and a killed rank makes the
// others fail early with an error that names it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "emu/api.h"
#include "emu/test_util.h"

namespace ddrr::emu {
namespace {

using testing::Bytes;

TEST(emu_Process, CollectivesAcrossProcesses) {
  const int n = 4;
  UniqueIdBytes id = GetUniqueId();
  struct Case {
    CollKind kind;
    DataType dtype;
    RedOpKind op;
    size_t count;
  };
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
      std::vector<Bytes> inputs;
      std::vector<uint64_t> scalars(n, 0);
      for (int q = 0; q < n; ++q) {
        inputs.push_back(
            testing::MakeInput(c.dtype, testing::InputElems(c.kind, c.count, n), q + 1));
      }
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

TEST(emu_Process, KilledRankIsNamedQuickly) {
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
