#include "import/flight_recorder.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "import/import.h"
#include "import/json.h"
#include "import/pickle.h"
#include "import/run_writer.h"
#include "spec/api_encode.h"

namespace ddrr::import {

const char* const kFlightRecorderEntryKeys[] = {"record_id",
                                                "pg_id",
                                                "process_group",
                                                "collective_seq_id",
                                                "p2p_seq_id",
                                                "op_id",
                                                "profiling_name",
                                                "time_created_ns",
                                                "input_sizes",
                                                "input_dtypes",
                                                "output_sizes",
                                                "output_dtypes",
                                                "state",
                                                "time_discovered_started_ns",
                                                "time_discovered_completed_ns",
                                                "retired",
                                                "timeout_ms",
                                                "is_p2p",
                                                "frames",
                                                nullptr};

namespace {

constexpr size_t kMaxDumpBytes = size_t(2) << 30;

struct FrEntry {
  int64_t record_id = 0;
  int64_t pg_id = -1;
  std::string pg_name, pg_desc;
  int64_t coll_seq = 0, p2p_seq = 0;
  bool is_p2p = false;
  bool known = false;  // a call ddrr models
  OpFn op = OpFn::kAllReduce;
  std::string name;  // profiling name
  int64_t peer = -1;
  uint64_t in_numel = 0, out_numel = 0;
  int dtype = -1;
  std::string state;
  int64_t time_ns = 0;
};

struct FrGroup {
  std::string desc;
  std::vector<int64_t> ranks;
};

struct FrDump {
  std::string path, version;
  int64_t rank = -1;
  bool rank_guessed = false;
  int nccl_version = 0;
  std::map<std::string, FrGroup> groups;  // pg_config by name
  std::vector<FrEntry> entries;
  std::set<std::string> missing_keys;
  bool wrapped = false;  // the first entry kept is not the first the ring recorded
};

std::string Str(const Value* v) { return v && v->kind == Value::kString ? v->s : std::string(); }

// "[0, 1, 2]" (pickle and JSON dumps write ranks as a string) or a list of ints.
std::vector<int64_t> Ranks(const Value* v) {
  std::vector<int64_t> out;
  if (!v) return out;
  if (v->kind == Value::kList) {
    for (const auto& i : v->items)
      if (i->IsNumber()) out.push_back(i->AsInt());
    return out;
  }
  if (v->kind != Value::kString) return out;
  int64_t cur = 0;
  bool in = false;
  for (char c : v->s) {
    if (c >= '0' && c <= '9') {
      if (cur < (int64_t(1) << 40)) cur = cur * 10 + (c - '0');
      in = true;
    } else if (in) {
      out.push_back(cur);
      cur = 0;
      in = false;
    }
  }
  if (in) out.push_back(cur);
  return out;
}

// Elements of every tensor in `sizes` ([[d0, d1], [d0]]).
uint64_t Numel(const Value* sizes) {
  if (!sizes || sizes->kind != Value::kList) return 0;
  uint64_t total = 0;
  for (const auto& t : sizes->items) {
    if (t->kind != Value::kList) continue;
    uint64_t n = 1;
    for (const auto& d : t->items) n *= static_cast<uint64_t>(std::max<int64_t>(d->AsInt(), 0));
    total += n;
  }
  return total;
}

// torch dtype names as the dumps write them -> ncclDataType_t.
int DataType(const std::string& s) {
  static const std::pair<const char*, int> kTypes[] = {
      {"Char", 0},         {"Byte", 1},   {"Bool", 1},   {"Int", 2},      {"Long", 4},
      {"Half", 6},         {"Float", 7},  {"Double", 8}, {"BFloat16", 9}, {"Float8_e4m3fn", 10},
      {"Float8_e5m2", 11}, {"UInt32", 3}, {"UInt64", 5}};
  for (const auto& [name, t] : kTypes)
    if (s == name) return t;
  return -1;
}

StatusOr<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    return Status::NotFound("cannot open " + path + ": " + strerror(errno) +
                            "; check the path of the dump");
  const std::streamoff size = in.tellg();
  if (size < 0 || static_cast<uint64_t>(size) > kMaxDumpBytes)
    return Status::InvalidArgument(path + " is over 2 GiB: not a Flight Recorder dump");
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(0);
  in.read(bytes.data(), size);
  if (!in) return Status::IoError("cannot read " + path);
  return bytes;
}

StatusOr<FrDump> ParseDump(const std::string& path) {
  DDRR_ASSIGN_OR_RETURN(std::string bytes, ReadWhole(path));
  DDRR_ASSIGN_OR_RETURN(ValuePtr root, ReadFlightRecorderDump(bytes, path));
  const Value* entries = root->Get("entries");
  if (root->kind != Value::kDict || !entries || entries->kind != Value::kList)
    return Status::InvalidArgument(path + " has no 'entries' list: not a Flight Recorder dump");
  FrDump d;
  d.path = path;
  d.version = Str(root->Get("version"));
  if (const Value* v = root->Get("nccl_version")) {
    // "2.21.5"
    int a = 0, b = 0, c = 0;
    if (sscanf(Str(v).c_str(), "%d.%d.%d", &a, &b, &c) == 3)
      d.nccl_version = a * 10000 + b * 100 + c;
  }
  if (const Value* r = root->Get("rank"); r && r->IsNumber()) d.rank = r->AsInt();
  if (d.rank < 0) d.rank = RankFromFileName(path);
  if (const Value* pgs = root->Get("pg_config"); pgs && pgs->kind == Value::kDict)
    for (const auto& [k, v] : pgs->dict) {
      FrGroup g;
      g.desc = Str(v->Get("desc"));
      g.ranks = Ranks(v->Get("ranks"));
      std::string name = Str(v->Get("name"));
      if (name.empty()) name = k->kind == Value::kString ? k->s : std::to_string(k->AsInt());
      d.groups[name] = std::move(g);
    }
  for (const auto& ev : entries->items) {
    if (ev->kind != Value::kDict) continue;
    for (const char* const* k = kFlightRecorderEntryKeys; *k; ++k)
      if (!ev->Get(*k)) d.missing_keys.insert(*k);
    FrEntry e;
    auto num = [&](const char* key, int64_t fallback) {
      const Value* v = ev->Get(key);
      return v && v->IsNumber() ? v->AsInt() : fallback;
    };
    e.record_id = num("record_id", 0);
    e.pg_id = num("pg_id", -1);
    if (const Value* pg = ev->Get("process_group"); pg && pg->kind == Value::kList) {
      if (!pg->items.empty()) e.pg_name = Str(pg->items[0].get());
      if (pg->items.size() > 1) e.pg_desc = Str(pg->items[1].get());
    }
    if (e.pg_name.empty()) e.pg_name = e.pg_id >= 0 ? std::to_string(e.pg_id) : "0";
    e.coll_seq = num("collective_seq_id", num("seq_id", 0));
    e.p2p_seq = num("p2p_seq_id", 0);
    e.name = Str(ev->Get("profiling_name"));
    e.known = TorchOpFn(e.name, &e.op, &e.peer);
    const Value* p2p = ev->Get("is_p2p");
    e.is_p2p = p2p ? p2p->AsInt() != 0 : (e.known && (e.op == OpFn::kSend || e.op == OpFn::kRecv));
    e.in_numel = Numel(ev->Get("input_sizes"));
    e.out_numel = Numel(ev->Get("output_sizes"));
    std::string dtype;
    for (const char* key : {"input_dtypes", "output_dtypes"})
      if (const Value* v = ev->Get(key);
          v && v->kind == Value::kList && !v->items.empty() && dtype.empty())
        dtype = Str(v->items[0].get());
    e.dtype = DataType(dtype);
    e.state = Str(ev->Get("state"));
    e.time_ns = num("time_created_ns", 0);
    d.entries.push_back(std::move(e));
  }
  std::stable_sort(d.entries.begin(), d.entries.end(),
                   [](const FrEntry& a, const FrEntry& b) { return a.record_id < b.record_id; });
  d.wrapped = !d.entries.empty() && d.entries.front().record_id > 0;
  return d;
}

// A process group's communicator key (the same on every rank) and size (-1: unknown).
uint64_t GroupKey(const std::string& pg, const std::map<std::string, FrGroup>& groups,
                  int64_t* size) {
  auto g = groups.find(pg);
  *size = g != groups.end() && !g->second.ranks.empty()
              ? static_cast<int64_t>(g->second.ranks.size())
              : -1;
  return CommKey(std::hash<std::string>()("fr-pg:" + pg), static_cast<uint64_t>(*size));
}

std::string Join(const std::set<std::string>& s) {
  std::string out;
  for (const std::string& x : s) out += (out.empty() ? "" : ",") + x;
  return out;
}

}  // namespace

