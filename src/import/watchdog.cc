#include "import/watchdog.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <set>

#include "import/import.h"
#include "import/run_writer.h"
#include "import/text_input.h"
#include "spec/api_encode.h"

namespace ddrr::import {
namespace {

using std::string_view;

constexpr string_view kMarker = "Watchdog caught collective operation timeout: ";

bool ToInt(string_view s, int64_t* v) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
  return r.ec == std::errc() && *v >= 0;
}

// The "[...]" that ends `head` (spaces after it allowed), or empty.
string_view LastBracket(string_view head) {
  while (!head.empty() && head.back() == ' ') head.remove_suffix(1);
  if (head.empty() || head.back() != ']') return {};
  const size_t open = head.rfind('[');
  return open == string_view::npos ? string_view() : head.substr(open + 1, head.size() - open - 2);
}

// "Rank 3", "PG 1 Rank 3", "PG ID 1 PG GUID 3(desc) Rank 3", "PG 0 (default_pg) Rank 3".
void ParseRankPrefix(string_view s, WatchdogLine* out) {
  if (const size_t r = s.rfind("Rank "); r != string_view::npos)
    ToInt(s.substr(r + 5), &out->pg_rank);
  if (const size_t open = s.find('('); open != string_view::npos) {
    const size_t close = s.find(')', open);
    if (close != string_view::npos)
      out->pg_desc = std::string(s.substr(open + 1, close - open - 1));
  }
  auto token_after = [&](string_view key) -> std::string {
    const size_t at = s.find(key);
    if (at == string_view::npos) return {};
    string_view t = s.substr(at + key.size());
    t = t.substr(0, std::min(t.find(' '), t.find('(')));
    return std::string(t);
  };
  std::string id = token_after("PG GUID ");
  if (id.empty()) id = token_after("PG ID ");
  if (id.empty() && s.starts_with("PG ")) id = token_after("PG ");
  out->pg = id;
}

// torchrun's "[rank3]:" in front of the line.
void ParseTorchrunRank(string_view head, WatchdogLine* out) {
  for (size_t at = head.find("[rank"); at != string_view::npos; at = head.find("[rank", at + 1)) {
    const size_t close = head.find("]:", at);
    int64_t r;
    if (close != string_view::npos && close > at + 5 &&
        ToInt(head.substr(at + 5, close - at - 5), &r)) {
      out->global_rank = r;
      return;
    }
  }
}

// WorkNCCL's fields: "SeqNum=5, OpType=ALLREDUCE, TensorShape=[2, 3], Timeout(ms)=600000".
void ParseFields(string_view s, WatchdogLine* out) {
  size_t i = 0;
  while (i < s.size()) {
    size_t end = i;
    int depth = 0;
    while (end < s.size() && !(depth == 0 && s[end] == ',')) {
      if (s[end] == '[' || s[end] == '(') ++depth;
      if ((s[end] == ']' || s[end] == ')') && depth > 0) --depth;
      ++end;
    }
    string_view field = s.substr(i, end - i);
    while (!field.empty() && field.front() == ' ') field.remove_prefix(1);
    const size_t eq = field.find('=');
    if (eq != string_view::npos) {
      const string_view key = field.substr(0, eq), value = field.substr(eq + 1);
      if (key == "SeqNum") ToInt(value, &out->seq);
      if (key == "OpType") out->op_type = std::string(value);
      if (key == "NumelIn") ToInt(value, &out->numel_in);
      if (key == "NumelOut") ToInt(value, &out->numel_out);
      if (key == "Timeout(ms)") ToInt(value, &out->timeout_ms);
    }
    i = end + 1;
  }
}

}  // namespace

bool ParseWatchdogLine(string_view line, WatchdogLine* out) {
  const size_t at = line.find(kMarker);
  if (at == string_view::npos) return false;
  string_view body = line.substr(at + kMarker.size());
  if (!body.starts_with("WorkNCCL(")) return false;
  // The matching parenthesis: Timeout(ms) has its own.
  size_t close = 9;
  for (int depth = 1; close < body.size(); ++close) {
    if (body[close] == '(') ++depth;
    if (body[close] == ')' && --depth == 0) break;
  }
  if (close >= body.size()) return false;
  *out = WatchdogLine{};
  const string_view head = line.substr(0, at);
  ParseRankPrefix(LastBracket(head), out);
  ParseTorchrunRank(head, out);
  ParseFields(body.substr(9, close - 9), out);
  if (const size_t ran = body.find(" ran for ", close); ran != string_view::npos)
    ToInt(body.substr(ran + 9, body.find(' ', ran + 9) - ran - 9), &out->ran_ms);
  return true;
}

