// The exporter's output decoded with libprotobuf against perfetto_subset.proto (Perfetto's own
// field numbers): tracks per rank, slices that nest on every track, the same collective linked
// across ranks by one flow id, sends linked to their receives, findings as instants; the JSON
// form parses (python3's json module) and holds the same slices.
#include "export/timeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "analysis/check.h"
#include "analysis/run_model.h"
#include "analysis/test_trace.h"
#include "export/perfetto_subset.pb.h"
#include "spec/api_table.h"
#include "trace/test_util.h"

namespace ddrr::timeline {
namespace {

namespace fs = std::filesystem;
using analysis::testing::RankTrace;
using analysis::testing::World;
using analysis::testing::WriteRun;
namespace pb = ddrr::perfetto_subset;

constexpr uint64_t kComm = 0xc0, kKey = 0x5eed;
constexpr uint32_t kBoottime = 6, kSequenceClock = 64;  // Perfetto's clock ids

class TimelineTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_ / "run"); }

  // Two ranks: two all-reduces (completed), a mark, rank 0 sends to rank 1; rank 1's second
  // all-reduce has a different count when `mismatch`.
  void WriteTwoRanks(bool mismatch) {
    auto ranks = World(2, kComm, kKey);
    for (uint32_t r = 0; r < 2; ++r) {
      ranks[r].Mark(1);
      ranks[r].Completion(ranks[r].AllReduce(kComm, 1024));
      ranks[r].Completion(ranks[r].AllReduce(kComm, mismatch && r == 1 ? 512 : 1024));
    }
    ranks[0].Send(kComm, 64, 1);
    ranks[1].Recv(kComm, 64, 0);
    ASSERT_TRUE(WriteRun(ranks, (dir_ / "run").string()).ok());
  }

  pb::Trace Export(Format format, const std::string& name, TimelineStats* stats = nullptr) {
    auto run = trace::Run::Open((dir_ / "run").string());
    if (!run.ok()) {
      ADD_FAILURE() << run.status().ToString();
      return {};
    }
    const std::string out = (dir_ / name).string();
    auto s = ExportTimeline(*run, format, out, dir_.string());
    EXPECT_TRUE(s.ok()) << s.status().message();
    if (s.ok() && stats) *stats = *s;
    pb::Trace t;
    if (format == Format::kPerfetto) {
      std::ifstream in(out, std::ios::binary);
      EXPECT_TRUE(t.ParseFromIstream(&in));
      ResolveInterned(t);
    }
    return t;
  }

  // Resolves what each packet takes from its sequence's state, as a trace processor does:
  // interned ids become their strings, timestamps on the sequence's incremental clock become
  // absolute (BOOTTIME, the trace clock), events without a track get the sequence's default
  // track, and counter values written along with an event become counter packets of their own
  // (appended). On the way it checks the sequence rules: each sequence starts with
  // SEQ_INCREMENTAL_STATE_CLEARED, its later packets say they need that state, the clock is set
  // up by a snapshot before its first use, an id is defined once and before its use. Short names
  // and values are all interned.
  static void ResolveInterned(pb::Trace& t) {
    struct Sequence {
      std::map<uint64_t, std::string> categories, names, arg_names, arg_strings;
      uint32_t default_clock = kBoottime;
      uint64_t default_track = 0;
      bool clock_set = false;
      uint64_t clock = 0;  // the incremental clock's last value
    };
    std::map<uint32_t, Sequence> sequences;
    auto define = [](std::map<uint64_t, std::string>& table, uint64_t iid, const std::string& s) {
      EXPECT_NE(iid, 0u);
      EXPECT_TRUE(table.emplace(iid, s).second) << "iid " << iid << " defined twice";
    };
    auto lookup = [](const std::map<uint64_t, std::string>& table, uint64_t iid) {
      auto it = table.find(iid);
      EXPECT_NE(it, table.end()) << "iid " << iid << " used before it was defined";
      return it == table.end() ? std::string() : it->second;
    };
    std::vector<pb::TracePacket> counters;
    for (pb::TracePacket& p : *t.mutable_packet()) {
      const uint32_t seq = p.trusted_packet_sequence_id();
      EXPECT_NE(seq, 0u);
      const bool fresh = !sequences.count(seq);
      Sequence& state = sequences[seq];
      if (fresh) {
        EXPECT_EQ(p.sequence_flags(), pb::TracePacket::SEQ_INCREMENTAL_STATE_CLEARED)
            << "sequence " << seq << " does not start with cleared state";
      } else {
        EXPECT_EQ(p.sequence_flags(), pb::TracePacket::SEQ_NEEDS_INCREMENTAL_STATE);
      }
      if (p.has_trace_packet_defaults()) {
        EXPECT_TRUE(fresh) << "defaults after the sequence's first packet";
        const pb::TracePacketDefaults& d = p.trace_packet_defaults();
        if (d.has_timestamp_clock_id()) state.default_clock = d.timestamp_clock_id();
        state.default_track = d.track_event_defaults().track_uuid();
        p.clear_trace_packet_defaults();
      }
      if (p.has_clock_snapshot()) {
        bool boottime = false;
        for (const auto& c : p.clock_snapshot().clocks()) {
          EXPECT_LE(c.unit_multiplier_ns(), 1u);
          if (c.clock_id() == kBoottime) {
            boottime = true;
            EXPECT_EQ(c.timestamp(), 0u);  // the sequence's clock starts at the trace's 0
          } else {
            EXPECT_EQ(c.clock_id(), kSequenceClock);
            EXPECT_TRUE(c.is_incremental());
            state.clock_set = true;
            state.clock = c.timestamp();
          }
        }
        EXPECT_TRUE(boottime);
        p.clear_clock_snapshot();
      }
      if (p.has_timestamp()) {
        const uint32_t clock =
            p.has_timestamp_clock_id() ? p.timestamp_clock_id() : state.default_clock;
        if (clock == kSequenceClock) {
          EXPECT_TRUE(state.clock_set) << "clock used before its snapshot";
          state.clock += p.timestamp();
          p.set_timestamp(state.clock);
        } else {
          EXPECT_EQ(clock, kBoottime);
        }
        p.clear_timestamp_clock_id();
      }
      if (p.has_interned_data()) {
        const pb::InternedData& d = p.interned_data();
        for (const auto& c : d.event_categories()) define(state.categories, c.iid(), c.name());
        for (const auto& n : d.event_names()) define(state.names, n.iid(), n.name());
        for (const auto& n : d.debug_annotation_names()) define(state.arg_names, n.iid(), n.name());
        for (const auto& v : d.debug_annotation_string_values())
          define(state.arg_strings, v.iid(), v.str());
        p.clear_interned_data();
      }
      if (!p.has_track_event()) continue;
      EXPECT_TRUE(p.has_timestamp());
      pb::TrackEvent& e = *p.mutable_track_event();
      if (!e.has_track_uuid()) {
        EXPECT_NE(state.default_track, 0u) << "event without a track";
        e.set_track_uuid(state.default_track);
      }
      ASSERT_EQ(e.extra_counter_values_size(), e.extra_counter_track_uuids_size());
      for (int i = 0; i < e.extra_counter_values_size(); ++i) {
        pb::TracePacket& c = counters.emplace_back();
        c.set_trusted_packet_sequence_id(seq);
        c.set_timestamp(p.timestamp());
        c.mutable_track_event()->set_type(pb::TrackEvent::TYPE_COUNTER);
        c.mutable_track_event()->set_track_uuid(e.extra_counter_track_uuids(i));
        c.mutable_track_event()->set_counter_value(e.extra_counter_values(i));
      }
      e.clear_extra_counter_track_uuids();
      e.clear_extra_counter_values();
      for (uint64_t iid : e.category_iids()) e.add_categories(lookup(state.categories, iid));
      e.clear_category_iids();
      if (e.type() != pb::TrackEvent::TYPE_SLICE_END && e.type() != pb::TrackEvent::TYPE_COUNTER) {
        EXPECT_TRUE(e.has_name_iid()) << "event name not interned: " << e.name();
        EXPECT_EQ(e.categories_size(), 1);
      }
      if (e.has_name_iid()) e.set_name(lookup(state.names, e.name_iid()));
      e.clear_name_iid();
      for (pb::DebugAnnotation& a : *e.mutable_debug_annotations()) {
        EXPECT_TRUE(a.has_name_iid()) << "argument name not interned: " << a.name();
        if (a.has_name_iid()) a.set_name(lookup(state.arg_names, a.name_iid()));
        a.clear_name_iid();
        if (a.has_string_value_iid())
          a.set_string_value(lookup(state.arg_strings, a.string_value_iid()));
        a.clear_string_value_iid();
      }
    }
    for (pb::TracePacket& c : counters) *t.add_packet() = std::move(c);
  }

  // Runs `code` with python3 on `arg`; its output lines, and in `ok` whether it exited 0.
  std::vector<std::string> Python(const std::string& code, const std::string& arg, bool* ok) {
    const std::string script = (dir_ / "check.py").string();
    std::ofstream(script) << code;
    FILE* p = popen(("python3 " + script + " " + arg).c_str(), "r");
    std::vector<std::string> lines;
    char line[4096];
    while (p && fgets(line, sizeof line, p)) {
      lines.emplace_back(line);
      if (lines.back().back() == '\n') lines.back().pop_back();
    }
    *ok = p && pclose(p) == 0;
    return lines;
  }

  trace::testing::TempDir tmp_;
  fs::path dir_ = tmp_.path();
};

