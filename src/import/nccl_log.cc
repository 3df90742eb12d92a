#include "import/nccl_log.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

#include "import/import.h"
#include "import/run_writer.h"
#include "import/text_input.h"
#include "import/watchdog.h"
#include "spec/api_encode.h"

namespace ddrr::import {
namespace {

using std::string_view;

constexpr string_view kInfo = " NCCL INFO ";
constexpr string_view kWarn = " NCCL WARN ";

struct FnName {
  string_view name;
  OpFn fn;
};
constexpr FnName kFns[] = {
    {"AllReduce", OpFn::kAllReduce}, {"Broadcast", OpFn::kBroadcast},
    {"Bcast", OpFn::kBroadcast},     {"Reduce", OpFn::kReduce},
    {"AllGather", OpFn::kAllGather}, {"ReduceScatter", OpFn::kReduceScatter},
    {"Send", OpFn::kSend},           {"Recv", OpFn::kRecv},
    {"AlltoAll", OpFn::kAlltoAll},   {"Gather", OpFn::kGather},
    {"Scatter", OpFn::kScatter},
};

bool ParseU64(string_view s, uint64_t* v, int base = 10) {
  if (base == 16 && s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v, base);
  return r.ec == std::errc();
}

bool ParseI32(string_view s, int32_t* v) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
  return r.ec == std::errc();  // a trailing "-" ("key 0- Init START") is left alone
}

// "%p": 0x55d0..., or "(nil)" for a null pointer.
bool ParsePtr(string_view s, uint64_t* v) {
  if (s == "(nil)" || s == "0") {
    *v = 0;
    return true;
  }
  return s.size() > 2 && s[0] == '0' && s[1] == 'x' && ParseU64(s, v, 16);
}

// The token after the word `key` ("comm" in "... comm 0x55 ..."): `key` must start the body or
// follow a space, and be followed by one.
bool Field(string_view body, string_view key, string_view* value) {
  size_t from = 0;
  while (true) {
    const size_t at = body.find(key, from);
    if (at == string_view::npos) return false;
    const size_t end = at + key.size();
    if ((at == 0 || body[at - 1] == ' ') && end < body.size() && body[end] == ' ') {
      size_t b = end;
      while (b < body.size() && body[b] == ' ') ++b;
      size_t e = b;
      while (e < body.size() && body[e] != ' ') ++e;
      *value = body.substr(b, e - b);
      return e > b;
    }
    from = at + 1;
  }
}

bool PtrField(string_view body, string_view key, uint64_t* v) {
  string_view s;
  return Field(body, key, &s) && ParsePtr(s, v);
}
bool IntField(string_view body, string_view key, int32_t* v) {
  string_view s;
  return Field(body, key, &s) && ParseI32(s, v);
}

// "host:pid:tid [dev]" ending just before `at` (where " NCCL INFO " starts); WARN lines have
// "file:line" between the two.
void ParsePrefix(string_view head, bool warn, LogLine* l) {
  auto last_token = [](string_view s) {
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    const size_t sp = s.rfind(' ');
    return std::pair{sp == string_view::npos ? s : s.substr(sp + 1),
                     sp == string_view::npos ? string_view() : s.substr(0, sp)};
  };
  auto [tok, rest] = last_token(head);
  if (warn && !tok.empty() && tok.front() != '[') std::tie(tok, rest) = last_token(rest);
  if (tok.size() < 3 || tok.front() != '[' || tok.back() != ']') return;
  int32_t dev = -1;
  if (!ParseI32(tok.substr(1, tok.size() - 2), &dev)) return;
  auto [who, _] = last_token(rest);
  const size_t c2 = who.rfind(':');
  if (c2 == string_view::npos || c2 == 0) return;
  const size_t c1 = who.rfind(':', c2 - 1);
  if (c1 == string_view::npos || c1 == 0) return;
  uint64_t pid = 0, tid = 0;
  if (!ParseU64(who.substr(c1 + 1, c2 - c1 - 1), &pid) || !ParseU64(who.substr(c2 + 1), &tid))
    return;
  l->has_prefix = true;
  l->host = who.substr(0, c1);
  l->pid = static_cast<uint32_t>(pid);
  l->dev = dev;
}

bool ParseOp(string_view body, LogLine* l, bool* cut_short) {
  const size_t at = body.find(": opCount ");
  if (at == string_view::npos) return false;
  size_t b = at;
  while (b > 0 && body[b - 1] != ' ' && body[b - 1] != ']') --b;
  const string_view name = body.substr(b, at - b);
  const FnName* fn = nullptr;
  for (const FnName& f : kFns)
    if (f.name == name) fn = &f;
  if (!fn) return false;
  const string_view rest = body.substr(at + 2);
  string_view s;
  if (!Field(rest, "opCount", &s) || !ParseU64(s, &l->op_count, 16)) return false;
  uint64_t count = 0;
  const bool ok = PtrField(rest, "sendbuff", &l->sendbuff) &&
                  PtrField(rest, "recvbuff", &l->recvbuff) && Field(rest, "count", &s) &&
                  ParseU64(s, &count) && IntField(rest, "datatype", &l->datatype) &&
                  IntField(rest, "op", &l->op) && IntField(rest, "root", &l->root) &&
                  PtrField(rest, "comm", &l->comm);
  const size_t nr = rest.find("[nranks=");
  string_view stream;
  const bool has_stream = rest.find(" stream ") != string_view::npos || rest.ends_with(" stream");
  if (!ok || !has_stream) {
    if (cut_short) *cut_short = true;
    return false;
  }
  if (Field(rest, "stream", &stream)) ParsePtr(stream, &l->stream);
  if (nr != string_view::npos) ParseI32(rest.substr(nr + 8), &l->nranks);
  // NCCL prints a send's buffer as recvbuff (sendbuff (nil)); older logs as sendbuff.
  if (fn->fn == OpFn::kSend && l->sendbuff == 0) l->sendbuff = l->recvbuff;
  l->count = count;
  l->fn = fn->fn;
  l->kind = LogLine::kOp;
  return true;
}

bool ParseInit(string_view body, LogLine* l) {
  const bool start = body.find("- Init START") != string_view::npos;
  const bool complete = body.find("- Init COMPLETE") != string_view::npos;
  if (!start && !complete) return false;
  if (!PtrField(body, "comm", &l->comm) || !IntField(body, "rank", &l->rank) ||
      !IntField(body, "nranks", &l->nranks))
    return false;
  l->complete = complete;
  IntField(body, "cudaDev", &l->cuda_dev);
  string_view s;
  if (Field(body, "commId", &s) && ParseU64(s, &l->comm_id, 16)) l->has_comm_id = true;
  if (PtrField(body, "parent", &l->parent)) {
    l->split = true;
    IntField(body, "color", &l->color);
    IntField(body, "key", &l->key);
  }
  l->kind = LogLine::kInit;
  return true;
}

bool ParseEnd(string_view body, LogLine* l) {
  const bool destroy = body.find("- Destroy COMPLETE") != string_view::npos;
  const bool abort = body.find("- Abort COMPLETE") != string_view::npos;
  if (!destroy && !abort) return false;
  if (!PtrField(body, "comm", &l->comm)) return false;
  IntField(body, "rank", &l->rank);
  IntField(body, "nranks", &l->nranks);
  l->kind = destroy ? LogLine::kDestroy : LogLine::kAbort;
  return true;
}

bool ParseVersion(string_view body, LogLine* l) {
  // "NCCL version 2.21.5+cuda12.4"
  const size_t at = body.find("NCCL version ");
  if (at == string_view::npos) return false;
  string_view v = body.substr(at + 13);
  v = v.substr(0, std::min(v.find('+'), v.find(' ')));
  int parts[3] = {0, 0, 0};
  string_view rest = v;
  for (int i = 0; i < 3; ++i) {
    auto r = std::from_chars(rest.data(), rest.data() + rest.size(), parts[i]);
    if (r.ec != std::errc()) return false;
    rest.remove_prefix(r.ptr - rest.data());
    if (i < 2) {
      if (rest.empty() || rest[0] != '.') return false;
      rest.remove_prefix(1);
    }
  }
  l->text = v;
  l->version_code = parts[0] * 10000 + parts[1] * 100 + parts[2];
  l->kind = LogLine::kVersion;
  return true;
}

}  // namespace

