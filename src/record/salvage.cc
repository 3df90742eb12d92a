// Salvage: rebuilds a killed rank's file from its intact frames and its spool (recorder.h).
// Lives in its own library because it reads the old frames with the libprotobuf reader, which
// must stay out of libddrr.so.
#include "record/salvage.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <string_view>
#include <thread>

#include "common/log.h"
#include "record/sealer.h"
#include "record/spool.h"
#include "trace/format.h"
#include "trace/trace_reader.h"
#include "trace/trace_writer.h"

namespace ddrr::record {
namespace {

// How long a live snapshot waits, in all, for records an appender is still filling.
constexpr std::chrono::milliseconds kLiveCommitWait{5};

// A read-only mapping of the killed rank's .ddrr (empty when there is none).
class MappedFile {
 public:
  ~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  }
  Status Open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? Status::Ok() : Status::FromErrno("open " + path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0 || st.st_size == 0) {
      ::close(fd);
      return Status::Ok();
    }
    void* p = ::mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) return Status::FromErrno("map " + path, errno);
    data_ = static_cast<const uint8_t*>(p);
    size_ = static_cast<uint64_t>(st.st_size);
    return Status::Ok();
  }
  std::string_view bytes(uint64_t off, uint64_t len) const {
    return {reinterpret_cast<const char*>(data_) + off, len};
  }
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

// Length of the file's preamble when it is intact, else 0.
uint64_t IntactPreamble(const MappedFile& f) {
  trace::Preamble p;
  if (trace::CheckPreamble(f.data(), f.size(), &p) != trace::PreambleCheck::kOk ||
      p.version != trace::kFormatVersion)
    return 0;
  return trace::kPreambleSize + p.header_len;
}

struct IntactFrame {
  uint64_t offset = 0, size = 0;
  trace::FrameHeader header{};
};

// The frames that verify, in file order, up to the first that does not: a killed writer only
// ever damages the end of its file (the frame it was writing).
std::vector<IntactFrame> IntactFrames(const MappedFile& f, uint64_t begin) {
  std::vector<IntactFrame> out;
  uint64_t off = begin;
  trace::FrameHeader h;
  while (trace::FrameVerifies(f.data(), off, f.size(), &h)) {
    const uint64_t size = trace::kFrameHeaderSize + h.compressed_len;
    out.push_back({off, size, h});
    off += size;
  }
  return out;
}

// What the footer index needs from each event frame, read through the reader.
struct FrameFacts {
  uint64_t first_time_ns = 0, last_time_ns = 0, last_seq = 0;
  bool seen = false, has_mark = false;
  int64_t mark_step = 0;
  std::string mark_label;
};

std::map<uint64_t, FrameFacts> ReadFrameFacts(const std::string& path) {
  std::map<uint64_t, FrameFacts> facts;
  auto reader = trace::RankFileReader::Open(path);
  if (!reader.ok()) return facts;
  trace::Event ev;
  trace::EventPosition pos;
  while ((*reader)->Next(&ev, &pos)) {
    FrameFacts& f = facts[pos.frame_offset];
    if (!f.seen) f.first_time_ns = pos.time_ns;
    f.seen = true;
    f.last_time_ns = pos.time_ns;
    f.last_seq = std::max(f.last_seq, pos.seq);
    if (ev.has_mark() && !f.has_mark) {
      f.has_mark = true;
      f.mark_step = ev.mark().step();
      f.mark_label = ev.mark().label();
    }
  }
  return facts;
}

bool HasFooter(const std::string& path) {
  auto reader = trace::RankFileReader::Open(path);
  return reader.ok() && (*reader)->footer() != nullptr;
}