namespace {

struct WatchdogRank {
  int64_t rank = -1;
  bool guessed = false;
  std::string file;
  std::map<std::string, WatchdogLine> groups;  // by GroupName()
};

bool WorldGroup(const WatchdogLine& l) {
  return l.pg.empty() || l.pg == "0" || l.pg_desc == "default_pg";
}
// The group's name across ranks and formats: the default group is "0" whether named or not.
std::string GroupName(const WatchdogLine& l) { return WorldGroup(l) ? "0" : l.pg; }

std::string GroupLabel(const WatchdogLine& l) {
  std::string s = l.pg.empty() ? "the process group" : "process group " + l.pg;
  if (!l.pg_desc.empty()) s += " (" + l.pg_desc + ")";
  return s;
}

}  // namespace

int64_t WatchdogLine::Rank() const {
  if (global_rank >= 0) return global_rank;
  return WorldGroup(*this) ? pg_rank : -1;
}

std::string WatchdogLine::Summary() const {
  const WatchdogLine& l = *this;
  std::string s = "watchdog: " + GroupLabel(l) + " timed out in " +
                  (l.op_type.empty() ? std::string("an operation") : l.op_type);
  if (l.seq >= 0) s += " SeqNum " + std::to_string(l.seq);
  if (l.numel_in >= 0) s += " NumelIn " + std::to_string(l.numel_in);
  if (l.numel_out >= 0) s += " NumelOut " + std::to_string(l.numel_out);
  if (l.ran_ms >= 0) s += " after " + std::to_string(l.ran_ms) + " ms";
  if (l.timeout_ms >= 0) s += " (timeout " + std::to_string(l.timeout_ms) + " ms)";
  return s;
}

