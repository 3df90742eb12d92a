#include "record/recorder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <set>
#include <thread>

#include "record/test_util.h"
#include "trace/format.h"
#include "trace/test_util.h"

namespace ddrr::record {
namespace {

using trace::testing::TempDir;

std::string_view View(const trace::WireEncoder& e) {
  return {reinterpret_cast<const char*>(e.data()), e.size()};
}

TEST(RecorderTest, RoundTripThroughCloseAndReader) {
  TempDir dir;
  auto r = Recorder::Start(TestConfig(dir.path(), 3));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Recorder& rec = **r;
  const uint64_t kComm = 0xC0FFEE;
  std::vector<uint64_t> call_seqs;
  for (int i = 0; i < 500; ++i) {
    trace::WireEncoder e;
    trace::CallInfo ci;
    ci.comm_key = kComm;
    trace::EndCallBody(e, trace::BeginCallBody(e, ci));
    trace::EventMeta meta;
    meta.comm_key = kComm;
    meta.op_seq = i == 250 ? 1000 : i + (i > 250 ? 750 : 0);  // one jump in op numbers
    const uint64_t seq = rec.Append(1, 100 + i * 10, View(e), meta);
    ASSERT_EQ(seq, 1u + 3 * i);
    call_seqs.push_back(seq);
    const uint64_t cseq =
        rec.AppendWithSeq(2, 105 + i * 10,
                          [&](uint64_t my_seq, trace::WireEncoder& b) {
                            trace::EncodeCompletionBody(b, my_seq - seq, kComm, 5, 0);
                          },
                          {});
    ASSERT_EQ(cseq, seq + 1);
    trace::WireEncoder m;
    trace::EncodeMarkBody(m, "step", i);
    trace::EventMeta mm;
    mm.is_mark = true;
    mm.mark_step = i;
    mm.mark_label = "step";
    ASSERT_EQ(rec.Append(0, 107 + i * 10, View(m), mm), seq + 2);
  }
  ASSERT_TRUE(rec.AppendPayload(42, "payload bytes").ok());
  trace::FooterInfo f;
  f.end_reason = trace::kEndExit;
  ASSERT_TRUE(rec.Close(f).ok());
  EXPECT_TRUE(rec.Close(f).ok());                         // idempotent
  EXPECT_EQ(access(rec.spool_path().c_str(), F_OK), -1);  // spool removed
  EXPECT_EQ(rec.stats().appended, 1500u);
  EXPECT_EQ(rec.stats().sealed, 1500u);
  EXPECT_EQ(rec.stats().dropped, 0u);
  EXPECT_EQ(rec.Append(0, 0, KernelsBody(1, 1), {}), 0u);  // closed: no-op

  auto back = ReadRank(dir.File("rank-3.ddrr"));
  ASSERT_EQ(back.events.size(), 1500u);
  EXPECT_EQ(back.problems, 0u);
  ASSERT_TRUE(back.has_footer);
  EXPECT_EQ(back.footer.end_reason(), trace::END_EXIT);
  EXPECT_EQ(back.footer.dropped_events(), 0u);
  EXPECT_EQ(back.footer.event_count(), 1500u);
  EXPECT_EQ(back.footer.last_seq(), 1500u);
  for (int i = 0; i < 500; ++i) {
    const trace::Event& call = back.events[3 * i];
    EXPECT_EQ(back.positions[3 * i].seq, 1u + 3 * i);  // Event.seq is implicit on the wire
    EXPECT_EQ(call.thread(), 1u);
    ASSERT_TRUE(call.has_call());
    EXPECT_EQ(call.call().op_seq(),
              static_cast<uint64_t>(i == 250 ? 1000 : i + (i > 250 ? 750 : 0)));
    EXPECT_EQ(back.positions[3 * i].time_ns, 100u + i * 10);
    const trace::Event& done = back.events[3 * i + 1];
    ASSERT_TRUE(done.has_completion());
    EXPECT_EQ(done.completion().call_seq(), back.positions[3 * i].seq);
    EXPECT_EQ(done.completion().op_seq(), call.call().op_seq());
    const trace::Event& mark = back.events[3 * i + 2];
    ASSERT_TRUE(mark.has_mark());
    EXPECT_EQ(mark.mark().step(), i);
    EXPECT_EQ(mark.mark().label(), "step");
  }
  bool any_mark_indexed = false;
  for (const auto& fr : back.footer.frames()) any_mark_indexed |= fr.has_mark();
  EXPECT_TRUE(any_mark_indexed);
}

TEST(RecorderTest, ManyThreadsNoLossNoDuplicatesOrderKept) {
  TempDir dir;
  auto cfg = TestConfig(dir.path());
  cfg.wal_bytes = 64 << 20;
  auto r = Recorder::Start(cfg);
  ASSERT_TRUE(r.ok());
  constexpr int kThreads = 16, kPerThread = 20000;
  std::vector<std::thread> threads;
  std::atomic<uint64_t> drops{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if ((*r)->Append(t, i, KernelsBody(t, i), {}) == 0) drops.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(drops.load(), 0u);
  ASSERT_TRUE((*r)->Close({}).ok());
  auto back = ReadRank(dir.File("rank-0.ddrr"));
  ASSERT_EQ(back.events.size(), static_cast<size_t>(kThreads * kPerThread));
  std::vector<int64_t> last(kThreads, -1);
  for (size_t i = 0; i < back.events.size(); ++i) {
    const trace::Event& e = back.events[i];
    ASSERT_EQ(back.positions[i].seq, i + 1);  // every seq once, in order
    ASSERT_TRUE(e.has_kernels());
    const uint32_t t = e.thread();
    ASSERT_LT(t, static_cast<uint32_t>(kThreads));
    ASSERT_EQ(e.kernels().stream(), t);
    ASSERT_EQ(static_cast<int64_t>(e.kernels().count()), last[t] + 1) << "thread " << t;
    last[t] = static_cast<int64_t>(e.kernels().count());
  }
}

TEST(RecorderTest, FullRingDropsCountsAndNeverBlocks) {
  TempDir dir;
  auto cfg = TestConfig(dir.path());
  cfg.wal_bytes = 16 << 10;
  cfg.seal_interval_ms = 60000;
  auto r = Recorder::Start(cfg);
  ASSERT_TRUE(r.ok());
  std::string big(1000, 'x');
  trace::WireEncoder e;
  trace::EncodeEntropyBody(e, 1, big, 0);
  uint64_t ok = 0, dropped = 0;
  for (int i = 0; i < 200000 && dropped < 100; ++i) {
    (*r)->Append(0, i, View(e), {}) ? ++ok : ++dropped;
  }
  EXPECT_GE(dropped, 100u);
  EXPECT_EQ((*r)->stats().dropped, dropped);
  EXPECT_EQ((*r)->stats().appended, ok);
  ASSERT_TRUE((*r)->Close({}).ok());
  auto back = ReadRank(dir.File("rank-0.ddrr"));
  ASSERT_TRUE(back.has_footer);
  EXPECT_EQ(back.footer.dropped_events(), dropped);
  uint64_t notes = 0, entropy = 0;
  for (const auto& ev : back.events) {
    notes += ev.has_note();
    entropy += ev.has_entropy();
  }
  // The sealer reports drops in RecorderNote events, which take seqs of their own.
  EXPECT_EQ(entropy + notes, back.events.size());
  EXPECT_LE(entropy, ok);
  EXPECT_GE(entropy + notes, ok);
}

TEST(RecorderTest, FlushSealsEverythingCommitted) {
  TempDir dir;
  auto cfg = TestConfig(dir.path());
  cfg.seal_interval_ms = 60000;
  auto r = Recorder::Start(cfg);
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < 100; ++i) ASSERT_NE((*r)->Append(0, i, KernelsBody(0, i), {}), 0u);
  ASSERT_TRUE((*r)->Flush().ok());
  EXPECT_EQ((*r)->stats().sealed, 100u);
  auto back = ReadRank(dir.File("rank-0.ddrr"));  // no footer yet: read by scanning
  EXPECT_FALSE(back.has_footer);
  EXPECT_EQ(back.events.size(), 100u);
  EXPECT_EQ(access((*r)->spool_path().c_str(), F_OK), 0);
  ASSERT_TRUE((*r)->Close({}).ok());
  EXPECT_EQ(access((*r)->spool_path().c_str(), F_OK), -1);
}

TEST(RecorderTest, StartFailsCleanlyOnUnwritableDir) {
  auto r = Recorder::Start(TestConfig("/proc/ddrr-cannot-exist"));
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace ddrr::record
