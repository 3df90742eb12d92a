// DiffRank on two traces of rank 0 written call by call: what two runs of one program do not
// share compares equal, a change of behaviour is found at its event.
#include "analysis/event_diff.h"

#include <gtest/gtest.h>

#include "analysis/test_trace.h"
#include "spec/api_encode.h"
#include "trace/test_util.h"

namespace ddrr::analysis {
namespace {

using testing::kFloat16;
using testing::kFloat32;
using testing::kInt32;
using testing::RankTrace;

constexpr int kHostToDevice = 1;
constexpr int kMax = 2;  // ncclMax

// One small training-like program. The first group of fields are what differ between two runs
// of it; the second its behaviour, which a test changes.
struct Program {
  uint64_t device_buffer = 0x7f0000000000;
  uint64_t host_buffer = 0x550000001000;
  uint64_t comm = 0x55d000;
  uint64_t stream = 0x5000;
  uint64_t key = 0xaaaa000000000001;
  std::string unique_id = "run one";
  bool late_completions = false;  // completions seen after the polls instead of before
  int polls = 1;                  // ncclCommGetAsyncError calls per step
  bool extra_cuda = false;        // one more stream and allocation that no NCCL call uses

  uint64_t count = 1024;
  int dtype = kFloat32;
  int op = testing::kSum;
  int root = 0;
  int peer = 1;
  uint64_t recv_offset = 0x1000;  // of the all-reduce output in the allocation
  int64_t last_result = 0;        // of the last all-reduce
  int steps = 3;
  bool digests = false;
  int diverge_step = -1;        // output digests differ from this step on
  bool query_after_op = false;  // a cudaStreamQuery follows each all-reduce
  bool late_digests = false;    // ... and the poller wrote the digests after it

  RankTrace Trace() const {
    RankTrace t(0, 2);
    if (digests) t.SetDigests();
    t.SetDevice(0);
    if (extra_cuda) {
      t.Call({}, 0, [&](auto& e) { trace::EncodeCudaStreamCreate(e, stream + 0x100); });
      t.Call({}, 0, [&](auto& e) { trace::EncodeCudaMalloc(e, device_buffer + (1 << 24), 64); });
    }
    t.Call({}, 0, [&](auto& e) { trace::EncodeCudaStreamCreate(e, stream); });
    t.Call({}, 0, [&](auto& e) { trace::EncodeCudaMalloc(e, device_buffer, 1 << 20); });
    t.InitRank(comm, key, 2, unique_id, 0);
    t.Op(comm, 0, [&](auto& e) {
      trace::EncodeNcclBroadcast(e, device_buffer, device_buffer, count, dtype, root, comm, stream);
    });
    for (int s = 0; s < steps; ++s) {
      t.Call({}, 0, [&](auto& e) {
        trace::EncodeCudaMemcpy(e, device_buffer, host_buffer + 64 * s, 4 * count, kHostToDevice);
      });
      const int64_t result = s == steps - 1 ? last_result : 0;
      const uint64_t seq = t.Op(comm, result, [&](auto& e) {
        trace::EncodeNcclAllReduce(e, device_buffer, device_buffer + recv_offset, count, dtype, op,
                                   comm, stream);
      });
      auto write_digests = [&, s, seq] {
        t.Digest(seq, 0, 0x1000 + s);
        t.Digest(seq, 1, (diverge_step >= 0 && s >= diverge_step ? 0xbad0 : 0x2000) + s);
      };
      if (digests && !late_digests) write_digests();
      if (query_after_op) t.Call({}, 0, [&](auto& e) { trace::EncodeCudaStreamQuery(e, stream); });
      if (digests && late_digests) write_digests();
      if (!late_completions) t.Completion(seq);
      for (int p = 0; p < polls; ++p) t.AsyncError(comm, 0);
      if (late_completions) t.Completion(seq);
    }
    t.GroupStart();
    t.Op(comm, 0, [&](auto& e) {
      trace::EncodeNcclSend(e, device_buffer, count, dtype, peer, comm, stream);
    });
    t.Op(comm, 0, [&](auto& e) {
      trace::EncodeNcclRecv(e, device_buffer, count, dtype, peer, comm, stream);
    });
    t.GroupEnd();
    return t;
  }
};

// The same program as run again: every value of the run differs, no behaviour does.
Program Rerun() {
  Program p;
  p.device_buffer = 0x7e1230000000;
  p.host_buffer = 0x560000042000;
  p.comm = 0x61f000;
  p.stream = 0x9000;
  p.key = 0xbbbb000000000002;
  p.unique_id = "run two";
  p.late_completions = true;
  return p;
}

class EventDiffTest : public ::testing::Test {
 protected:
  RankDiff Diff(const Program& a, const Program& b, DiffOptions options = {}) {
    return Diff(a.Trace(), b.Trace(), options);
  }
  RankDiff Diff(const RankTrace& a, const RankTrace& b, DiffOptions options = {}) {
    EXPECT_TRUE(a.Write(a_.path()).ok());
    EXPECT_TRUE(b.Write(b_.path()).ok());
    auto ra = trace::RankFileReader::Open(a_.File("rank-0.ddrr"));
    auto rb = trace::RankFileReader::Open(b_.File("rank-0.ddrr"));
    EXPECT_TRUE(ra.ok() && rb.ok());
    return DiffRank(**ra, **rb, 0, options);
  }
  static DiffOptions Nccl() {
    DiffOptions o;
    o.scope = DiffScope::kNccl;
    return o;
  }