struct Decoded {
  std::map<uint64_t, pb::TrackDescriptor> tracks;
  // Slice begins per track, in file order.
  std::map<uint64_t, std::vector<const pb::TracePacket*>> begins;
  std::vector<const pb::TracePacket*> instants;
};

Decoded Decode(const pb::Trace& t) {
  Decoded d;
  for (const pb::TracePacket& p : t.packet()) {
    if (p.has_track_descriptor()) d.tracks[p.track_descriptor().uuid()] = p.track_descriptor();
    if (!p.has_track_event()) continue;
    const pb::TrackEvent& e = p.track_event();
    EXPECT_TRUE(d.tracks.count(e.track_uuid())) << "event before its track: " << e.name();
    if (e.type() == pb::TrackEvent::TYPE_SLICE_BEGIN) d.begins[e.track_uuid()].push_back(&p);
    if (e.type() == pb::TrackEvent::TYPE_INSTANT) d.instants.push_back(&p);
  }
  return d;
}

std::string ArgOf(const pb::TrackEvent& e, const std::string& name) {
  for (const auto& a : e.debug_annotations())
    if (a.name() == name)
      return a.has_int_value() ? std::to_string(a.int_value()) : a.string_value();
  return "";
}

// The process a track belongs to (its own pid for a process track).
int32_t PidOf(const Decoded& d, uint64_t uuid) {
  const pb::TrackDescriptor& t = d.tracks.at(uuid);
  if (t.has_process()) return t.process().pid();
  if (t.has_thread()) return t.thread().pid();
  return d.tracks.at(t.parent_uuid()).process().pid();
}