LogLine ParseNcclLine(string_view line, bool* cut_short) {
  LogLine l;
  if (cut_short) *cut_short = false;
  string_view body = line;
  size_t at = line.find(kInfo);
  bool warn = false;
  if (at == string_view::npos) {
    at = line.find(kWarn);
    warn = at != string_view::npos;
  }
  if (at != string_view::npos) {
    ParsePrefix(line.substr(0, at), warn, &l);
    body = line.substr(at + kInfo.size());
  } else if (line.starts_with("NCCL INFO ") || line.starts_with("NCCL WARN ")) {
    warn = line[5] == 'W';
    body = line.substr(10);
  }
  if (warn) {
    l.kind = LogLine::kWarn;
    l.text = body;
    return l;
  }
  if (ParseOp(body, &l, cut_short) || ParseInit(body, &l) || ParseEnd(body, &l) ||
      ParseVersion(body, &l))
    return l;
  return LogLine{};
}

namespace {

// One communicator of one process, in the order the process created it.
struct LogComm {
  uint64_t ptr = 0;
  int32_t rank = -1, nranks = -1, cuda_dev = -1;
  bool has_init = false, has_comm_id = false, split = false;
  uint64_t comm_id = 0;
  int32_t parent = -1;  // index into the process's comms
  int32_t color = 0, split_key = 0;
  uint64_t key = 0;
};

// One event of one process: `comm` indexes its comms; `op` its ops for kOp, its warnings for
// kWarn.
struct LogEvent {
  LogLine::Kind kind;
  int32_t comm = -1;
  uint32_t index = 0;
};

struct LogProcess {
  std::string host;
  uint32_t pid = 0;
  int32_t dev = -1;
  std::string file;
  uint64_t order = 0;  // when first seen, across files
  int32_t version_code = 0;
  std::string version;
  std::vector<LogComm> comms;
  std::unordered_map<uint64_t, int32_t> live;  // comm pointer -> newest comm with it
  std::vector<LogEvent> events;
  std::vector<OpArgs> ops;
  std::vector<std::string> warns;
  std::set<size_t> warn_is_note;  // warns that are other notes (watchdog messages)
  int64_t rank = -1;
  bool rank_guessed = false;
};

class LogImporter {
 public:
  explicit LogImporter(const NcclLogOptions& o, ImportResult* r) : options_(o), result_(r) {}