  trace::testing::TempDir a_, b_;
};

bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST_F(EventDiffTest, SameProgramTwiceHasNoDifference) {
  const RankDiff d = Diff(Program{}, Program{});
  EXPECT_FALSE(d.differs());
  EXPECT_FALSE(d.digests_only_in);
  // SetDevice, stream, malloc, init, broadcast, 3 x (memcpy, all-reduce, poll), group of 4.
  EXPECT_EQ(d.events_compared, 18u);
  EXPECT_EQ(FormatRankDiff(d, "a", "b"), "");
}

TEST_F(EventDiffTest, AddressesHandlesKeysIdsAndCompletionsOfARunCompareEqual) {
  const RankDiff d = Diff(Program{}, Rerun());
  EXPECT_FALSE(d.differs()) << FormatRankDiff(d, "a", "b");
  EXPECT_EQ(d.events_compared, 18u);
}

TEST_F(EventDiffTest, ChangedArgumentIsFoundAtItsEventWithTheEventsBefore) {
  Program b = Rerun();
  b.root = 1;
  const RankDiff d = Diff(Program{}, b);
  ASSERT_TRUE(d.structure);
  EXPECT_FALSE(d.data);
  EXPECT_EQ(d.structure->index, 5u);
  EXPECT_EQ(d.events_compared, 4u);
  ASSERT_TRUE(d.structure->a && d.structure->b);
  EXPECT_TRUE(Has(d.structure->a->line, "ncclBroadcast(")) << d.structure->a->line;
  EXPECT_TRUE(Has(d.structure->a->line, "root=0"));
  EXPECT_TRUE(Has(d.structure->b->line, "root=1"));
  EXPECT_EQ(d.structure->a->seq, 5u);
  EXPECT_EQ(d.structure->a->comm_ordinal, 1u);
  EXPECT_EQ(d.structure->b->comm_ordinal, 1u);
  ASSERT_EQ(d.structure->context.size(), 3u);
  EXPECT_TRUE(Has(d.structure->context[0], "cudaStreamCreate("));
  EXPECT_TRUE(Has(d.structure->context[1], "cudaMalloc("));
  EXPECT_TRUE(Has(d.structure->context[2], "ncclCommInitRank("));

  DiffOptions one;
  one.context = 1;
  const RankDiff d1 = Diff(Program{}, b, one);
  ASSERT_TRUE(d1.structure);
  ASSERT_EQ(d1.structure->context.size(), 1u);
  EXPECT_TRUE(Has(d1.structure->context[0], "ncclCommInitRank("));
}

TEST_F(EventDiffTest, PointersCompareByAllocationAndOffset) {
  Program b = Rerun();
  b.recv_offset = 0x2000;
  const RankDiff d = Diff(Program{}, b);
  ASSERT_TRUE(d.structure);
  EXPECT_TRUE(Has(d.structure->a->line, "recvbuff=alloc1+0x1000")) << d.structure->a->line;
  EXPECT_TRUE(Has(d.structure->b->line, "recvbuff=alloc1+0x2000"));
}

TEST_F(EventDiffTest, CommunicatorKeysCompareByOrderOfAppearance) {
  // The handle is reused for a second communicator in a and c; b rejoins the first one.
  RankTrace a(0, 2), b(0, 2), c(0, 2);
  for (RankTrace* t : {&a, &b, &c}) {
    t->InitRank(0x10, t == &a ? 0x1111 : 0x3333, 2, "x", 0);
    t->AllReduce(0x10, 8);
  }
  a.InitRank(0x10, 0x2222, 2, "y", 0);
  b.InitRank(0x10, 0x3333, 2, "y", 0);
  c.InitRank(0x10, 0x4444, 2, "y", 0);
  for (RankTrace* t : {&a, &b, &c}) t->AllReduce(0x10, 8);
  EXPECT_FALSE(Diff(a, c).differs());
  const RankDiff d = Diff(a, b);
  ASSERT_TRUE(d.structure);
  EXPECT_EQ(d.structure->index, 3u);
  EXPECT_EQ(d.structure->a->comm_ordinal, 2u);
  EXPECT_EQ(d.structure->b->comm_ordinal, 1u);
}

TEST_F(EventDiffTest, EntropyComparesBySourceAndLength) {
  RankTrace a(0, 1), b(0, 1), c(0, 1);
  a.Entropy("0123456789abcdef");
  b.Entropy("fedcba9876543210");
  c.Entropy("0123456789abcdef!");
  EXPECT_FALSE(Diff(a, b).differs());
  const RankDiff d = Diff(a, c);
  ASSERT_TRUE(d.structure);
  EXPECT_TRUE(Has(d.structure->b->line, "entropy getrandom 17 bytes"));
}

TEST_F(EventDiffTest, OneTraceEndingEarlyIsADifference) {
  Program b;
  b.steps = 2;
  const RankDiff d = Diff(Program{}, b);
  ASSERT_TRUE(d.structure);
  EXPECT_TRUE(Has(d.structure->a->line, "cudaMemcpy(")) << d.structure->a->line;
  EXPECT_TRUE(Has(d.structure->b->line, "ncclGroupStart("));

  RankTrace shorter = Program{}.Trace();
  RankTrace longer = Program{}.Trace();
  longer.AsyncError(Program{}.comm, 0);
  const RankDiff e = Diff(shorter, longer);
  ASSERT_TRUE(e.structure);
  EXPECT_FALSE(e.structure->a);
  ASSERT_TRUE(e.structure->b);
  EXPECT_TRUE(Has(e.structure->b->line, "ncclCommGetAsyncError("));
  EXPECT_TRUE(Has(FormatRankDiff(e, "a", "b"), "\n  A (no more events)\n"));
}

// A rank still running has not got as far as the other side yet: the same up to its last event
// is no difference, whichever side it is; a difference before that still is one.
TEST_F(EventDiffTest, RankStillRunningIsComparedUpToItsLastEvent) {
  RankTrace longer = Program{}.Trace();
  longer.AsyncError(Program{}.comm, 0);
  longer.AsyncError(Program{}.comm, 0);
  RankTrace live = Program{}.Trace();
  live.SetLive();
  const RankDiff d = Diff(live, longer);
  EXPECT_FALSE(d.differs());
  ASSERT_TRUE(d.still_running);
  EXPECT_EQ(*d.still_running, Side::kA);
  EXPECT_GT(d.events_compared, 10u);
  const RankDiff e = Diff(longer, live);
  EXPECT_FALSE(e.differs());
  ASSERT_TRUE(e.still_running);
  EXPECT_EQ(*e.still_running, Side::kB);

  Program changed;
  changed.count = 99;
  EXPECT_TRUE(Diff(live, changed.Trace()).structure);
  // Ended (not live), the shorter trace is a difference as before.
  EXPECT_TRUE(Diff(Program{}.Trace(), longer).structure);
}

TEST_F(EventDiffTest, NcclScopeIgnoresCudaCallsPointersAndPolls) {
  Program b = Rerun();
  b.extra_cuda = true;  // the NCCL calls' stream is stream2 in b's whole trace
  b.recv_offset = 0x3000;
  b.polls = 4;
  EXPECT_TRUE(Diff(Program{}, b).differs());
  const RankDiff d = Diff(Program{}, b, Nccl());
  EXPECT_FALSE(d.differs()) << FormatRankDiff(d, "a", "b");
  // InitRank, broadcast, 3 all-reduces, group of 4.
  EXPECT_EQ(d.events_compared, 9u);
}

TEST_F(EventDiffTest, NcclScopeLeavesPointersOut) {
  // No allocation is in scope, so only a NULL buffer would still tell pointers apart.
  RankTrace a(0, 2), b(0, 2);
  for (RankTrace* t : {&a, &b}) {
    t->InitRank(0x10, 0x1111, 2, "x", 0);
    const uint64_t send = t == &a ? 0x7f0000001000 : 0;
    t->Op(0x10, 0, [&](auto& e) {
      trace::EncodeNcclAllReduce(e, send, 0x7f0000002000, 8, kFloat32, testing::kSum, 0x10, 0x5);
    });
  }
  EXPECT_TRUE(Diff(a, b).differs());
  EXPECT_FALSE(Diff(a, b, Nccl()).differs());
}

TEST_F(EventDiffTest, NcclScopeFindsEveryChangeOfCommunication) {
  struct Case {
    const char* what;
    void (*change)(Program&);
    const char* a_has;  // in A's line of the differing event
  };
  const Case cases[] = {
      {"count", [](Program& p) { p.count = 2048; }, "ncclBroadcast("},
      {"datatype", [](Program& p) { p.dtype = kFloat16; }, "ncclBroadcast("},
      {"root", [](Program& p) { p.root = 1; }, "ncclBroadcast("},
      {"op", [](Program& p) { p.op = kMax; }, "ncclAllReduce("},
      {"result", [](Program& p) { p.last_result = 6; }, "= ncclSuccess"},
      {"missing collective", [](Program& p) { p.steps = 2; }, "ncclAllReduce("},
      {"peer", [](Program& p) { p.peer = 0; }, "ncclSend("},
  };
  for (const Case& c : cases) {
    Program b = Rerun();
    c.change(b);
    const RankDiff d = Diff(Program{}, b, Nccl());
    ASSERT_TRUE(d.structure) << c.what;
    ASSERT_TRUE(d.structure->a && d.structure->b) << c.what;
    EXPECT_TRUE(Has(d.structure->a->line, c.a_has)) << c.what << ": " << d.structure->a->line;
  }
}

TEST_F(EventDiffTest, NcclScopeNumbersHandlesAmongNcclCallsOnly) {
  // In b the communicator is the second one created, the first one is only queried for its
  // errors, which the scope leaves out.
  RankTrace a(0, 2), b(0, 2);
  a.InitRank(0x10, 0x1111, 2, "x", 0);
  a.AllReduce(0x10, 8, kInt32);
  b.AsyncError(0x99, 0);
  b.InitRank(0x10, 0x3333, 2, "x", 0);
  b.AllReduce(0x10, 8, kInt32);
  EXPECT_TRUE(Diff(a, b).differs());
  EXPECT_FALSE(Diff(a, b, Nccl()).differs());
}

TEST_F(EventDiffTest, FirstDataDifferenceIsReportedWithItsCall) {
  Program a, b = Rerun();
  a.digests = b.digests = true;
  b.diverge_step = 1;
  const RankDiff d = Diff(a, b);
  EXPECT_FALSE(d.structure);
  ASSERT_TRUE(d.data);
  EXPECT_TRUE(d.differs());
  // The second all-reduce's output digest, named by its call: the 10th event compared (5 setup
  // events, 3 per step; digests are compared on the side).
  EXPECT_EQ(d.data->index, 10u);
  EXPECT_EQ(d.data->a.value(), 0x2001u);
  EXPECT_EQ(d.data->b.value(), 0xbad1u);
  EXPECT_TRUE(Has(d.data->call_line, "ncclAllReduce(")) << d.data->call_line;
  EXPECT_TRUE(Has(d.data->call_line, " op 3]"));
  const std::string text = FormatRankDiff(d, "a", "b");
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "rank 0: first data difference at event 10: output digest of #" +
                std::to_string(d.data->a.call_seq()));
  EXPECT_TRUE(Has(text, "\n  A 0x2001 (4096 bytes)\n  B 0xbad1 (4096 bytes)\n")) << text;