TEST_F(TimelineTest, PerfettoTracksSlicesAndFlows) {
  WriteTwoRanks(/*mismatch=*/false);
  TimelineStats stats;
  const pb::Trace t = Export(Format::kPerfetto, "run.perfetto-trace", &stats);
  const Decoded d = Decode(t);
  EXPECT_EQ(stats.ranks, 2u);
  EXPECT_GT(stats.bytes, 0u);
  EXPECT_EQ(t.packet(0).sequence_flags(), 1u);
  // Each rank is a packet sequence of its own (its own interned strings).
  std::map<int32_t, std::set<uint32_t>> sequences;  // pid -> sequence ids of its events
  for (const pb::TracePacket& p : t.packet())
    if (p.has_track_event() &&
        (p.track_event().categories().empty() || p.track_event().categories(0) != "check"))
      sequences[PidOf(d, p.track_event().track_uuid())].insert(p.trusted_packet_sequence_id());
  ASSERT_EQ(sequences.size(), 2u);
  EXPECT_EQ(sequences[1].size(), 1u);
  EXPECT_EQ(sequences[2].size(), 1u);
  EXPECT_NE(*sequences[1].begin(), *sequences[2].begin());

  std::set<std::string> processes;
  int threads = 0;
  for (const auto& [uuid, td] : d.tracks) {
    if (td.has_process()) processes.insert(td.process().process_name());
    if (td.has_thread()) {
      ++threads;
      EXPECT_TRUE(d.tracks.at(td.parent_uuid()).has_process());
    }
  }
  EXPECT_EQ(processes, (std::set<std::string>{"rank 0 (node0, pid 0)", "rank 1 (node0, pid 0)"}));
  EXPECT_EQ(threads, 2);

  // Slices nest on every track: each begin is matched by an end, never crossing.
  std::map<uint64_t, std::vector<std::pair<uint64_t, int>>> edges;
  for (const pb::TracePacket& p : t.packet())
    if (p.has_track_event() && p.track_event().type() <= pb::TrackEvent::TYPE_SLICE_END &&
        p.track_event().type() >= pb::TrackEvent::TYPE_SLICE_BEGIN)
      edges[p.track_event().track_uuid()].push_back(
          {p.timestamp(), p.track_event().type() == pb::TrackEvent::TYPE_SLICE_BEGIN ? 1 : -1});
  for (auto& [uuid, list] : edges) {
    int depth = 0;
    for (auto [ts, delta] : list) {  // in file order, begin then end of each slice
      depth += delta;
      EXPECT_GE(depth, 0);
    }
    EXPECT_EQ(depth, 0) << d.tracks.at(uuid).name();
  }

  // Stream slices: the two all-reduces and the send/recv per rank, each with a flow id; the same
  // op has the same id on both ranks.
  std::map<int32_t, std::vector<std::pair<std::string, uint64_t>>> ops;  // pid -> (name, flow)
  for (const auto& [uuid, list] : d.begins) {
    if (d.tracks.at(uuid).name().rfind("stream ", 0) != 0) continue;
    for (const pb::TracePacket* p : list) {
      ASSERT_EQ(p->track_event().flow_ids_size(), 1) << p->track_event().name();
      ops[PidOf(d, uuid)].push_back({p->track_event().name(), p->track_event().flow_ids(0)});
    }
  }
  ASSERT_EQ(ops.size(), 2u);
  ASSERT_EQ(ops[1].size(), 3u);
  ASSERT_EQ(ops[2].size(), 3u);
  EXPECT_EQ(ops[1][0].first, "ncclAllReduce");
  EXPECT_EQ(ops[1][0].second, ops[2][0].second);
  EXPECT_EQ(ops[1][1].second, ops[2][1].second);
  EXPECT_NE(ops[1][0].second, ops[1][1].second);
  EXPECT_EQ(ops[1][2].first, "ncclSend");
  EXPECT_EQ(ops[2][2].first, "ncclRecv");
  EXPECT_EQ(ops[1][2].second, ops[2][2].second);

  // API calls on the thread tracks, with their arguments.
  int allreduce_calls = 0;
  for (const auto& [uuid, list] : d.begins) {
    if (!d.tracks.at(uuid).has_thread()) continue;
    for (const pb::TracePacket* p : list)
      if (p->track_event().name() == "ncclAllReduce") {
        ++allreduce_calls;
        EXPECT_EQ(ArgOf(p->track_event(), "count"), "1024");
        EXPECT_EQ(ArgOf(p->track_event(), "datatype"), "ncclFloat32");
        EXPECT_EQ(ArgOf(p->track_event(), "comm"), "0000000000005eed");
      }
  }
  EXPECT_EQ(allreduce_calls, 4);
  int marks = 0;
  for (const pb::TracePacket* p : d.instants) marks += p->track_event().name() == "step 1";
  EXPECT_EQ(marks, 2);
}