  Status ReadFile(const std::string& path) {
    DDRR_ASSIGN_OR_RETURN(LineReader reader, LineReader::Open(path));
    file_procs_.clear();
    string_view line;
    std::string joined;
    bool cut = false;
    while (reader.Next(&line)) {
      ++result_->lines;
      if (cut) {
        // The previous line was a collective cut short: try it with this one.
        joined += ' ';
        joined.append(line);
        cut = false;
        LogLine l = ParseNcclLine(joined, nullptr);
        if (l.kind != LogLine::kNone) {
          Take(l, path);
          continue;
        }
      }
      LogLine l = ParseNcclLine(line, &cut);
      if (cut) {
        joined.assign(line);
        continue;
      }
      if (l.kind != LogLine::kNone) {
        Take(l, path);
      } else if (WatchdogLine w; ParseWatchdogLine(line, &w)) {
        watchdog_.push_back({std::move(w), file_procs_.size() == 1 ? file_procs_[0] : nullptr});
      }
    }
    return reader.status();
  }

  Status Write(const std::string& out_dir) {
    if (procs_.empty()) return Status::Ok();
    DDRR_RETURN_IF_ERROR(AssignRanks());
    for (auto& p : procs_) DDRR_RETURN_IF_ERROR(AssignKeys(*p));
    // Watchdog messages among the NCCL lines: a note of the rank they name (else of their
    // file's process), after its last line. How the process group's SeqNum maps onto the
    // communicator's ops the log does not say, so they are notes, not operations.
    for (const auto& [w, file_proc] : watchdog_) {
      LogProcess* owner = w.Rank() >= 0 ? nullptr : file_proc;
      for (auto& p : procs_)
        if (w.Rank() >= 0 && p->rank == w.Rank()) owner = p.get();
      if (owner == nullptr) {
        ++watchdog_dropped_;
        continue;
      }
      owner->events.push_back({LogLine::kWarn, -1, static_cast<uint32_t>(owner->warns.size())});
      owner->warns.push_back(w.Summary());
      owner->warn_is_note.insert(owner->warns.size() - 1);
    }
    std::vector<LogProcess*> order;
    for (auto& p : procs_) order.push_back(p.get());
    std::sort(order.begin(), order.end(),
              [](const LogProcess* a, const LogProcess* b) { return a->rank < b->rank; });
    for (LogProcess* p : order) DDRR_RETURN_IF_ERROR(WriteProcess(*p, out_dir));
    result_->world_size = world_;
    if (dropped_ > 0)
      result_->notes.push_back(std::to_string(dropped_) +
                               " line(s) without a host:pid prefix could not be given to one "
                               "process and were skipped");
    if (watchdog_dropped_ > 0)
      result_->notes.push_back(std::to_string(watchdog_dropped_) +
                               " watchdog message(s) name no rank of the log and come from a file "
                               "of several processes: skipped");
    return Status::Ok();
  }