  // Communication only: digests are left out.
  EXPECT_FALSE(Diff(a, b, Nccl()).differs());
}

TEST_F(EventDiffTest, DigestsCompareWhereverThePollerWroteThem) {
  Program a, b = Rerun();
  a.digests = b.digests = true;
  a.query_after_op = b.query_after_op = true;
  b.late_digests = true;  // same program, digests written at another point of the stream
  EXPECT_FALSE(Diff(a, b).differs());
  b.diverge_step = 2;
  const RankDiff d = Diff(a, b);
  EXPECT_FALSE(d.structure);
  ASSERT_TRUE(d.data);
  EXPECT_EQ(d.data->b.value(), 0xbad2u);
}

TEST_F(EventDiffTest, DigestsOfOneSideOnlyAreLeftOut) {
  Program a;
  a.digests = true;
  const RankDiff d = Diff(a, Rerun());
  EXPECT_FALSE(d.differs());
  ASSERT_TRUE(d.digests_only_in);
  EXPECT_EQ(*d.digests_only_in, Side::kA);
  EXPECT_EQ(FormatRankDiff(d, "runA", "runB"), "rank 0: digests only in runA; data not compared\n");
}

TEST_F(EventDiffTest, ReplayIsToldByItsHeader) {
  RankTrace t(0, 1);
  t.SetDevice(0);
  ASSERT_TRUE(t.Write(a_.path()).ok());
  auto plain = trace::Run::Open(a_.path());
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(IsReplay(*plain));
  t.SetEnv(kReplayOfEnv, a_.path());
  ASSERT_TRUE(t.Write(b_.path()).ok());
  auto replay = trace::Run::Open(b_.path());
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(IsReplay(*replay));
}

}  // namespace
}  // namespace ddrr::analysis