TEST_F(TimelineTest, FindingsAreInstantsOnTheBlamedRanks) {
  WriteTwoRanks(/*mismatch=*/true);
  const pb::Trace t = Export(Format::kPerfetto, "run.perfetto-trace");
  const Decoded d = Decode(t);
  std::set<int32_t> blamed;
  for (const pb::TracePacket* p : d.instants)
    if (p->track_event().name() == "check: mismatched-collective") {
      blamed.insert(PidOf(d, p->track_event().track_uuid()));
      EXPECT_FALSE(ArgOf(p->track_event(), "message").empty());
      EXPECT_EQ(ArgOf(p->track_event(), "severity"), "error");
    }
  EXPECT_FALSE(blamed.empty());
  for (int32_t pid : blamed) EXPECT_TRUE(pid == 1 || pid == 2);
}

TEST_F(TimelineTest, JsonParsesAndHoldsTheSameSlices) {
  WriteTwoRanks(/*mismatch=*/false);
  const pb::Trace t = Export(Format::kPerfetto, "run.perfetto-trace");
  const Decoded d = Decode(t);
  std::map<std::string, int> from_proto;
  for (const auto& [uuid, list] : d.begins)
    for (const pb::TracePacket* p : list) ++from_proto[p->track_event().name()];
  Export(Format::kJson, "run.json");
  bool ok = false;
  const auto lines = Python(
      "import json, sys, collections\n"
      "d = json.load(open(sys.argv[1]))\n"
      "c = collections.Counter(e['name'] for e in d['traceEvents'] if e['ph'] == 'X')\n"
      "for k in sorted(c): print('%s %d' % (k, c[k]))\n",
      (dir_ / "run.json").string(), &ok);
  ASSERT_TRUE(ok) << "the JSON does not parse";
  std::map<std::string, int> from_json;
  for (const std::string& l : lines)
    from_json[l.substr(0, l.rfind(' '))] = std::stoi(l.substr(l.rfind(' ') + 1));
  EXPECT_EQ(from_json, from_proto);
  EXPECT_EQ(from_json["ncclAllReduce"], 8);  // 4 calls on threads, 4 on streams
}

// The slices linked by flows, as groups of "pid ts name" (ts in ns), one sorted line per group
// of slices that flows connect.
std::set<std::string> ProtoFlowGroups(const pb::Trace& t, const Decoded& d) {
  std::map<uint64_t, std::set<std::string>> by_flow;
  for (const auto& [uuid, list] : d.begins)
    for (const pb::TracePacket* p : list)
      for (uint64_t f : p->track_event().flow_ids())
        by_flow[f].insert(std::to_string(PidOf(d, uuid)) + " " + std::to_string(p->timestamp()) +
                          " " + p->track_event().name());
  // Groups sharing a slice are one group (a group call's slice carries several ids).
  std::vector<std::set<std::string>> groups;
  for (auto& [f, slices] : by_flow) {
    std::set<std::string> merged = slices;
    std::vector<std::set<std::string>> kept;
    for (auto& g : groups) {
      bool shared = false;
      for (const std::string& s : g) shared = shared || merged.count(s);
      if (shared)
        merged.insert(g.begin(), g.end());
      else
        kept.push_back(g);
    }
    kept.push_back(merged);
    groups = kept;
  }
  std::set<std::string> out;
  for (const auto& g : groups) {
    std::string line;
    for (const std::string& s : g) line += (line.empty() ? "" : "|") + s;
    out.insert(line);
  }
  return out;
}

TEST_F(TimelineTest, JsonFlowsLinkTheSameSlices) {
  // Three ranks: two all-reduces, and a send from rank 0 to rank 2.
  auto ranks = World(3, kComm, kKey);
  for (uint32_t r = 0; r < 3; ++r) {
    ranks[r].Advance(1000 * (3 - r));  // later ranks start their ops earlier
    ranks[r].Completion(ranks[r].AllReduce(kComm, 1024));
    ranks[r].Completion(ranks[r].AllReduce(kComm, 1024));
  }
  ranks[0].Send(kComm, 64, 2);
  ranks[2].Recv(kComm, 64, 0);
  ASSERT_TRUE(WriteRun(ranks, (dir_ / "run").string()).ok());
  const pb::Trace t = Export(Format::kPerfetto, "run.perfetto-trace");
  const std::set<std::string> from_proto = ProtoFlowGroups(t, Decode(t));
  ASSERT_EQ(from_proto.size(), 3u);  // each all-reduce across 3 ranks, the send with its receive

  Export(Format::kJson, "run.json");
  // Binds each flow event to the complete slice of its pid and tid that encloses it, checks that
  // every id has one start and one end, the start no later than the end, then prints the groups
  // of slices the pairs connect.
  bool ok = false;
  const auto lines = Python(
      "import json, sys, collections\n"
      "ev = json.load(open(sys.argv[1]))['traceEvents']\n"
      "ns = lambda v: int(round(v * 1000))\n"
      "slices = [e for e in ev if e['ph'] == 'X']\n"
      "def bind(f):\n"
      "  hit = [s for s in slices if s['pid'] == f['pid'] and s['tid'] == f['tid'] and\n"
      "         ns(s['ts']) <= ns(f['ts']) <= ns(s['ts']) + ns(s['dur'])]\n"
      "  if len(hit) != 1: sys.exit('flow event binds to %d slices' % len(hit))\n"
      "  s = hit[0]\n"
      "  return '%d %d %s' % (s['pid'], ns(s['ts']), s['name'])\n"
      "pairs = collections.defaultdict(dict)\n"
      "for e in ev:\n"
      "  if e['ph'] in 'sf':\n"
      "    if e['ph'] in pairs[e['id']]: sys.exit('two %s for %s' % (e['ph'], e['id']))\n"
      "    if e['ph'] == 'f' and e.get('bp') != 'e': sys.exit('f without bp e')\n"
      "    pairs[e['id']][e['ph']] = e\n"
      "parent = {}\n"
      "def root(x):\n"
      "  while parent.setdefault(x, x) != x: x = parent[x]\n"
      "  return x\n"
      "for i, p in pairs.items():\n"
      "  if set(p) != {'s', 'f'}: sys.exit('flow %s is not a pair' % i)\n"
      "  if p['s']['ts'] > p['f']['ts']: sys.exit('flow %s ends before it starts' % i)\n"
      "  parent[root(bind(p['s']))] = root(bind(p['f']))\n"
      "groups = collections.defaultdict(set)\n"
      "for x in list(parent): groups[root(x)].add(x)\n"
      "for g in groups.values(): print('|'.join(sorted(g)))\n",
      (dir_ / "run.json").string(), &ok);
  ASSERT_TRUE(ok) << "the JSON flows do not hold together";
  const std::set<std::string> from_json(lines.begin(), lines.end());
  EXPECT_EQ(from_json, from_proto);
}