  bool empty() const { return procs_.empty(); }

 private:
  LogProcess* Process(const LogLine& l, const std::string& path) {
    if (l.has_prefix) {
      std::string id = std::string(l.host) + ":" + std::to_string(l.pid);
      auto [it, fresh] = by_id_.try_emplace(id, nullptr);
      if (fresh) {
        procs_.push_back(std::make_unique<LogProcess>());
        LogProcess* p = procs_.back().get();
        p->host = std::string(l.host);
        p->pid = l.pid;
        p->dev = l.dev;
        p->file = path;
        p->order = procs_.size();
        it->second = p;
      }
      if (std::find(file_procs_.begin(), file_procs_.end(), it->second) == file_procs_.end())
        file_procs_.push_back(it->second);
      return it->second;
    }
    // No prefix: the file's only process; in a file of several, the one owning the
    // communicator pointer (pointers of different processes may coincide: only this file's
    // processes are asked); a file with no prefix at all is one process of its own.
    if (file_procs_.size() == 1) return file_procs_[0];
    if (file_procs_.empty()) {
      procs_.push_back(std::make_unique<LogProcess>());
      LogProcess* p = procs_.back().get();
      p->host = "unknown host (" + path + ")";
      p->file = path;
      p->order = procs_.size();
      file_procs_.push_back(p);
      return p;
    }
    LogProcess* owner = nullptr;
    int owners = 0;
    if (l.comm)
      for (LogProcess* p : file_procs_)
        if (p->live.count(l.comm)) {
          owner = p;
          ++owners;
        }
    return owners == 1 ? owner : nullptr;
  }

  int32_t CommFor(LogProcess& p, uint64_t ptr, int32_t nranks) {
    auto it = p.live.find(ptr);
    if (it != p.live.end()) return it->second;
    LogComm c;
    c.ptr = ptr;
    c.nranks = nranks;
    p.comms.push_back(c);
    return p.live[ptr] = static_cast<int32_t>(p.comms.size() - 1);
  }

  void Take(const LogLine& l, const std::string& path) {
    LogProcess* p = Process(l, path);
    if (!p) {
      ++dropped_;
      return;
    }
    switch (l.kind) {
      case LogLine::kVersion:
        p->version_code = l.version_code;
        p->version = std::string(l.text);
        return;
      case LogLine::kWarn:
        p->events.push_back({LogLine::kWarn, -1, static_cast<uint32_t>(p->warns.size())});
        p->warns.emplace_back(l.text);
        return;
      case LogLine::kInit: {
        auto it = p->live.find(l.comm);
        if (it != p->live.end() && p->comms[it->second].has_init && l.complete)
          return;  // the COMPLETE line of a START already taken
        LogComm c;
        c.ptr = l.comm;
        c.rank = l.rank;
        c.nranks = l.nranks;
        c.cuda_dev = l.cuda_dev;
        c.has_init = true;
        c.has_comm_id = l.has_comm_id && !l.split;
        c.comm_id = l.comm_id;
        c.split = l.split;
        c.color = l.color;
        c.split_key = l.key;
        if (l.split) {
          auto parent = p->live.find(l.parent);
          c.parent = parent == p->live.end() ? -1 : parent->second;
        }
        p->comms.push_back(c);
        const int32_t index = static_cast<int32_t>(p->comms.size() - 1);
        p->live[l.comm] = index;
        p->events.push_back({LogLine::kInit, index, 0});
        ++result_->entries;
        return;
      }
      case LogLine::kDestroy:
      case LogLine::kAbort: {
        auto it = p->live.find(l.comm);
        if (it == p->live.end()) return;
        p->events.push_back({l.kind, it->second, 0});
        p->live.erase(it);
        ++result_->entries;
        return;
      }
      case LogLine::kOp: {
        const int32_t comm = CommFor(*p, l.comm, l.nranks);
        if (p->comms[comm].nranks < 0) p->comms[comm].nranks = l.nranks;
        p->events.push_back({LogLine::kOp, comm, static_cast<uint32_t>(p->ops.size())});
        p->ops.push_back(
            {l.fn, l.sendbuff, l.recvbuff, l.count, l.datatype, l.op, l.root, l.comm, l.stream});
        ++result_->entries;
        return;
      }
      case LogLine::kNone:
        return;
    }
  }

