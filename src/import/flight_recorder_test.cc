#include "import/flight_recorder.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "analysis/report.h"
#include "analysis/test_trace.h"
#include "import/import.h"
#include "import/import_test_util.h"
#include "import/json.h"
#include "import/pickle.h"
#include "import/run_writer.h"
#include "trace/run.h"
#include "trace/test_util.h"

namespace ddrr::import {
namespace {

using analysis::Finding;
using analysis::FindingKind;

#define BYTES(lit) std::string(lit, sizeof(lit) - 1)

// pickle.dumps({"a": [1, 2.5, None, True, "x", -3, 70000, 2**40, -2**40], "b": (1, 2),
//               "c": {}, "t": (), "f": False}, protocol=P)
const std::string kProto2 = BYTES(
    "\x80\x02\x7d\x71\x00\x28\x58\x01\x00\x00\x00\x61\x71\x01\x5d\x71\x02\x28\x4b\x01\x47\x40"
    "\x04\x00\x00\x00\x00\x00\x00\x4e\x88\x58\x01\x00\x00\x00\x78\x71\x03\x4a\xfd\xff\xff\xff"
    "\x4a\x70\x11\x01\x00\x8a\x06\x00\x00\x00\x00\x00\x01\x8a\x06\x00\x00\x00\x00\x00\xff\x65"
    "\x58\x01\x00\x00\x00\x62\x71\x04\x4b\x01\x4b\x02\x86\x71\x05\x58\x01\x00\x00\x00\x63\x71"
    "\x06\x7d\x71\x07\x58\x01\x00\x00\x00\x74\x71\x08\x29\x58\x01\x00\x00\x00\x66\x71\x09\x89"
    "\x75\x2e");
const std::string kProto4 = BYTES(
    "\x80\x04\x95\x52\x00\x00\x00\x00\x00\x00\x00\x7d\x94\x28\x8c\x01\x61\x94\x5d\x94\x28\x4b"
    "\x01\x47\x40\x04\x00\x00\x00\x00\x00\x00\x4e\x88\x8c\x01\x78\x94\x4a\xfd\xff\xff\xff\x4a"
    "\x70\x11\x01\x00\x8a\x06\x00\x00\x00\x00\x00\x01\x8a\x06\x00\x00\x00\x00\x00\xff\x65\x8c"
    "\x01\x62\x94\x4b\x01\x4b\x02\x86\x94\x8c\x01\x63\x94\x7d\x94\x8c\x01\x74\x94\x29\x8c\x01"
    "\x66\x94\x89\x75\x2e");

void ExpectSample(const Value& v) {
  ASSERT_EQ(v.kind, Value::kDict);
  const Value* a = v.Get("a");
  ASSERT_TRUE(a && a->kind == Value::kList);
  ASSERT_EQ(a->items.size(), 9u);
  EXPECT_EQ(a->items[0]->AsInt(), 1);
  EXPECT_EQ(a->items[1]->kind, Value::kFloat);
  EXPECT_DOUBLE_EQ(a->items[1]->f, 2.5);
  EXPECT_EQ(a->items[2]->kind, Value::kNone);
  EXPECT_TRUE(a->items[3]->b);
  EXPECT_EQ(a->items[4]->s, "x");
  EXPECT_EQ(a->items[5]->AsInt(), -3);
  EXPECT_EQ(a->items[6]->AsInt(), 70000);
  EXPECT_EQ(a->items[7]->AsInt(), int64_t(1) << 40);
  EXPECT_EQ(a->items[8]->AsInt(), -(int64_t(1) << 40));
  const Value* b = v.Get("b");
  ASSERT_TRUE(b && b->kind == Value::kList && b->items.size() == 2);
  EXPECT_EQ(b->items[1]->AsInt(), 2);
  EXPECT_EQ(v.Get("c")->kind, Value::kDict);
  EXPECT_TRUE(v.Get("t")->items.empty());
  EXPECT_EQ(v.Get("f")->kind, Value::kBool);
  EXPECT_FALSE(v.Get("f")->b);
}

TEST(PickleTest, ReadsPlainDataOfProtocols2And4) {
  for (const std::string* p : {&kProto2, &kProto4}) {
    auto v = ReadPickle(*p, "test");
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    ExpectSample(**v);
  }
}

TEST(PickleTest, MemoSharesValues) {
  // pickle.dumps([s, s, {"k": s}], protocol=4) with s = "shared"
  auto v = ReadPickle(BYTES("\x80\x04\x95\x19\x00\x00\x00\x00\x00\x00\x00\x5d\x94\x28\x8c\x06"
                            "\x73\x68\x61\x72\x65\x64\x94\x68\x01\x7d\x94\x8c\x01\x6b\x94\x68"
                            "\x01\x73\x65\x2e"),
                      "test");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ((*v)->items.size(), 3u);
  EXPECT_EQ((*v)->items[1]->s, "shared");
  EXPECT_EQ((*v)->items[2]->Get("k")->s, "shared");
}

TEST(PickleTest, RefusesCodeAndDamage) {
  // GLOBAL os.system + REDUCE: the classic.
  auto v = ReadPickle("cos\nsystem\n(S'echo hi'\ntR.", "evil.pkl");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("GLOBAL"), std::string::npos);
  EXPECT_NE(v.status().message().find("evil.pkl"), std::string::npos);
  // pickle.dumps(collections.OrderedDict(), protocol=4): STACK_GLOBAL.
  v = ReadPickle(BYTES("\x80\x04\x95\x22\x00\x00\x00\x00\x00\x00\x00\x8c\x0b\x63\x6f\x6c\x6c"
                       "\x65\x63\x74\x69\x6f\x6e\x73\x94\x8c\x0b\x4f\x72\x64\x65\x72\x65\x64"
                       "\x44\x69\x63\x74\x94\x93\x94\x29\x52\x94\x2e"),
                 "od.pkl");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("STACK_GLOBAL"), std::string::npos);
  // REDUCE and BUILD alone.
  EXPECT_NE(ReadPickle(BYTES("\x80\x02\x4e\x29\x52\x2e"), "r").status().message().find("REDUCE"),
            std::string::npos);
  EXPECT_NE(ReadPickle(BYTES("\x80\x02\x7d\x7d\x62\x2e"), "b").status().message().find("BUILD"),
            std::string::npos);
  // 2**70 does not fit.
  EXPECT_FALSE(
      ReadPickle(BYTES("\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x40\x2e"), "big").ok());
  // Truncated anywhere: an error, never a crash.
  for (size_t n = 0; n < kProto4.size(); ++n)
    EXPECT_FALSE(ReadPickle(kProto4.substr(0, n), "t").ok());
  // Memo never written, SETITEM on a list, APPEND on a dict, a lone STOP.
  EXPECT_FALSE(ReadPickle(BYTES("\x80\x02\x68\x05\x2e"), "t").ok());
  EXPECT_FALSE(ReadPickle(BYTES("\x80\x02\x5d\x4b\x01\x4b\x02\x73\x2e"), "t").ok());
  EXPECT_FALSE(ReadPickle(BYTES("\x80\x02\x7d\x4b\x01\x61\x2e"), "t").ok());
  EXPECT_FALSE(ReadPickle(BYTES("\x2e"), "t").ok());
  // SETITEM whose dict sits below a MARK, then TUPLE from that MARK: refused, not read past.
  EXPECT_FALSE(ReadPickle(BYTES("\x80\x02\x7d\x4b\x01\x28\x4b\x02\x73\x74\x2e"), "t").ok());
  // Lists nested a million deep: refused before freeing them could exhaust the stack.
  std::string deep = "\x80\x02";
  for (int i = 0; i < 1000000; ++i) deep += ']';
  for (int i = 0; i < 999999; ++i) deep += 'a';
  deep += '.';
  auto d = ReadPickle(deep, "deep.pkl");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("nested deeper"), std::string::npos);
  // A list that holds itself (memo): read; nothing walks it.
  EXPECT_TRUE(ReadPickle(BYTES("\x80\x02\x5d\x71\x00\x68\x00\x61\x2e"), "t").ok());
}