TEST_F(TimelineTest, GroupsAreOneSliceAndUnfinishedOpsRunToTheEnd) {
  // Both ranks exchange in one group (completed together); then rank 1's last all-reduce never
  // completes and its trace ends without a footer.
  auto ranks = World(2, kComm, kKey);
  for (uint32_t r = 0; r < 2; ++r) {
    ranks[r].GroupStart();
    ranks[r].Send(kComm, 64, 1 - static_cast<int>(r));
    ranks[r].Recv(kComm, 64, 1 - static_cast<int>(r));
    ranks[r].Completion(ranks[r].GroupEnd());
    const uint64_t last = ranks[r].AllReduce(kComm, 1024);
    if (r == 0) ranks[r].Completion(last);
    ranks[r].Advance(50000);
    ranks[r].Mark(2);
  }
  ASSERT_TRUE(WriteRun(ranks, (dir_ / "run").string(), /*killed=*/{1}).ok());
  const pb::Trace t = Export(Format::kPerfetto, "run.perfetto-trace");
  const Decoded d = Decode(t);
  std::map<int32_t, std::vector<const pb::TracePacket*>> stream_slices;
  for (const auto& [uuid, list] : d.begins)
    if (d.tracks.at(uuid).name().rfind("stream ", 0) == 0)
      for (const pb::TracePacket* p : list) stream_slices[PidOf(d, uuid)].push_back(p);
  ASSERT_EQ(stream_slices[1].size(), 2u);
  ASSERT_EQ(stream_slices[2].size(), 2u);
  const pb::TrackEvent& g0 = stream_slices[1][0]->track_event();
  const pb::TrackEvent& g1 = stream_slices[2][0]->track_event();
  EXPECT_EQ(g0.name(), "group: ncclSend, ncclRecv (2 ops)");
  ASSERT_EQ(g0.flow_ids_size(), 2);
  ASSERT_EQ(g1.flow_ids_size(), 2);
  // Rank 0's send is rank 1's receive and the other way round.
  EXPECT_EQ(std::set<uint64_t>(g0.flow_ids().begin(), g0.flow_ids().end()),
            std::set<uint64_t>(g1.flow_ids().begin(), g1.flow_ids().end()));
  EXPECT_EQ(ArgOf(stream_slices[1][1]->track_event(), "completion"), "");
  EXPECT_EQ(ArgOf(stream_slices[2][1]->track_event(), "completion"),
            "none recorded before the trace ended");
  // The unfinished all-reduce runs to rank 1's last event (the mark, 50 us later).
  uint64_t end = 0, mark = 0;
  const uint64_t uuid = stream_slices[2][1]->track_event().track_uuid();
  for (const pb::TracePacket& p : t.packet()) {
    if (!p.has_track_event()) continue;
    if (p.track_event().track_uuid() == uuid &&
        p.track_event().type() == pb::TrackEvent::TYPE_SLICE_END)
      end = p.timestamp();
    if (p.track_event().name() == "step 2" && PidOf(d, p.track_event().track_uuid()) == 2)
      mark = p.timestamp();
  }
  EXPECT_GT(mark, stream_slices[2][1]->timestamp() + 40000);
  EXPECT_EQ(end, mark);
}