  Status AssignRanks() {
    uint32_t largest = 0;
    for (auto& p : procs_)
      for (const LogComm& c : p->comms)
        largest = std::max<uint32_t>(largest, c.nranks > 0 ? c.nranks : 0);
    world_ = options_.world_size ? options_.world_size : largest;
    if (world_ == 0) world_ = static_cast<uint32_t>(procs_.size());
    std::map<int64_t, LogProcess*> taken;
    for (auto& p : procs_) {
      for (const LogComm& c : p->comms)
        if (c.has_init && c.nranks == static_cast<int32_t>(world_) && c.rank >= 0) {
          p->rank = c.rank;
          break;
        }
      if (p->rank < 0) continue;
      auto [it, fresh] = taken.emplace(p->rank, p.get());
      if (!fresh)
        return Status::InvalidArgument(
            "rank " + std::to_string(p->rank) + " appears twice (" + it->second->host + ":" +
            std::to_string(it->second->pid) + " and " + p->host + ":" + std::to_string(p->pid) +
            "): the logs hold more than one job; import each job's logs on their own");
    }
    // Processes with no init line of a world-sized communicator: the lowest free ranks, in the
    // order they were first seen.
    int64_t next = 0;
    for (auto& p : procs_) {
      if (p->rank >= 0) continue;
      while (taken.count(next)) ++next;
      p->rank = next;
      p->rank_guessed = true;
      taken.emplace(next, p.get());
      result_->notes.push_back("rank " + std::to_string(next) + " (" + p->host + ":" +
                               std::to_string(p->pid) +
                               ") has no init line of a world-sized communicator: its rank is "
                               "a guess from the order of the input");
    }
    if (static_cast<uint64_t>(taken.rbegin()->first) >= world_) world_ = taken.rbegin()->first + 1;
    for (uint32_t r = 0; r < world_; ++r)
      if (!taken.count(r))
        result_->notes.push_back("rank " + std::to_string(r) +
                                 " is not in the input: nothing "
                                 "can be said about what it did");
    return Status::Ok();
  }

  Status AssignKeys(LogProcess& p) {
    // Communicators with no init line: matched across ranks by size and order of creation.
    std::map<int32_t, uint64_t> unnamed;   // nranks -> how many so far
    std::map<int32_t, uint64_t> children;  // parent index -> splits so far
    for (size_t i = 0; i < p.comms.size(); ++i) {
      LogComm& c = p.comms[i];
      if (c.has_init && c.has_comm_id) {
        c.key = CommKey(c.comm_id, static_cast<uint64_t>(c.nranks));
      } else if (c.has_init && c.split && c.parent >= 0) {
        const uint64_t ordinal = children[c.parent]++;
        c.key = CommKey(p.comms[c.parent].key, static_cast<uint64_t>(c.color) + 1, ordinal);
      } else {
        const uint64_t ordinal = unnamed[c.nranks]++;
        c.key = CommKey(0x6e616d656c657373ull, static_cast<uint64_t>(c.nranks), ordinal);
        guessed_keys_.insert(c.key);
      }
    }
    return Status::Ok();
  }