// Writes to `out_path` a complete rank file: the intact frames of `trace_path` (if any) and every
// committed record of `spool` after them. `live`: the spool's process is running (a reader's
// snapshot: nothing of it is written to, the footer says END_LIVE); else it died (END_SALVAGED,
// or END_SIGNAL with the signal its handler noted).
Status Rebuild(const std::string& trace_path, const Spool& spool, const std::string& out_path,
               bool live, uint64_t* recovered) {
  // The ring's tail before the frames are read: whatever the sealer frees after this is either
  // in the frames read below or still in the ring (a live sealer goes on meanwhile).
  const SpoolHeader& h = spool.header();
  const uint64_t tail = h.tail.load(std::memory_order_acquire);
  MappedFile old;
  DDRR_RETURN_IF_ERROR(old.Open(trace_path));
  const uint64_t preamble_len = IntactPreamble(old);
  std::vector<IntactFrame> frames;
  std::map<uint64_t, FrameFacts> facts;
  if (preamble_len) {
    frames = IntactFrames(old, preamble_len);
    facts = ReadFrameFacts(trace_path);
  }
  const std::string_view preamble = preamble_len ? old.bytes(0, preamble_len) : spool.preamble();

  trace::WriterOptions options;
  DDRR_ASSIGN_OR_RETURN(auto writer,
                        trace::TraceWriter::CreateWithPreamble(out_path, preamble, options));
  auto fail = [&](Status st) {
    writer.reset();
    ::unlink(out_path.c_str());
    return st;
  };

  uint64_t last_seq = 0, last_time = 0;
  for (const IntactFrame& fr : frames) {
    trace::FrameIndexInfo idx;
    idx.kind = fr.header.kind;
    idx.first_seq = fr.header.first_seq;
    idx.event_count = fr.header.event_count;
    const FrameFacts& f = facts[fr.offset];
    idx.first_time_ns = f.first_time_ns;
    idx.has_mark = f.has_mark;
    idx.first_mark_step = f.mark_step;
    idx.first_mark_label = f.mark_label;
    if (f.seen) {
      last_seq = std::max(last_seq, f.last_seq);
      last_time = std::max(last_time, f.last_time_ns);
    }
    Status st = writer->AppendRawFrame(old.bytes(fr.offset, fr.size), idx, f.last_seq);
    if (!st.ok()) return fail(st);
  }

  // Everything in the ring that the frames above do not already hold. Records still marked
  // reserved were never returned to the job's thread (or, live, are being written): skipped.
  const uint64_t head = h.head.load(std::memory_order_acquire);
  uint64_t pos = tail;
  uint64_t skipped = 0;
  bool torn = false;  // live: a record changed under us (the appender wrapped round the ring)
  const auto wait_until = std::chrono::steady_clock::now() + kLiveCommitWait;
  while (pos < head) {
    const RecordHeader* rec = nullptr;
    uint64_t next = 0;
    Spool::Slot slot = spool.At(pos, &rec, &next);
    // Live, a record still being filled is committed within microseconds: wait for it, as the
    // sealer does, so the snapshot is the rank's events up to now with no gap in the middle.
    while (live && slot == Spool::Slot::kNotCommitted &&
           std::chrono::steady_clock::now() < wait_until) {
      sched_yield();
      slot = spool.At(pos, &rec, &next);
    }
    if (slot == Spool::Slot::kMalformed) {
      if (live) {
        torn = true;  // read again (LiveView): not damage
        break;
      }
      DDRR_WARN("salvage %s: malformed record at ring position %llu; %llu bytes after it lost",
                trace_path.c_str(), static_cast<unsigned long long>(pos),
                static_cast<unsigned long long>(head - pos));
      break;
    }
    if (slot == Spool::Slot::kNotCommitted) ++skipped;
    if (slot == Spool::Slot::kRecord) {
      const bool payload = (rec->flags & kFlagPayload) != 0;
      if (payload || rec->seq > last_seq) {  // events already in the copied frames are skipped
        Status st = WriteRecord(*writer, rec);
        if (!st.ok()) return fail(st);
        if (!payload) {
          last_seq = rec->seq;
          last_time = std::max(last_time, rec->time_ns);
          ++*recovered;
        }
      }
    }
    pos = next;
  }

  if (live) {
    // While we read, the appender may have wrapped round the ring over records we had not read
    // yet: what lies a whole ring behind its head now cannot be trusted, and is dropped.
    const uint64_t head_now = h.head.load(std::memory_order_acquire);
    if (torn || (head_now > h.ring_capacity && head_now - h.ring_capacity > tail)) {
      writer.reset();
      ::unlink(out_path.c_str());
      return Status::Unavailable(out_path + ": the rank wrote faster than it could be read");
    }
  }
  // Calls that had not returned: where each thread waits (or waited when it died).
  for (uint32_t t = 0; t < kInFlightSlots; ++t) {
    const InFlightSlot& slot = h.in_flight[t];
    const uint32_t fn = slot.fn.load(std::memory_order_acquire);
    if (fn == 0) continue;
    trace::WireEncoder e;
    trace::EncodeEnterBody(e, fn, slot.comm_handle.load(std::memory_order_relaxed),
                           static_cast<int64_t>(slot.detail.load(std::memory_order_relaxed)));
    const uint64_t since = slot.since_ns.load(std::memory_order_relaxed);
    Status st = writer->Append(++last_seq, t, since, e.view());
    if (!st.ok()) return fail(st);
    last_time = std::max(last_time, since);
  }
  trace::FooterInfo footer;
  footer.end_reason = live ? trace::kEndLive : trace::kEndSalvaged;
  AssignedRankInto(h, &footer);
  if (const int sig = h.fatal_signal.load(std::memory_order_relaxed); sig > 0 && !live) {
    footer.end_reason = trace::kEndSignal;  // the handler noted it before the process died
    footer.signal = sig;
  }
  // A rank that died went on living after its last event: its sealing thread's last look says
  // until when (waits inside a call that never returned end there, not at the call's start).
  footer.end_time_ns =
      live ? last_time : std::max(last_time, h.alive_ns.load(std::memory_order_relaxed));
  footer.dropped_events = h.dropped.load(std::memory_order_relaxed);
  Status st = writer->Close(footer);
  if (!st.ok()) return fail(st);
  DDRR_INFO(log::kRecord, "%s %s: %zu frames kept, %llu events from the spool, %llu unfinished",
            live ? "snapshot of" : "salvaged", trace_path.c_str(), frames.size(),
            static_cast<unsigned long long>(*recovered), static_cast<unsigned long long>(skipped));
  return Status::Ok();
}

}  // namespace