TEST(JsonTest, ReadsValuesAndRefusesDamage) {
  auto v = ReadJson(R"( {"a": [1, -2, 2.5e1, null, true, false, "q\"\u00e9"], "b": {}} )", "t");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const Value* a = (*v)->Get("a");
  ASSERT_EQ(a->items.size(), 7u);
  EXPECT_EQ(a->items[1]->AsInt(), -2);
  EXPECT_DOUBLE_EQ(a->items[2]->f, 25.0);
  EXPECT_EQ(a->items[3]->kind, Value::kNone);
  EXPECT_TRUE(a->items[4]->b);
  EXPECT_FALSE(a->items[5]->b);
  EXPECT_EQ(a->items[6]->s, "q\"\xc3\xa9");
  for (const char* bad : {"{", "[1,", "{\"a\" 1}", "[1] x", "\"abc", "[tru]", ""})
    EXPECT_FALSE(ReadJson(bad, "t").ok()) << bad;
  EXPECT_FALSE(ReadJson(std::string(100, '[') + std::string(100, ']'), "t").ok());
}

// A JSON dump (format 2.10 keys unless `old`): `entries` are (pg, seq, name, numel, dtype,
// state) tuples written in order.
struct E {
  std::string pg;
  int seq;
  std::string name;
  int numel;
  std::string dtype = "Float";
  std::string state = "completed";
};