Status ImportWatchdog(const std::vector<std::string>& paths, const std::string& out_dir,
                      const WatchdogOptions& options, ImportResult* result) {
  std::map<int64_t, WatchdogRank> ranks;
  std::vector<std::pair<std::string, std::vector<WatchdogLine>>> unplaced;  // file -> lines
  uint64_t messages = 0;
  for (const std::string& path : paths) {
    DDRR_ASSIGN_OR_RETURN(LineReader reader, LineReader::Open(path));
    std::vector<WatchdogLine> lines;
    std::set<int64_t> file_ranks;
    string_view text;
    while (reader.Next(&text)) {
      ++result->lines;
      WatchdogLine l;
      if (!ParseWatchdogLine(text, &l)) continue;
      ++messages;
      if (l.Rank() >= 0) file_ranks.insert(l.Rank());
      lines.push_back(std::move(l));
    }
    DDRR_RETURN_IF_ERROR(reader.status());
    // A line that does not tell its rank belongs to its file's one rank, or to the rank the
    // file's name ends with; else it waits for a free rank.
    int64_t file_rank = file_ranks.size() == 1 ? *file_ranks.begin() : -1;
    bool file_rank_guessed = false;
    if (file_rank < 0 && file_ranks.empty()) {
      file_rank = RankFromFileName(path);
      file_rank_guessed = file_rank >= 0;
    }
    std::vector<WatchdogLine> later;
    for (WatchdogLine& l : lines) {
      int64_t r = l.Rank();
      bool guessed = false;
      if (r < 0) {
        r = file_rank;
        guessed = file_rank_guessed;
      }
      if (r < 0) {
        later.push_back(std::move(l));
        continue;
      }
      WatchdogRank& wr = ranks[r];
      wr.rank = r;
      wr.guessed |= guessed;
      if (wr.file.empty()) wr.file = path;
      // A rank logs its timeout more than once (the log line, the exception's text): the
      // earliest operation of each group is the one it timed out in.
      auto [it, fresh] = wr.groups.try_emplace(GroupName(l), l);
      if (!fresh && l.seq >= 0 && (it->second.seq < 0 || l.seq < it->second.seq)) it->second = l;
    }
    if (!later.empty()) unplaced.emplace_back(path, std::move(later));
  }
  if (messages == 0) {
    std::string files;
    for (const std::string& p : paths) files += (files.empty() ? "" : ", ") + p;
    return Status::InvalidArgument(
        "no ProcessGroupNCCL watchdog message ('Watchdog caught "
        "collective operation timeout') in " +
        files + ": pass the job's logs, or pass --format for another format");
  }
  // Files whose lines name no rank: one rank each, the lowest free, in input order.
  int64_t next = 0;
  for (auto& [path, lines] : unplaced) {
    while (ranks.count(next)) ++next;
    WatchdogRank& wr = ranks[next];
    wr.rank = next;
    wr.guessed = true;
    wr.file = path;
    for (WatchdogLine& l : lines) wr.groups.try_emplace(GroupName(l), l);
    result->notes.push_back(path + ": its watchdog messages name no rank; taken as rank " +
                            std::to_string(next) + " (a guess from the order of the input)");
  }
  for (const auto& [r, wr] : ranks)
    if (wr.guessed && wr.file.size() && RankFromFileName(wr.file) == r)
      result->notes.push_back(wr.file + ": rank " + std::to_string(r) +
                              " from the file's name (its messages name none)");
  uint32_t world = options.world_size;
  if (!world) {
    world = static_cast<uint32_t>(ranks.rbegin()->first + 1);
    result->notes.push_back("world size " + std::to_string(world) +
                            " from the highest rank seen; pass --world-size if the job had more");
  }
  world = WorldWithMissingRanksNoted(
      ranks, world, "watchdog message: it did not time out, or its log is not in the input",
      result);
  // Sizes are written only where every rank's message gives them, so that no rank's count is
  // compared with a count another rank's message does not have.
  std::map<std::string, bool> numel_everywhere;
  for (const auto& [r, wr] : ranks)
    for (const auto& [pg, l] : wr.groups) {
      auto [it, fresh] = numel_everywhere.try_emplace(pg, true);
      it->second = it->second && l.numel_in >= 0 && l.numel_out >= 0;
    }

  DDRR_RETURN_IF_ERROR(PrepareRunDir(out_dir));
  for (const auto& [r, wr] : ranks) {
    trace::HeaderInfo h;
    h.rank = static_cast<uint32_t>(r);
    h.world_size = world;
    h.host = "unknown-host-of-rank-" + std::to_string(r);
    h.rank_source = wr.guessed ? "import: order of the input" : "import: watchdog message";
    Source src;
    src.format = "watchdog";
    src.file = wr.file;
    // What a watchdog message has: its group, the SeqNum, OpType and sizes of the operation
    // that timed out (which therefore never completed), and nothing else.
    src.unknown = {"earlier-ops", "pointers",  "datatype", "reduce-op",  "root", "peer", "streams",
                   "results",     "durations", "times",    "cuda-calls", "data", "host"};
    bool seq_missing = false, numel_missing = false;
    for (const auto& [pg, l] : wr.groups) {
      seq_missing |= l.seq < 0;
      numel_missing |= !numel_everywhere[pg];
    }
    if (seq_missing) src.unknown.push_back("seq");
    if (numel_missing) src.unknown.push_back("count");
    DDRR_ASSIGN_OR_RETURN(auto w, RankWriter::Create(out_dir, h, src));
    uint64_t handle = 0;
    for (const auto& [pg, l] : wr.groups) {
      ++handle;
      const bool world_group = WorldGroup(l);
      const int64_t size = world_group ? static_cast<int64_t>(world) : -1;
      const uint64_t key =
          CommKey(std::hash<std::string>()("watchdog-pg:" + pg), static_cast<uint64_t>(size));
      DDRR_RETURN_IF_ERROR(w->Note(l.Summary()));
      if (world_group) {
        std::string id(128, '\0');
        memcpy(id.data(), &key, sizeof(key));
        trace::CallInfo c;
        c.comm_key = key;
        DDRR_RETURN_IF_ERROR(w->Call(c, [&, r = r](trace::WireEncoder& e) {
                                trace::EncodeNcclCommInitRank(e, handle, size, id, r);
                              }).status());
      }
      OpArgs a;
      int64_t peer = -1;
      std::string type = l.op_type;
      std::transform(type.begin(), type.end(), type.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (l.seq < 1 || !TorchOpFn(type, &a.fn, &peer) || a.fn == OpFn::kSend ||
          a.fn == OpFn::kRecv) {
        // No SeqNum places it, or a send/receive whose peer the message does not name.
        DDRR_RETURN_IF_ERROR(w->Note(
            GroupLabel(l) + ": the operation is not written (" +
            (l.seq < 1 ? std::string("no SeqNum") : "its peer or kind is not in the message") +
            ")"));
        continue;
      }
      a.comm = handle;
      a.datatype = 255;  // not in the message
      if (numel_everywhere[pg])
        a.count = static_cast<uint64_t>(
            a.fn == OpFn::kReduceScatter || a.fn == OpFn::kScatter ? l.numel_out : l.numel_in);
      if (a.fn == OpFn::kAlltoAll && size > 0) a.count /= static_cast<uint64_t>(size);
      DDRR_RETURN_IF_ERROR(w->OperationAt(key, static_cast<uint64_t>(l.seq), a).status());
      ++result->entries;
    }
    result->events += w->events();
    ++result->ranks;
    DDRR_RETURN_IF_ERROR(w->Close(true));
  }
  result->world_size = world;
  return Status::Ok();
}

}  // namespace ddrr::import