StatusOr<uint64_t> Salvage(const std::string& spool_path) {
  static constexpr std::string_view kSuffix = ".spool";
  if (spool_path.size() <= kSuffix.size() ||
      spool_path.compare(spool_path.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return Status::InvalidArgument("salvage: " + spool_path + " is not a .spool file");
  }
  if (SpoolIsLive(spool_path))
    return Status::Unavailable(spool_path +
                               ": still being written by a live process; not "
                               "salvaged (run ddrr seal once the rank has ended)");
  DDRR_ASSIGN_OR_RETURN(auto spool, Spool::OpenReadOnly(spool_path));
  const std::string trace_path = spool_path.substr(0, spool_path.size() - kSuffix.size()) + ".ddrr";
  const std::string tmp_path = trace_path + ".salvage-tmp";

  // Killed after Close wrote the footer but before it removed the spool (or after an earlier
  // salvage renamed its result): the rank file is already complete.
  if (HasFooter(trace_path)) {
    if (::unlink(spool_path.c_str()) != 0) return Status::FromErrno("remove " + spool_path, errno);
    return uint64_t{0};
  }

  uint64_t recovered = 0;
  DDRR_RETURN_IF_ERROR(Rebuild(trace_path, *spool, tmp_path, /*live=*/false, &recovered));
  if (::rename(tmp_path.c_str(), trace_path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_path.c_str());
    return Status::FromErrno("rename " + tmp_path, err);
  }
  if (::unlink(spool_path.c_str()) != 0) return Status::FromErrno("remove " + spool_path, errno);
  return recovered;
}

Status SnapshotLive(const std::string& spool_path, const std::string& out_path) {
  DDRR_ASSIGN_OR_RETURN(auto spool, Spool::OpenReadOnly(spool_path));
  const std::string trace_path = spool_path.substr(0, spool_path.rfind('.')) + ".ddrr";
  uint64_t recovered = 0;
  return Rebuild(trace_path, *spool, out_path, /*live=*/true, &recovered);
}

namespace {

// A snapshot of the live rank whose spool is `spool`, into `out`: read again when the rank wrote
// a whole ring meanwhile. NotFound when the rank has nothing to read yet (its spool is being
// created) or has ended since it was listed (its spool is gone).
Status SnapshotRetrying(const std::string& spool, const std::string& out) {
  Status st = Status::Ok();
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(2 * attempt));
    st = SnapshotLive(spool, out);
    if (st.ok()) return st;
    if (::access(spool.c_str(), F_OK) != 0) return Status::NotFound(spool + ": gone");
    // A spool that does not open yet is one its process is creating (locked, not yet filled).
    if (st.code() != StatusCode::kUnavailable && st.code() != StatusCode::kCorruption) return st;
  }
  if (st.code() == StatusCode::kCorruption && SpoolIsLive(spool))
    return Status::NotFound(spool + ": not started");
  return st;
}

}  // namespace