std::string Dump(const std::vector<E>& entries, int first_record = 0, bool old = false) {
  std::string j = R"({"version": ")" + std::string(old ? "2.2" : "2.10") +
                  R"(", "nccl_version": "2.21.5", "pg_config": {"0": {"name": "0", "desc":)" +
                  R"( "default_pg", "ranks": "[0, 1, 2]"}, "1": {"name": "1", "desc":)" +
                  R"( "EXPERT_MODEL_PARALLEL_GROUP", "ranks": "[0, 1]"}}, "entries": [)";
  int id = first_record, p2p = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const E& e = entries[i];
    const bool is_p2p =
        e.name.find("send") != std::string::npos || e.name.find("recv") != std::string::npos;
    if (i) j += ", ";
    const int rid = id++;
    j += "{\"record_id\": " + std::to_string(rid) + ", \"pg_id\": " + e.pg +
         ", \"process_group\": [\"" + e.pg + "\", \"" +
         (e.pg == "0" ? "default_pg" : "EXPERT_MODEL_PARALLEL_GROUP") + "\"], " +
         (old ? "" : "\"p2p_seq_id\": " + std::to_string(is_p2p ? ++p2p : 0) + ", ") +
         "\"collective_seq_id\": " + std::to_string(is_p2p ? 0 : e.seq) +
         ", \"profiling_name\": \"nccl:" + e.name +
         "\", \"time_created_ns\": " + std::to_string(1700000000000000000ll + rid * 1000) +
         ", \"input_sizes\": [[" + std::to_string(e.numel) + "]], \"input_dtypes\": [\"" + e.dtype +
         "\"], \"output_sizes\": [[" + std::to_string(e.numel) + "]], \"output_dtypes\": [\"" +
         e.dtype + "\"], \"state\": \"" + e.state +
         "\", \"is_p2p\": " + (is_p2p ? "true" : "false") +
         ", \"timeout_ms\": 600000, \"frames\": []}";
  }
  return j + "]}";
}

class FlightRecorderTest : public ::testing::Test {
 protected:
  StatusOr<ImportResult> Run(const std::vector<std::string>& dumps, uint32_t world = 0) {
    ImportOptions o;
    const std::string n = std::to_string(++runs_);
    std::filesystem::create_directories(in_.path() + "/" + n);
    for (size_t r = 0; r < dumps.size(); ++r) {
      if (dumps[r].empty()) continue;  // a rank without a dump
      o.paths.push_back(in_.path() + "/" + n + "/nccl_trace_rank_" + std::to_string(r));
      trace::testing::WriteFile(o.paths.back(), dumps[r]);
    }
    o.out_dir = RunDir();
    o.world_size = world;
    return Import(o);
  }
  std::string RunDir() const { return out_.path() + "/run" + std::to_string(runs_); }
  std::vector<Finding> Check() { return CheckDir(RunDir()); }
  trace::testing::TempDir in_, out_;
  int runs_ = 0;
};