  Status WriteProcess(LogProcess& p, const std::string& out_dir) {
    trace::HeaderInfo h;
    h.rank = static_cast<uint32_t>(p.rank);
    h.world_size = world_;
    h.host = p.host;
    h.pid = p.pid;
    h.local_rank = p.dev;
    h.nccl_version = p.version_code;
    h.rank_source = p.rank_guessed ? "import: order of the input" : "import: NCCL init line";
    h.start_unix_ns = 0;
    Source src;
    src.format = "nccl-log";
    src.version = p.version;
    src.file = p.file;
    src.unknown = {"results", "durations", "completions", "times", "cuda-calls", "data"};
    DDRR_ASSIGN_OR_RETURN(auto w, RankWriter::Create(out_dir, h, src));
    // The prefix's [dev] is the device the process was on when NCCL printed.
    if (p.dev >= 0)
      DDRR_RETURN_IF_ERROR(w->Call({}, [&](trace::WireEncoder& e) {
                              trace::EncodeCudaSetDevice(e, p.dev);
                            }).status());
    std::set<uint64_t> noted;
    for (const LogEvent& ev : p.events) {
      if (ev.kind == LogLine::kWarn) {
        DDRR_RETURN_IF_ERROR(
            w->Note((p.warn_is_note.count(ev.index) ? "" : "NCCL WARN ") + p.warns[ev.index]));
        continue;
      }
      const LogComm& c = p.comms[ev.comm];
      if (guessed_keys_.count(c.key) && noted.insert(c.key).second)
        DDRR_RETURN_IF_ERROR(
            w->Note("communicator " + Hex(c.ptr) + " (" + std::to_string(c.nranks) +
                    " ranks) has no init line: it is matched across ranks by its size and order of "
                    "creation, a guess"));
      trace::CallInfo call;
      call.comm_key = c.key;
      switch (ev.kind) {
        case LogLine::kInit:
          if (c.split) {
            const uint64_t parent = p.comms[c.parent].ptr;
            DDRR_RETURN_IF_ERROR(w->Call(call, [&](trace::WireEncoder& e) {
                                    trace::EncodeNcclCommSplit(e, parent, c.color, c.split_key,
                                                               c.ptr, nullptr);
                                  }).status());
          } else {
            std::string id(128, '\0');
            memcpy(id.data(), &c.comm_id, sizeof(c.comm_id));
            DDRR_RETURN_IF_ERROR(w->Call(call, [&](trace::WireEncoder& e) {
                                    trace::EncodeNcclCommInitRank(e, c.ptr, c.nranks, id, c.rank);
                                  }).status());
          }
          // The init line's cudaDev: what ncclCommCuDevice answers for the communicator.
          if (c.cuda_dev >= 0)
            DDRR_RETURN_IF_ERROR(w->Call(call, [&](trace::WireEncoder& e) {
                                    trace::EncodeNcclCommCuDevice(e, c.ptr, c.cuda_dev);
                                  }).status());
          break;
        case LogLine::kDestroy:
          DDRR_RETURN_IF_ERROR(w->Call(call, [&](trace::WireEncoder& e) {
                                  trace::EncodeNcclCommDestroy(e, c.ptr);
                                }).status());
          break;
        case LogLine::kAbort:
          DDRR_RETURN_IF_ERROR(w->Call(call, [&](trace::WireEncoder& e) {
                                  trace::EncodeNcclCommAbort(e, c.ptr);
                                }).status());
          break;
        case LogLine::kOp:
          DDRR_RETURN_IF_ERROR(w->Operation(c.key, p.ops[ev.index]).status());
          break;
        default:
          break;
      }
    }
    result_->events += w->events();
    ++result_->ranks;
    return w->Close(true);
  }

  static std::string Hex(uint64_t v) {
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
    return buf;
  }

  const NcclLogOptions& options_;
  ImportResult* result_;
  std::vector<std::unique_ptr<LogProcess>> procs_;
  std::unordered_map<std::string, LogProcess*> by_id_;
  std::vector<LogProcess*> file_procs_;  // processes seen in the current file
  std::set<uint64_t> guessed_keys_;
  // Watchdog messages and the process of their file when it had one.
  std::vector<std::pair<WatchdogLine, LogProcess*>> watchdog_;
  uint32_t world_ = 0;
  uint64_t dropped_ = 0, watchdog_dropped_ = 0;
};

}  // namespace

Status ImportNcclLogs(const std::vector<std::string>& paths, const std::string& out_dir,
                      const NcclLogOptions& options, ImportResult* result) {
  LogImporter importer(options, result);
  for (const std::string& path : paths) DDRR_RETURN_IF_ERROR(importer.ReadFile(path));
  if (importer.empty()) {
    std::string files;
    for (const std::string& p : paths) files += (files.empty() ? "" : ", ") + p;
    return Status::InvalidArgument("no NCCL INFO line in " + files +
                                   ": run the job with NCCL_DEBUG=INFO "
                                   "NCCL_DEBUG_SUBSYS=INIT,COLL and import its log");
  }
  DDRR_RETURN_IF_ERROR(PrepareRunDir(out_dir));
  return importer.Write(out_dir);
}

}  // namespace ddrr::import