// A rank read while it runs: the call each thread is inside is a slice from its entry to now,
// and the rank's process says it is still running. Killed inside a call: to the trace's end.
TEST_F(TimelineTest, CallsNotReturnedAreSlicesToTheEndOrToNowWhileRunning) {
  auto ranks = World(2, kComm, kKey);
  for (uint32_t r = 0; r < 2; ++r) {
    ranks[r].Completion(ranks[r].AllReduce(kComm, 1024));
    ranks[r].Enter(trace::FunctionId::kNcclAllReduce, kComm);
  }
  ranks[0].SetLive();
  const uint64_t now =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  ranks[0].SetStartUnixNs(now - 10'000'000'000ull);  // started 10 s ago
  ASSERT_TRUE(WriteRun(ranks, (dir_ / "run").string(), /*killed=*/{1}).ok());
  const pb::Trace t = Export(Format::kPerfetto, "run.perfetto-trace");
  const Decoded d = Decode(t);
  std::map<int32_t, const pb::TracePacket*> entered;
  std::map<int32_t, uint64_t> ends;
  for (const auto& [uuid, list] : d.begins)
    for (const pb::TracePacket* p : list)
      if (!ArgOf(p->track_event(), "returned").empty()) entered[PidOf(d, uuid)] = p;
  ASSERT_EQ(entered.size(), 2u);
  EXPECT_EQ(entered[1]->track_event().name(), "ncclAllReduce");
  EXPECT_EQ(ArgOf(entered[1]->track_event(), "returned"), "not yet (the rank is still running)");
  EXPECT_EQ(ArgOf(entered[2]->track_event(), "returned"), "never (not before the trace ended)");
  for (const pb::TracePacket& p : t.packet())
    if (p.has_track_event() && p.track_event().type() == pb::TrackEvent::TYPE_SLICE_END)
      for (const auto& [pid, begin] : entered)
        if (p.track_event().track_uuid() == begin->track_event().track_uuid())
          ends[pid] = p.timestamp();
  // Rank 0 entered its call microseconds after it started 10 s ago: the slice lasts until now.
  EXPECT_GT(ends[1], entered[1]->timestamp() + 9'000'000'000ull);
  EXPECT_LT(ends[2], entered[2]->timestamp() + 1'000'000ull);
  std::vector<std::string> processes;
  for (const auto& [uuid, track] : d.tracks)
    if (track.has_process()) processes.push_back(track.process().process_name());
  ASSERT_EQ(processes.size(), 2u);
  EXPECT_EQ(std::count_if(processes.begin(), processes.end(),
                          [](const std::string& n) { return n.ends_with(", still running)"); }),
            1);
}

// Forwards to a sink but offers no parts: the ranks are written one after another.
class OneAfterAnother : public TimelineSink {
 public:
  explicit OneAfterAnother(TimelineSink& to) : to_(to) {}
  void BeginSequence(uint32_t id, uint64_t track) override { to_.BeginSequence(id, track); }
  void Track(const TrackInfo& t) override { to_.Track(t); }
  void Slice(const TrackInfo& t, uint64_t b, uint64_t e, std::string_view c, std::string_view n,
             std::span<const Arg> a, std::span<const uint64_t> f) override {
    to_.Slice(t, b, e, c, n, a, f);
  }
  void Instant(const TrackInfo& t, uint64_t ts, std::string_view c, std::string_view n,
               std::span<const Arg> a) override {
    to_.Instant(t, ts, c, n, a);
  }
  void Counter(const TrackInfo& t, uint64_t ts, int64_t v) override { to_.Counter(t, ts, v); }
  bool Finish() override { return to_.Finish(); }

 private:
  TimelineSink& to_;
};

TEST_F(TimelineTest, RanksWrittenInParallelAreTheBytesWrittenOneAfterAnother) {
  ASSERT_GT(std::thread::hardware_concurrency(), 1u) << "needs two cores to write in parallel";
  auto ranks = World(6, kComm, kKey);
  for (uint32_t r = 0; r < 6; ++r)
    for (int step = 0; step < 3; ++step) {
      ranks[r].Mark(step);
      ranks[r].Completion(ranks[r].AllReduce(kComm, 1024 + 64 * r));  // mismatched: findings
    }
  ASSERT_TRUE(WriteRun(ranks, (dir_ / "run").string()).ok());
  std::string bytes[2];
  for (int sequential = 0; sequential < 2; ++sequential) {
    auto run = trace::Run::Open((dir_ / "run").string());
    ASSERT_TRUE(run.ok());
    auto model = analysis::ModelRun(*run, dir_.string());
    ASSERT_TRUE(model.ok());
    auto checked = analysis::CheckModel(**model, {});
    ASSERT_TRUE(checked.ok());
    ASSERT_FALSE(checked->findings.empty());
    const std::string path = (dir_ / ("t" + std::to_string(sequential))).string();
    std::FILE* out = std::fopen(path.c_str(), "wb");
    ASSERT_NE(out, nullptr);
    auto sink = MakePerfettoSink(out);
    OneAfterAnother one_by_one(*sink);
    TimelineSink& to = sequential ? static_cast<TimelineSink&>(one_by_one) : *sink;
    auto stats = WriteTimeline(*run, **model, checked->findings, to);
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->ranks, 6u);
    std::fclose(out);
    std::ifstream in(path, std::ios::binary);
    bytes[sequential] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_GT(bytes[0].size(), 1000u);
  EXPECT_TRUE(bytes[0] == bytes[1]) << "the parallel output differs";
}

// Slices as "S pid name begin end" and counter values as "C pid track ts value" (times in ns),
// from the resolved native trace.
std::multiset<std::string> SlicesAndCounters(const pb::Trace& t, const Decoded& d) {
  std::multiset<std::string> out;
  std::map<uint64_t, std::vector<const pb::TracePacket*>> open;  // by track
  for (const pb::TracePacket& p : t.packet()) {
    if (!p.has_track_event()) continue;
    const pb::TrackEvent& e = p.track_event();
    const std::string pid = std::to_string(PidOf(d, e.track_uuid()));
    if (e.type() == pb::TrackEvent::TYPE_SLICE_BEGIN) open[e.track_uuid()].push_back(&p);
    if (e.type() == pb::TrackEvent::TYPE_SLICE_END) {
      auto& stack = open[e.track_uuid()];
      EXPECT_FALSE(stack.empty());
      if (stack.empty()) continue;
      out.insert("S " + pid + " " + stack.back()->track_event().name() + " " +
                 std::to_string(stack.back()->timestamp()) + " " + std::to_string(p.timestamp()));
      stack.pop_back();
    }
    if (e.type() == pb::TrackEvent::TYPE_COUNTER)
      out.insert("C " + pid + " " + d.tracks.at(e.track_uuid()).name() + " " +
                 std::to_string(p.timestamp()) + " " + std::to_string(e.counter_value()));
  }
  return out;
}

TEST_F(TimelineTest, DeltaTimesAndCountersDecodeToTheJsonTimes) {
  // Three ranks, two threads each; ops complete later than they are issued, so each stream slice
  // starts before the completion written just before it.
  auto ranks = World(3, kComm, kKey);
  for (uint32_t r = 0; r < 3; ++r) {
    ranks[r].Advance(1000 * r);
    ranks[r].SetDevice(static_cast<int>(r), /*thread=*/1);
    for (int step = 0; step < 3; ++step) {
      ranks[r].Mark(step);
      const uint64_t a = ranks[r].AllReduce(kComm, 1024);
      const uint64_t b = ranks[r].AllReduce(kComm, 256, analysis::testing::kFloat16);
      ranks[r].Advance(7000 + 100 * r);
      ranks[r].Completion(a);
      ranks[r].Completion(b);
    }
  }
  ranks[0].Send(kComm, 64, 2);
  ranks[2].Recv(kComm, 64, 0);
  ASSERT_TRUE(WriteRun(ranks, (dir_ / "run").string()).ok());
  Export(Format::kPerfetto, "run.perfetto-trace");
  // As written: times on each sequence's clock, earlier ones in full on the trace clock, events
  // of the first thread without their track, byte counts along with the calls.
  pb::Trace raw;
  {
    std::ifstream in((dir_ / "run.perfetto-trace").string(), std::ios::binary);
    ASSERT_TRUE(raw.ParseFromIstream(&in));
  }
  int deltas = 0, absolute = 0, default_track = 0, along = 0;
  for (const pb::TracePacket& p : raw.packet()) {
    if (!p.has_track_event()) continue;
    (p.has_timestamp_clock_id() ? absolute : deltas) += 1;
    if (p.has_timestamp_clock_id()) {
      EXPECT_EQ(p.timestamp_clock_id(), kBoottime);
    }
    default_track += !p.track_event().has_track_uuid();
    along += p.track_event().extra_counter_values_size();
  }
  EXPECT_GT(deltas, 50);
  EXPECT_GT(absolute, 0);
  EXPECT_GT(default_track, 20);
  EXPECT_EQ(along, 3 * 6 + 2);  // every op's bytes

  // Resolved: the same slices and counter values at the same nanoseconds as the JSON form.
  const pb::Trace t = Export(Format::kPerfetto, "run.perfetto-trace");
  const std::multiset<std::string> from_proto = SlicesAndCounters(t, Decode(t));
  EXPECT_GT(from_proto.size(), 60u);
  Export(Format::kJson, "run.json");
  bool ok = false;
  const auto lines = Python(
      "import json, sys\n"
      "ns = lambda v: int(round(v * 1000))\n"
      "for e in json.load(open(sys.argv[1]))['traceEvents']:\n"
      "  if e['ph'] == 'X':\n"
      "    print('S %d %s %d %d' % (e['pid'], e['name'], ns(e['ts']), ns(e['ts']) + "
      "ns(e['dur'])))\n"
      "  if e['ph'] == 'C':\n"
      "    print('C %d %s %d %d' % (e['pid'], e['name'], ns(e['ts']), e['args']['value']))\n",
      (dir_ / "run.json").string(), &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(std::multiset<std::string>(lines.begin(), lines.end()), from_proto);
}

TEST_F(TimelineTest, ALongCallLeavesLaterTimesAsDeltas) {
  // A call on a second thread that lasts past every later event: its end is written last, and
  // the events after its begin keep short deltas on the sequence's clock (only stream slices,
  // which start before the completion written just before them, go back to the trace clock).
  auto ranks = World(2, kComm, kKey);
  for (uint32_t r = 0; r < 2; ++r) {
    trace::CallInfo long_call;
    long_call.duration_ns = 1000000000;
    ranks[r].Call(long_call, /*thread=*/1, [&](trace::WireEncoder& e) {
      trace::EncodeCudaSetDevice(e, static_cast<int>(r));
    });
    for (int step = 0; step < 4; ++step) {
      ranks[r].Mark(step);
      const uint64_t a = ranks[r].AllReduce(kComm, 1024);
      ranks[r].Advance(5000);
      ranks[r].Completion(a);
    }
  }
  ASSERT_TRUE(WriteRun(ranks, (dir_ / "run").string()).ok());
  Export(Format::kPerfetto, "run.perfetto-trace");
  pb::Trace raw;
  {
    std::ifstream in((dir_ / "run.perfetto-trace").string(), std::ios::binary);
    ASSERT_TRUE(raw.ParseFromIstream(&in));
  }
  std::map<uint32_t, std::vector<const pb::TracePacket*>> events;  // per sequence, in file order
  for (const pb::TracePacket& p : raw.packet())
    if (p.has_track_event()) events[p.trusted_packet_sequence_id()].push_back(&p);
  for (uint32_t seq : {1u, 2u}) {
    const std::vector<const pb::TracePacket*>& list = events[seq];
    ASSERT_GT(list.size(), 20u);
    int absolute = 0;
    for (const pb::TracePacket* p : list) absolute += p->has_timestamp_clock_id();
    EXPECT_LE(absolute, 4) << "sequence " << seq;  // at most one per stream slice
    // The long call's end: the sequence's last event, the latest time.
    EXPECT_EQ(list.back()->track_event().type(), pb::TrackEvent::TYPE_SLICE_END);
    EXPECT_FALSE(list.back()->has_timestamp_clock_id());
  }
  // Resolved, its slice still spans the others.
  const pb::Trace t = Export(Format::kPerfetto, "run.perfetto-trace");
  const Decoded d = Decode(t);
  uint64_t long_begin = 0, latest = 0;
  for (const pb::TracePacket& p : t.packet()) {
    if (!p.has_track_event() || PidOf(d, p.track_event().track_uuid()) != 1) continue;
    if (p.track_event().name() == "cudaSetDevice") long_begin = p.timestamp();
    latest = std::max<uint64_t>(latest, p.timestamp());
  }
  EXPECT_GT(long_begin, 0u);
  EXPECT_EQ(latest, long_begin + 1000000000);
}

// The packets of each sequence, as written (raw bytes), in file order.
std::map<uint32_t, std::vector<std::string>> PacketsBySequence(const std::string& path) {
  pb::Trace t;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(t.ParseFromIstream(&in));
  std::map<uint32_t, std::vector<std::string>> out;
  for (const pb::TracePacket& p : t.packet())
    out[p.trusted_packet_sequence_id()].push_back(p.SerializeAsString());
  return out;
}

TEST_F(TimelineTest, RanksThatNeedTheModelAreWrittenAgainAfterIt) {
  // Four ranks split their communicator (the split, not the rank, gives their comm ranks: only
  // the whole run tells them); rank 0 sends to rank 2 on it; rank 1 records no completions.
  // Written while modelled, ranks 0 to 2 are taken back and written after the model: the same
  // packets as when the model comes first, rank 3's before theirs.
  constexpr uint64_t kSplit = 0xd0, kSplitKey = 0x5117;
  auto ranks = World(4, kComm, kKey);
  for (uint32_t r = 0; r < 4; ++r) {
    for (int i = 0; i < 2; ++i) {
      const uint64_t op = ranks[r].AllReduce(kComm, 1024);
      if (r != 1) ranks[r].Completion(op);
    }
    ranks[r].Split(kComm, kSplit, kSplitKey, /*color=*/0, /*split_key=*/static_cast<int>(r));
  }
  ranks[0].Completion(ranks[0].Send(kSplit, 64, 2));
  ranks[2].Completion(ranks[2].Recv(kSplit, 64, 0));
  ASSERT_TRUE(WriteRun(ranks, (dir_ / "run").string()).ok());

  TimelineStats stats;
  const pb::Trace t = Export(Format::kPerfetto, "one.perfetto-trace", &stats);
  EXPECT_EQ(stats.ranks, 4u);
  std::vector<uint32_t> order;  // sequences in order of first appearance
  for (const pb::TracePacket& p : t.packet())
    if (std::find(order.begin(), order.end(), p.trusted_packet_sequence_id()) == order.end())
      order.push_back(p.trusted_packet_sequence_id());
  EXPECT_EQ(order, (std::vector<uint32_t>{4, 1, 2, 3, 5}));  // rank 3, the others, the findings
  // The send and its receive carry one flow id: the split's comm ranks were known.
  const Decoded d = Decode(t);
  std::map<std::string, uint64_t> p2p;
  for (const auto& [uuid, list] : d.begins)
    for (const pb::TracePacket* p : list)
      if (p->track_event().name() == "ncclSend" || p->track_event().name() == "ncclRecv")
        if (p->track_event().flow_ids_size() == 1)
          p2p[p->track_event().name()] = p->track_event().flow_ids(0);
  ASSERT_EQ(p2p.size(), 2u);
  EXPECT_EQ(p2p["ncclSend"], p2p["ncclRecv"]);

  // The model first, then every rank.
  auto checked = analysis::testing::ReadRun((dir_ / "run").string());
  ASSERT_TRUE(checked.ok());
  const std::string two = (dir_ / "two.perfetto-trace").string();
  std::FILE* out = std::fopen(two.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  auto sink = MakePerfettoSink(out);
  ASSERT_TRUE(WriteTimeline(*checked->run, *checked->model, checked->findings, *sink).ok());
  std::fclose(out);
  const auto one_pass = PacketsBySequence((dir_ / "one.perfetto-trace").string());
  const auto two_pass = PacketsBySequence(two);
  ASSERT_EQ(one_pass.size(), 5u);
  EXPECT_TRUE(one_pass == two_pass) << "the timeline written while modelled differs";
}

TEST_F(TimelineTest, FailedModelLeavesNoOutput) {
  WriteTwoRanks(/*mismatch=*/false);
  auto run = trace::Run::Open((dir_ / "run").string());
  ASSERT_TRUE(run.ok());
  const fs::path out = dir_ / "run.perfetto-trace";
  // The op store cannot be made in a temporary directory that does not exist.
  auto s = ExportTimeline(*run, Format::kPerfetto, out.string(), (dir_ / "no" / "tmp").string());
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".partial"));
}

TEST_F(TimelineTest, UnwritableOutputIsAnError) {
  WriteTwoRanks(/*mismatch=*/false);
  auto run = trace::Run::Open((dir_ / "run").string());
  ASSERT_TRUE(run.ok());
  auto s =
      ExportTimeline(*run, Format::kPerfetto, (dir_ / "no" / "such" / "x").string(), dir_.string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("cannot write"), std::string::npos);
}

}  // namespace
}  // namespace ddrr::timeline