TEST_F(FlightRecorderTest, CleanDumpsHaveNoFinding) {
  const std::vector<E> world = {{"0", 1, "all_reduce", 1024}, {"0", 2, "all_reduce", 1024}};
  const std::vector<E> expert = {
      {"0", 1, "all_reduce", 1024}, {"1", 1, "all_to_all", 64}, {"0", 2, "all_reduce", 1024}};
  auto r = Run({Dump(expert), Dump(expert), Dump(world)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->format, "fr");
  EXPECT_EQ(r->ranks, 3u);
  EXPECT_EQ(r->world_size, 3u);
  EXPECT_EQ(r->entries, 8u);
  EXPECT_TRUE(Check().empty());
  auto run = trace::Run::Open(RunDir());
  ASSERT_TRUE(run.ok());
  const trace::Header& h = run->ranks()[0].reader->header();
  EXPECT_EQ(h.env().at(kEnvFormat), "fr");
  EXPECT_EQ(h.env().at(kEnvVersion), "2.10");
  EXPECT_NE(h.env().at(kEnvUnknown).find("reduce-op"), std::string::npos);
  EXPECT_EQ(h.nccl_version(), 22105);
}

TEST_F(FlightRecorderTest, MismatchedSizeAndDtype) {
  const std::vector<E> good = {{"0", 1, "all_reduce", 1024}, {"0", 2, "all_reduce", 1024}};
  std::vector<E> odd = good;
  odd[1].numel = 512;
  auto r = Run({Dump(good), Dump(good), Dump(odd)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<Finding> f = Check();
  ASSERT_NO_FATAL_FAILURE(ExpectFirst(f, FindingKind::kMismatchedCollective, {2}, 2));
  EXPECT_NE(f[0].message.find("count differs"), std::string::npos) << f[0].message;
  // The process group's name from pg_config shows in the finding.
  EXPECT_EQ(f[0].comm_name, "default_pg (process group 0)");
  EXPECT_NE(analysis::FindingText(f[0]).find("\"default_pg (process group 0)\" (size 3)"),
            std::string::npos)
      << analysis::FindingText(f[0]);
  EXPECT_NE(analysis::FindingJson(f[0]).find("\"comm_name\":\"default_pg (process group 0)\""),
            std::string::npos);
  odd = good;
  odd[0].dtype = "BFloat16";
  ASSERT_TRUE(Run({Dump(good), Dump(odd), Dump(good)}).ok());
  f = Check();
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].ranks, std::vector<int64_t>{1});
  EXPECT_NE(f[0].message.find("datatype differs"), std::string::npos) << f[0].message;
}

TEST_F(FlightRecorderTest, RankThatNeverJoinedIsAMissingParticipantAndOthersAreStuck) {
  const std::vector<E> waiting = {{"0", 1, "all_reduce", 8},
                                  {"0", 2, "all_reduce", 8},
                                  {"0", 3, "all_reduce", 8, "Float", "started"}};
  const std::vector<E> behind = {{"0", 1, "all_reduce", 8}, {"0", 2, "all_reduce", 8}};
  auto r = Run({Dump(waiting), Dump(behind), Dump(waiting)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::vector<Finding> f = Check();
  ASSERT_NO_FATAL_FAILURE(ExpectFirst(f, FindingKind::kMissingParticipant, {1}, 3));
  bool stuck = false;
  for (const Finding& x : f) stuck |= x.kind == FindingKind::kNotCompleted;
  EXPECT_TRUE(stuck);
}

TEST_F(FlightRecorderTest, UnmatchedSendOnASubGroup) {
  const std::vector<E> sender = {{"1", 0, "send 0->1", 16}};
  auto r = Run({Dump(sender), Dump({}), Dump({})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::vector<Finding> f = Check();
  ASSERT_NO_FATAL_FAILURE(ExpectFirst(f, FindingKind::kUnmatchedP2p, {0}, 1));
  EXPECT_EQ(f[0].comm_size, 2);
  EXPECT_EQ(f[0].comm_name, "EXPERT_MODEL_PARALLEL_GROUP (process group 1)");
}

TEST_F(FlightRecorderTest, WrappedRingsAreAlignedByCollectiveSequence) {
  // Rank 0 kept ops 3..6, ranks 1 and 2 ops 1..6 (rank 2's op 5 differs): aligned from op 3 on.
  std::vector<E> full, wrapped, odd;
  for (int s = 1; s <= 6; ++s) {
    full.push_back({"0", s, "all_reduce", 100});
    odd.push_back({"0", s, "all_reduce", s == 5 ? 99 : 100});
    if (s >= 3) wrapped.push_back({"0", s, "all_reduce", 100});
  }
  auto r = Run({Dump(wrapped, /*first_record=*/7), Dump(full), Dump(odd)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(Noted(*r, "the ring wrapped"));
  EXPECT_TRUE(Noted(*r, "rank 1: 2 entries older"));
  const std::vector<Finding> f = Check();
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].kind, FindingKind::kMismatchedCollective);
  EXPECT_EQ(f[0].ranks, std::vector<int64_t>{2});
}

TEST_F(FlightRecorderTest, OldFormatMissingKeysAndMissingRankAreNoted) {
  const std::vector<E> ops = {{"0", 1, "all_reduce", 8}};
  auto r = Run({Dump(ops, 0, /*old=*/true), Dump(ops, 0, true), ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(Noted(*r, "lacks entry keys: ")) << r->notes[0];
  EXPECT_TRUE(Noted(*r, "p2p_seq_id"));
  EXPECT_TRUE(Noted(*r, "rank 2 has no dump"));
  EXPECT_EQ(r->world_size, 3u);
  auto run = trace::Run::Open(RunDir());
  ASSERT_TRUE(run.ok());
  EXPECT_NE(run->ranks()[0].reader->header().env().at(kEnvUnknown).find("entry.p2p_seq_id"),
            std::string::npos);
}

TEST_F(FlightRecorderTest, BadDumpsAreRefused) {
  auto r = Run({"{\"version\": \"2.10\"}"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no 'entries'"), std::string::npos);
  r = Run({std::string("\x80\x02") + "cos\nsystem\n(S'x'\ntR."});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("GLOBAL"), std::string::npos);
  EXPECT_NE(r.status().message().find("nccl_trace_rank_0"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(RunDir() + "/rank-0.ddrr"));
}

}  // namespace
}  // namespace ddrr::import