StatusOr<LiveRunView> LiveView(const std::string& path, const std::string& temp_root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  LiveRunView out;
  out.path = path;
  const bool dir = fs::is_directory(path, ec);
  // The rank files and spools, by name without extension.
  std::map<std::string, std::pair<bool, bool>> names;  // {has .ddrr, has .spool}
  if (dir) {
    for (const auto& e : fs::directory_iterator(path, ec)) {
      const std::string ext = e.path().extension().string();
      if (ext != ".ddrr" && ext != ".spool") continue;
      auto& n = names[(e.path().parent_path() / e.path().stem()).string()];
      (ext == ".ddrr" ? n.first : n.second) = true;
    }
  } else if (fs::path(path).extension() == ".ddrr") {
    fs::path spool = path;
    spool.replace_extension(".spool");
    if (fs::exists(spool, ec))
      names[(fs::path(path).parent_path() / fs::path(path).stem()).string()] = {true, true};
  }
  std::vector<std::string> live;
  for (const auto& [base, has] : names)
    if (has.second && SpoolIsLive(base + ".spool")) live.push_back(base);
  if (live.empty()) return out;

  std::string folder = temp_root + "/ddrr-live-XXXXXX";
  if (::mkdtemp(folder.data()) == nullptr)
    return Status::FromErrno("cannot create a folder in " + temp_root +
                                 " for a live view (set "
                                 "TMPDIR to a writable folder)",
                             errno);
  out.folder = folder;
  auto fail = [&](Status st) {
    fs::remove_all(folder, ec);
    return st;
  };
  for (const auto& [base, has] : names) {
    const fs::path name = fs::path(base).filename();
    const fs::path in_view = fs::path(folder) / name;
    const bool is_live = std::find(live.begin(), live.end(), base) != live.end();
    if (is_live) {
      const std::string snapshot = in_view.string() + ".ddrr";
      const Status st = SnapshotRetrying(base + ".spool", snapshot);
      if (st.ok()) {
        out.live.push_back(base + ".spool");
        if (!dir) out.path = snapshot;
        continue;
      }
      if (st.code() != StatusCode::kNotFound) return fail(st);
      // Ended since listed (its rank file is complete now), or nothing recorded yet.
    }
    if (!dir) continue;  // the rank file itself is read
    for (const char* ext : {".ddrr", ".spool"}) {
      if (is_live && std::string(ext) == ".spool") continue;
      const fs::path target = fs::absolute(base + ext, ec);
      if (!fs::exists(target, ec)) continue;
      fs::create_symlink(target, in_view.string() + ext, ec);
      if (ec) return fail(Status::IoError("cannot link " + target.string() + ": " + ec.message()));
    }
  }
  if (dir) out.path = folder;
  return out;
}

int SalvageRun(const std::string& run_dir,
               const std::function<void(const std::string&, const StatusOr<uint64_t>&)>& report) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::path(run_dir).extension() == ".ddrr" && fs::is_regular_file(run_dir, ec)) {
    fs::path spool = run_dir;  // one rank file: its own spool
    spool.replace_extension(".spool");
    if (!fs::exists(spool, ec)) return 0;
    const StatusOr<uint64_t> n = Salvage(spool.string());
    report(spool.string(), n);
    return n.ok() ? 1 : 0;
  }
  if (!fs::is_directory(run_dir, ec)) return 0;
  int salvaged = 0;
  for (const auto& e : fs::directory_iterator(run_dir, ec)) {
    if (e.path().extension() != ".spool") continue;
    const StatusOr<uint64_t> n = Salvage(e.path().string());
    salvaged += n.ok() ? 1 : 0;
    report(e.path().string(), n);
  }
  return salvaged;
}

}  // namespace ddrr::record