StatusOr<ValuePtr> ReadFlightRecorderDump(const std::string& bytes, const std::string& path) {
  if (!bytes.empty() && static_cast<uint8_t>(bytes[0]) == 0x80) return ReadPickle(bytes, path);
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && bytes[first] == '{') return ReadJson(bytes, path);
  return Status::InvalidArgument(path +
                                 " is neither a pickle nor a JSON Flight Recorder dump; pass "
                                 "the file TORCH_FR_DUMP_TEMP_FILE named, unmodified");
}

Status ImportFlightRecorder(const std::vector<std::string>& paths, const std::string& out_dir,
                            const FlightRecorderOptions& options, ImportResult* result) {
  std::vector<FrDump> dumps;
  for (const std::string& p : paths) {
    DDRR_ASSIGN_OR_RETURN(FrDump d, ParseDump(p));
    dumps.push_back(std::move(d));
  }
  // Ranks: from the dump or its file name; else the lowest free, in input order.
  std::map<int64_t, size_t> taken;
  for (size_t i = 0; i < dumps.size(); ++i) {
    if (dumps[i].rank < 0) continue;
    auto [it, fresh] = taken.emplace(dumps[i].rank, i);
    if (!fresh)
      return Status::InvalidArgument(dumps[it->second].path + " and " + dumps[i].path +
                                     " are both rank " + std::to_string(dumps[i].rank) +
                                     ": import one job's dumps, one file per rank");
  }
  int64_t next = 0;
  for (FrDump& d : dumps) {
    if (d.rank >= 0) continue;
    while (taken.count(next)) ++next;
    d.rank = next;
    d.rank_guessed = true;
    taken.emplace(next, 0);
    result->notes.push_back(d.path + ": no rank in the dump or its name; taken as rank " +
                            std::to_string(next) + " (a guess)");
  }
  // Process groups: membership from pg_config (the same on every rank).
  std::map<std::string, FrGroup> groups;
  size_t largest = 0;
  for (const FrDump& d : dumps)
    for (const auto& [name, g] : d.groups) {
      if (!groups.count(name) || groups[name].ranks.empty()) groups[name] = g;
      largest = std::max(largest, g.ranks.size());
    }
  uint32_t world = options.world_size;
  if (!world) world = static_cast<uint32_t>(largest);
  world = WorldWithMissingRanksNoted(
      taken, world, "dump: what it did cannot be told, only what the others waited for", result);
  // A ring that wrapped lost its oldest entries: collectives are kept from the latest first
  // sequence number of any rank on, per process group, so that the k-th of every rank is one
  // operation; point-to-point calls from the latest first entry time of a wrapped ring.
  std::map<std::string, int64_t> first_coll;
  int64_t p2p_from = 0;
  for (const FrDump& d : dumps) {
    std::map<std::string, int64_t> mine;
    for (const FrEntry& e : d.entries)
      if (!e.is_p2p && e.coll_seq > 0 && !mine.count(e.pg_name)) mine[e.pg_name] = e.coll_seq;
    for (const auto& [pg, s] : mine) first_coll[pg] = std::max(first_coll[pg], s);
    if (d.wrapped) p2p_from = std::max(p2p_from, d.entries.front().time_ns);
  }
  for (FrDump& d : dumps) {
    if (d.wrapped)
      result->notes.push_back(d.path + ": the ring wrapped (first record_id " +
                              std::to_string(d.entries.front().record_id) +
                              "): earlier operations are not in the dump");
    uint64_t dropped = 0;
    std::vector<FrEntry> kept;
    for (FrEntry& e : d.entries) {
      const bool old =
          e.is_p2p ? e.time_ns < p2p_from : e.coll_seq > 0 && e.coll_seq < first_coll[e.pg_name];
      if (old)
        ++dropped;
      else
        kept.push_back(std::move(e));
    }
    d.entries = std::move(kept);
    if (dropped)
      result->notes.push_back("rank " + std::to_string(d.rank) + ": " + std::to_string(dropped) +
                              " entries older than what every rank's ring still holds were left "
                              "out");
    if (!d.missing_keys.empty())
      result->notes.push_back(d.path + " (format " + (d.version.empty() ? "?" : d.version) +
                              ") lacks entry keys: " + Join(d.missing_keys));
  }
  int64_t start = 0;
  for (const FrDump& d : dumps)
    for (const FrEntry& e : d.entries)
      if (e.time_ns > 0 && (start == 0 || e.time_ns < start)) start = e.time_ns;

  DDRR_RETURN_IF_ERROR(PrepareRunDir(out_dir));
  std::sort(dumps.begin(), dumps.end(),
            [](const FrDump& a, const FrDump& b) { return a.rank < b.rank; });
  std::map<std::string, uint64_t> skipped;  // unknown profiling names
  for (const FrDump& d : dumps) {
    trace::HeaderInfo h;
    h.rank = static_cast<uint32_t>(d.rank);
    h.world_size = world;
    // Dumps name no host or device: one host per rank, so that no check finds two ranks on
    // one device from data the dump does not have.
    h.host = "unknown-host-of-rank-" + std::to_string(d.rank);
    h.nccl_version = d.nccl_version;
    h.start_unix_ns = static_cast<uint64_t>(start);
    h.rank_source = d.rank_guessed ? "import: order of the input" : "import: dump";
    Source src;
    src.format = "fr";
    src.version = d.version;
    src.file = d.path;
    src.unknown = {"pointers",  "reduce-op",  "root", "streams", "results",
                   "durations", "cuda-calls", "data", "host"};
    for (const std::string& k : d.missing_keys) src.unknown.push_back("entry." + k);
    // Process-group names for the findings (analysis: RankScan::comm_names).
    std::map<std::string, std::string> descs;
    for (const auto& [pg, g] : groups)
      if (std::find(g.ranks.begin(), g.ranks.end(), d.rank) != g.ranks.end()) descs[pg] = g.desc;
    for (const FrEntry& e : d.entries)
      if (descs[e.pg_name].empty()) descs[e.pg_name] = e.pg_desc;
    for (const auto& [pg, desc] : descs) {
      int64_t size;
      char name[40];
      snprintf(name, sizeof(name), "DDRR_COMM_NAME_%016llx",
               static_cast<unsigned long long>(GroupKey(pg, groups, &size)));
      h.env[name] = desc.empty() ? "process group " + pg : desc + " (process group " + pg + ")";
    }
    DDRR_ASSIGN_OR_RETURN(auto w, RankWriter::Create(out_dir, h, src));
    std::map<std::string, uint64_t> handles;  // pg name -> the handle its calls use
    // A process group's communicator: its key, the handle this rank's calls use, and (first
    // time) a note naming it and an ncclCommInitRank when pg_config gives its members.
    auto open_group = [&](const std::string& pg, const std::string& entry_desc, int64_t* size,
                          uint64_t* key, uint64_t* handle) -> Status {
      auto g = groups.find(pg);
      *key = GroupKey(pg, groups, size);
      auto [it, fresh] = handles.try_emplace(pg, handles.size() + 1);
      *handle = it->second;
      if (!fresh) return Status::Ok();
      int64_t comm_rank = -1;
      if (g != groups.end())
        for (size_t i = 0; i < g->second.ranks.size(); ++i)
          if (g->second.ranks[i] == d.rank) comm_rank = static_cast<int64_t>(i);
      const std::string desc = !entry_desc.empty() ? entry_desc
                               : g != groups.end() ? g->second.desc
                                                   : std::string();
      DDRR_RETURN_IF_ERROR(
          w->Note("process group " + pg + (desc.empty() ? "" : " (" + desc + ")") +
                  ": communicator " + std::to_string(*handle) + ", " +
                  (*size > 0 ? std::to_string(*size) + " ranks" : "size unknown")));
      if (*size <= 0 || comm_rank < 0) return Status::Ok();
      std::string id(128, '\0');
      memcpy(id.data(), key, sizeof(*key));
      trace::CallInfo c;
      c.comm_key = *key;
      const uint64_t h = *handle;
      const int64_t n = *size;
      return w
          ->Call(c,
                 [&](trace::WireEncoder& enc) {
                   trace::EncodeNcclCommInitRank(enc, h, n, id, comm_rank);
                 })
          .status();
    };
    // Every group pg_config lists this rank in exists from the start, used or not.
    for (const auto& [pg, g] : groups) {
      if (std::find(g.ranks.begin(), g.ranks.end(), d.rank) == g.ranks.end()) continue;
      int64_t size;
      uint64_t key, handle;
      DDRR_RETURN_IF_ERROR(open_group(pg, "", &size, &key, &handle));
    }
    for (const FrEntry& e : d.entries) {
      if (!e.known) {
        ++skipped[e.name];
        continue;
      }
      if (e.time_ns > 0) w->SetTime(static_cast<uint64_t>(e.time_ns - start));
      int64_t size;
      uint64_t key, handle;
      DDRR_RETURN_IF_ERROR(open_group(e.pg_name, e.pg_desc, &size, &key, &handle));
      const int64_t dt = e.dtype < 0 ? 255 : e.dtype;
      const uint64_t per_peer = size > 0 ? e.in_numel / static_cast<uint64_t>(size) : e.in_numel;
      // Pointers, streams, the reduction op and the root are not in a dump: 0 (sum, root 0).
      OpArgs a;
      a.fn = e.op;
      a.datatype = dt;
      a.comm = handle;
      switch (e.op) {
        case OpFn::kReduceScatter:
        case OpFn::kScatter:
        case OpFn::kRecv:
          a.count = e.out_numel;
          break;
        case OpFn::kAlltoAll:
          a.count = per_peer;
          break;
        default:
          a.count = e.in_numel;
      }
      if (e.op == OpFn::kSend || e.op == OpFn::kRecv) a.root = e.peer;
      DDRR_ASSIGN_OR_RETURN(uint64_t seq, w->Operation(key, a));
      ++result->entries;
      if (e.state == "completed") DDRR_RETURN_IF_ERROR(w->Completion(seq, key, 0));
    }
    result->events += w->events();
    ++result->ranks;
    DDRR_RETURN_IF_ERROR(w->Close(true));
  }
  for (const auto& [name, n] : skipped)
    result->notes.push_back(std::to_string(n) + " entries '" + name +
                            "' are of a kind ddrr does not model; left out");
  result->world_size = world;
  return Status::Ok();
}

}  // namespace ddrr::import
