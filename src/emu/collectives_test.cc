// Every collective against an element-by-element reference: every dtype x operator, sizes 0, 1,
// odd, multi-chunk and 16 MiB, 1..8 ranks, driven from one thread (group) or from n threads;
// each through the staging buffers and through the direct path (ranks reach each other's
// buffers), which must give the same bits.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "emu/api.h"
#include "emu/test_util.h"

namespace ddrr::emu {
namespace {

using testing::Bytes;

constexpr CollKind kAllKinds[] = {
    CollKind::kAllReduce,     CollKind::kBroadcast, CollKind::kReduce, CollKind::kAllGather,
    CollKind::kReduceScatter, CollKind::kAlltoAll,  CollKind::kGather, CollKind::kScatter};
constexpr RedOpKind kAllOps[] = {RedOpKind::kSum, RedOpKind::kProd, RedOpKind::kMax,
                                 RedOpKind::kMin, RedOpKind::kAvg,  RedOpKind::kPreMulSum};

bool IsReducing(CollKind k) {
  return k == CollKind::kAllReduce || k == CollKind::kReduce || k == CollKind::kReduceScatter;
}

struct Case {
  CollKind kind;
  DataType dtype;
  RedOpKind op;
  size_t count;
  int root;
};

std::string Name(const Case& c, int n) {
  return std::string(CollName(c.kind)) + " " + DataTypeName(c.dtype) + " " + RedOpName(c.op) +
         " count=" + std::to_string(c.count) + " root=" + std::to_string(c.root) +
         " n=" + std::to_string(n);
}

// Per-rank inputs and PreMulSum scalars (2 + rank, in the element type).
struct Inputs {
  std::vector<Bytes> data;
  std::vector<uint64_t> scalars;
};

Inputs MakeInputs(const Case& c, int n) {
  Inputs in;
  for (int r = 0; r < n; ++r) {
    in.data.push_back(
        testing::MakeInput(c.dtype, testing::InputElems(c.kind, c.count, n), r * 7919 + c.count));
    in.scalars.push_back(ScalarFromDouble(c.dtype, IsFloating(c.dtype) ? 0.5 + r : 2 + r));
  }
  return in;
}

// Issues the collective for `rank`; returns the redop handle to destroy afterwards (or -1).
Result Issue(Comm* comm, const Case& c, const Inputs& in, int rank, Bytes* out, int* handle) {
  int redop = static_cast<int>(c.op);
  *handle = -1;
  if (c.op == RedOpKind::kPreMulSum && IsReducing(c.kind)) {
    Result r = RedOpCreatePreMulSum(comm, c.dtype, &in.scalars[rank], false, handle);
    if (!r.ok()) return r;
    redop = *handle;
  }
  return Collective(comm, c.kind, in.data[rank].data(), out->data(), c.count,
                    static_cast<int>(c.dtype), redop, c.root, nullptr);
}

void ExpectOutputs(const Case& c, const Inputs& in, const std::vector<Bytes>& outs) {
  int n = static_cast<int>(outs.size());
  for (int r = 0; r < n; ++r) {
    Bytes want =
        testing::ExpectedOutput(c.kind, c.dtype, c.op, in.data, in.scalars, c.count, c.root, r);
    if (want.empty()) continue;
    ASSERT_EQ(want.size(), outs[r].size());
    ASSERT_TRUE(std::memcmp(want.data(), outs[r].data(), want.size()) == 0)
        << Name(c, n) << ": rank " << r << " differs from the reference";
  }
}

// Staged: every byte through the shared segment. Direct: every size takes the direct path.
class EmuCollectivesTest : public ::testing::TestWithParam<bool> {
 protected:
  bool direct() const { return GetParam(); }
  CommOptions Options(size_t chunk_bytes = 0) const {
    CommOptions opts;
    opts.chunk_bytes = chunk_bytes;
    opts.direct = direct() ? 1 : 0;
    opts.direct_min_bytes = 0;
    return opts;
  }
  // The path the comm settled on must be the one this run is about.
  void ExpectMode(const std::vector<Comm*>& comms) const {
    for (Comm* c : comms) {
      if (c->nranks() < 2) continue;
      EXPECT_EQ(c->direct_mode(), direct() ? Comm::DirectMode::kOn : Comm::DirectMode::kOff);
    }
  }
};

// All ranks on this thread, in one group.
void RunLocal(std::vector<Comm*>& comms, const Case& c) {
  int n = static_cast<int>(comms.size());
  SCOPED_TRACE(Name(c, n));
  Inputs in = MakeInputs(c, n);
  size_t esz = ElementSize(c.dtype);
  std::vector<Bytes> outs(n, Bytes(testing::OutputElems(c.kind, c.count, n) * esz, 0x5a));
  std::vector<int> handles(n);
  ASSERT_TRUE(GroupStart().ok());
  for (int r = 0; r < n; ++r) {
    Result res = Issue(comms[r], c, in, r, &outs[r], &handles[r]);
    ASSERT_TRUE(res.ok()) << res.message();
  }
  Result res = GroupEnd();
  ASSERT_TRUE(res.ok()) << res.message();
  for (int r = 0; r < n; ++r) {
    if (handles[r] >= 0) {
      ASSERT_TRUE(RedOpDestroy(comms[r], handles[r]).ok());
    }
  }
  ExpectOutputs(c, in, outs);
}

TEST_P(EmuCollectivesTest, EveryDtypeAndOpReducesLikeTheReference) {
  // small chunks: the odd size below spans many of them
  auto comms = testing::InitLocal(3, Options(4096));
  for (CollKind kind : {CollKind::kAllReduce, CollKind::kReduce, CollKind::kReduceScatter}) {
    for (int dt = 0; dt < kNumDataTypes; ++dt) {
      for (RedOpKind op : kAllOps) {
        for (size_t count : {size_t{1}, size_t{1001}}) {
          RunLocal(comms, {kind, static_cast<DataType>(dt), op, count, 2});
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
    }
  }
  ExpectMode(comms);
  testing::DestroyAll(comms);
}

TEST_P(EmuCollectivesTest, EveryCollectiveEveryDtypeEveryRoot) {
  auto comms = testing::InitLocal(4, Options(4096));
  for (CollKind kind : kAllKinds) {
    for (int dt = 0; dt < kNumDataTypes; ++dt) {
      for (size_t count : {size_t{0}, size_t{1}, size_t{777}, size_t{5000}}) {
        int root = (dt + static_cast<int>(count)) % 4;
        RunLocal(comms, {kind, static_cast<DataType>(dt), RedOpKind::kSum, count, root});
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
  ExpectMode(comms);
  testing::DestroyAll(comms);
}

TEST_P(EmuCollectivesTest, OneToEightRanks) {
  for (int n = 1; n <= 8; ++n) {
    auto comms = testing::InitLocal(n, Options());
    for (CollKind kind : kAllKinds) {
      RunLocal(comms, {kind, DataType::kFloat32, RedOpKind::kSum, 1237, n - 1});
      RunLocal(comms, {kind, DataType::kBfloat16, RedOpKind::kAvg, 65, 0});
      if (::testing::Test::HasFatalFailure()) return;
    }
    ExpectMode(comms);
    testing::DestroyAll(comms);
  }
}

TEST_P(EmuCollectivesTest, SixteenMiBWithDefaultChunks) {
  auto comms = testing::InitLocal(4, Options());
  size_t count = (16u << 20) / 4;
  RunLocal(comms, {CollKind::kAllReduce, DataType::kFloat32, RedOpKind::kSum, count, 0});
  RunLocal(comms, {CollKind::kReduceScatter, DataType::kFloat16, RedOpKind::kMax, count / 4, 0});
  RunLocal(comms, {CollKind::kAllGather, DataType::kInt64, RedOpKind::kSum, count / 8, 0});
  ExpectMode(comms);
  testing::DestroyAll(comms);
}

TEST_P(EmuCollectivesTest, InPlaceVariants) {
  const int n = 3;
  const size_t count = 1000;
  auto comms = testing::InitLocal(n, Options());
  // AllGather in place: each rank's input already sits at its block of the output.
  std::vector<std::vector<int32_t>> buf(n, std::vector<int32_t>(count * n, -1));
  for (int r = 0; r < n; ++r)
    for (size_t i = 0; i < count; ++i) buf[r][r * count + i] = r * 100000 + static_cast<int>(i);
  ASSERT_TRUE(GroupStart().ok());
  for (int r = 0; r < n; ++r) {
    ASSERT_TRUE(Collective(comms[r], CollKind::kAllGather, buf[r].data() + r * count, buf[r].data(),
                           count, static_cast<int>(DataType::kInt32), 0, 0, nullptr)
                    .ok());
  }
  ASSERT_TRUE(GroupEnd().ok());
  for (int r = 0; r < n; ++r)
    for (int q = 0; q < n; ++q)
      for (size_t i = 0; i < count; i += 97) ASSERT_EQ(buf[r][q * count + i], q * 100000 + (int)i);
  // AllReduce and ReduceScatter in place.
  std::vector<std::vector<int32_t>> ar(n, std::vector<int32_t>(count * n));
  for (int r = 0; r < n; ++r)
    for (size_t i = 0; i < count * n; ++i) ar[r][i] = static_cast<int>(i) + r;
  ASSERT_TRUE(GroupStart().ok());
  for (int r = 0; r < n; ++r) {
    ASSERT_TRUE(Collective(comms[r], CollKind::kReduceScatter, ar[r].data(),
                           ar[r].data() + r * count, count, static_cast<int>(DataType::kInt32), 0,
                           0, nullptr)
                    .ok());
  }
  ASSERT_TRUE(GroupEnd().ok());
  for (int r = 0; r < n; ++r)
    for (size_t i = 0; i < count; ++i)
      ASSERT_EQ(ar[r][r * count + i], 3 * static_cast<int>(r * count + i) + 3);
  // AllReduce and Broadcast in place.
  for (int r = 0; r < n; ++r)
    for (size_t i = 0; i < count; ++i) ar[r][i] = static_cast<int>(i) * (r + 1);
  ASSERT_TRUE(GroupStart().ok());
  for (int r = 0; r < n; ++r) {
    ASSERT_TRUE(Collective(comms[r], CollKind::kAllReduce, ar[r].data(), ar[r].data(), count,
                           static_cast<int>(DataType::kInt32), 0, 0, nullptr)
                    .ok());
    ASSERT_TRUE(Collective(comms[r], CollKind::kBroadcast, buf[r].data(), buf[r].data(), count,
                           static_cast<int>(DataType::kInt32), 0, /*root=*/1, nullptr)
                    .ok());
  }
  ASSERT_TRUE(GroupEnd().ok());
  for (int r = 0; r < n; ++r)
    for (size_t i = 0; i < count; ++i) {
      ASSERT_EQ(ar[r][i], 6 * static_cast<int>(i));
      ASSERT_EQ(buf[r][i], buf[1][i]);
    }
  ASSERT_EQ(buf[0][5], 5);  // rank 1's block 0 after the all-gather above
  ExpectMode(comms);
  testing::DestroyAll(comms);
}

TEST_P(EmuCollectivesTest, SeveralCollectivesPerCommInOneGroupKeepIssueOrder) {
  const int n = 3;
  auto comms = testing::InitLocal(n, Options());
  std::vector<std::vector<float>> a(n, std::vector<float>(10)), b(n, std::vector<float>(10));
  for (int r = 0; r < n; ++r)
    for (int i = 0; i < 10; ++i) {
      a[r][i] = static_cast<float>(r + 1);
      b[r][i] = static_cast<float>(10 * (r + 1));
    }
  ASSERT_TRUE(GroupStart().ok());
  for (int r = 0; r < n; ++r) {
    ASSERT_TRUE(
        Collective(comms[r], CollKind::kAllReduce, a[r].data(), a[r].data(), 10, 7, 0, 0, nullptr)
            .ok());
    ASSERT_TRUE(
        Collective(comms[r], CollKind::kAllReduce, b[r].data(), b[r].data(), 10, 7, 2, 0, nullptr)
            .ok());
  }
  ASSERT_TRUE(GroupEnd().ok());
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(a[r][3], 6.0f);
    EXPECT_EQ(b[r][3], 30.0f);
  }
  ExpectMode(comms);
  testing::DestroyAll(comms);
}

TEST_P(EmuCollectivesTest, RanksOnThreadsWithoutGroups) {
  const int n = 4;
  UniqueIdBytes id = GetUniqueId();
  std::vector<Case> cases = {
      {CollKind::kAllReduce, DataType::kFloat64, RedOpKind::kProd, 3001, 0},
      {CollKind::kAlltoAll, DataType::kUint8, RedOpKind::kSum, 999, 0},
      {CollKind::kBroadcast, DataType::kFloat8e5m2, RedOpKind::kSum, 70000, 3},
      {CollKind::kReduce, DataType::kInt32, RedOpKind::kMin, 123457, 1}};
  std::vector<Inputs> ins;
  for (const Case& c : cases) ins.push_back(MakeInputs(c, n));
  std::vector<std::vector<Bytes>> outs(cases.size(), std::vector<Bytes>(n));
  testing::RunThreads(n, [&](int rank) {
    Comm* comm = nullptr;
    Result r = CommInitRank(&comm, n, id, rank, Options());
    ASSERT_TRUE(r.ok()) << r.message();
    for (size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      outs[i][rank].assign(testing::OutputElems(c.kind, c.count, n) * ElementSize(c.dtype), 0);
      int handle;
      r = Issue(comm, c, ins[i], rank, &outs[i][rank], &handle);
      ASSERT_TRUE(r.ok()) << r.message();
    }
    ExpectMode({comm});
    CommDestroy(comm);
  });
  for (size_t i = 0; i < cases.size(); ++i) ExpectOutputs(cases[i], ins[i], outs[i]);
}

// Below the threshold a comm stages, above it goes direct; interleaved, results stay exact.
TEST(EmuCollectivesDirectTest, SmallAndLargeInterleave) {
  CommOptions opts;
  opts.direct = 1;
  opts.direct_min_bytes = 4096;
  opts.chunk_bytes = 4096;
  auto comms = testing::InitLocal(3, opts);
  for (int round = 0; round < 3; ++round) {
    for (size_t count : {size_t{10}, size_t{5000}, size_t{1023}, size_t{1024}, size_t{70000}}) {
      RunLocal(comms, {CollKind::kAllReduce, DataType::kFloat32, RedOpKind::kSum, count, 0});
      RunLocal(comms, {CollKind::kAllGather, DataType::kInt8, RedOpKind::kSum, count, 0});
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  for (Comm* c : comms) EXPECT_EQ(c->direct_mode(), Comm::DirectMode::kOn);
  testing::DestroyAll(comms);
}

// An in-place all-to-all cannot be split into disjoint shares: it stages, the comm stays direct.
TEST(EmuCollectivesDirectTest, InPlaceAlltoAllStages) {
  CommOptions opts;
  opts.direct_min_bytes = 0;
  const int n = 3;
  const size_t count = 500;
  auto comms = testing::InitLocal(n, opts);
  std::vector<std::vector<int32_t>> buf(n, std::vector<int32_t>(count * n));
  for (int r = 0; r < n; ++r)
    for (size_t i = 0; i < count * n; ++i) buf[r][i] = r * 1000000 + static_cast<int>(i);
  ASSERT_TRUE(GroupStart().ok());
  for (int r = 0; r < n; ++r) {
    ASSERT_TRUE(Collective(comms[r], CollKind::kAlltoAll, buf[r].data(), buf[r].data(), count,
                           static_cast<int>(DataType::kInt32), 0, 0, nullptr)
                    .ok());
  }
  ASSERT_TRUE(GroupEnd().ok());
  // Rank r's block q is rank q's former block r.
  for (int r = 0; r < n; ++r)
    for (int q = 0; q < n; ++q)
      for (size_t i = 0; i < count; i += 37)
        ASSERT_EQ(buf[r][q * count + i], q * 1000000 + static_cast<int>(r * count + i));
  for (Comm* c : comms) EXPECT_EQ(c->direct_mode(), Comm::DirectMode::kUntested);
  testing::DestroyAll(comms);
}

INSTANTIATE_TEST_SUITE_P(Paths, EmuCollectivesTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Direct" : "Staged";
                         });

}  // namespace
}  // namespace ddrr::emu
