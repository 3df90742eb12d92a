#include "emu/segment.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <atomic>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "common/log.h"
#include "emu/unique_id.h"

namespace ddrr::emu {
namespace bip = boost::interprocess;
namespace {

size_t AlignUp(size_t v, size_t a) { return (v + a - 1) / a * a; }

struct Layout {
  size_t ranks, channels, coll, p2p, total;
};

Layout ComputeLayout(const SegmentParams& p) {
  size_t n = static_cast<size_t>(p.nranks);
  Layout l;
  l.ranks = AlignUp(sizeof(SegmentHeader), 4096);
  l.channels = AlignUp(l.ranks + n * sizeof(RankSlot), 4096);
  l.coll = AlignUp(l.channels + n * n * sizeof(ChannelHeader), 4096);
  l.p2p = l.coll + 2 * (n + 1) * p.chunk_bytes;
  l.total = l.p2p + n * n * p.p2p_nslots * (kP2pChunkHeaderBytes + p.p2p_slot_bytes);
  return l;
}

}  // namespace

bool ProcessGone(int pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0) return errno == ESRCH;
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return false;
  char buf[512];
  size_t len = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[len] = 0;
  const char* paren = std::strrchr(buf, ')');  // the command name may contain spaces
  return paren != nullptr && paren[1] == ' ' && paren[2] == 'Z';
}

Segment::~Segment() = default;

Result Segment::OpenOrCreate(const std::string& name, const SegmentParams& params,
                             std::unique_ptr<Segment>* out) {
  std::unique_ptr<Segment> seg(new Segment());
  try {
    try {
      bip::shared_memory_object shm(bip::create_only, name.c_str(), bip::read_write);
      Layout l = ComputeLayout(params);
      shm.truncate(static_cast<bip::offset_t>(l.total));
      seg->region_ = std::make_unique<bip::mapped_region>(shm, bip::read_write);
      seg->base_ = static_cast<char*>(seg->region_->get_address());
      auto* h = new (seg->base_) SegmentHeader{};
      h->version = kSegmentVersion;
      h->nranks = params.nranks;
      h->total_bytes = l.total;
      h->comm_hash = params.comm_hash;
      h->creator_pid = params.creator_pid;
      h->p2p_nslots = params.p2p_nslots;
      h->chunk_bytes = params.chunk_bytes;
      h->p2p_slot_bytes = params.p2p_slot_bytes;
      h->ranks_offset = l.ranks;
      h->channels_offset = l.channels;
      h->coll_offset = l.coll;
      h->p2p_offset = l.p2p;
      std::atomic_ref<uint64_t>(h->magic).store(kSegmentMagic, std::memory_order_release);
      seg->header_ = h;
      DDRR_INFO(log::kEmu, "emu: created segment %s (%zu bytes, %d ranks)", name.c_str(), l.total,
                params.nranks);
      *out = std::move(seg);
      return Result::Ok();
    } catch (const bip::interprocess_exception& e) {
      if (e.get_error_code() != bip::already_exists_error) throw;
    }
    bip::shared_memory_object shm(bip::open_only, name.c_str(), bip::read_write);
    bip::offset_t size = 0;
    if (!shm.get_size(size) || static_cast<size_t>(size) < sizeof(SegmentHeader)) {
      return Result::Pending();
    }
    seg->region_ = std::make_unique<bip::mapped_region>(shm, bip::read_write);
    seg->base_ = static_cast<char*>(seg->region_->get_address());
    seg->header_ = reinterpret_cast<SegmentHeader*>(seg->base_);
    if (std::atomic_ref<uint64_t>(seg->header_->magic).load(std::memory_order_acquire) !=
        kSegmentMagic) {
      return Result::Pending();
    }
    if (seg->header_->version != kSegmentVersion ||
        seg->header_->total_bytes != static_cast<uint64_t>(size)) {
      return Result(Code::kInternalError, "ddrr emu: segment " + name + " has an unknown layout");
    }
    if (seg->header_->nranks != params.nranks) {
      return Result(Code::kInvalidUsage, "ddrr emu: ranks disagree on the communicator size: " +
                                             std::to_string(seg->header_->nranks) + " vs " +
                                             std::to_string(params.nranks));
    }
    *out = std::move(seg);
    return Result::Ok();
  } catch (const bip::interprocess_exception& e) {
    if (e.get_error_code() == bip::not_found_error) return Result::Pending();  // unlinked race
    return Result(Code::kSystemError,
                  std::string("ddrr emu: shared memory segment ") + name + ": " + e.what());
  } catch (const std::exception& e) {
    return Result(Code::kSystemError,
                  std::string("ddrr emu: shared memory segment ") + name + ": " + e.what());
  }
}

void Segment::Unlink(const std::string& name) {
  try {
    bip::shared_memory_object::remove(name.c_str());
  } catch (...) {
  }
}

RankSlot* Segment::rank(int r) const {
  return reinterpret_cast<RankSlot*>(base_ + header_->ranks_offset) + r;
}

ChannelHeader* Segment::channel(int src, int dst) const {
  return reinterpret_cast<ChannelHeader*>(base_ + header_->channels_offset) +
         (static_cast<size_t>(src) * header_->nranks + dst);
}

char* Segment::coll(int set, int slot) const {
  size_t idx = static_cast<size_t>(set) * (header_->nranks + 1) + slot;
  return base_ + header_->coll_offset + idx * header_->chunk_bytes;
}

char* Segment::p2p_slot(int src, int dst, uint64_t seq) const {
  size_t ch = static_cast<size_t>(src) * header_->nranks + dst;
  size_t idx = ch * header_->p2p_nslots + seq % header_->p2p_nslots;
  return base_ + header_->p2p_offset + idx * (kP2pChunkHeaderBytes + header_->p2p_slot_bytes);
}

int RemoveStaleSegments() {
  DIR* dir = opendir("/dev/shm");
  if (dir == nullptr) return 0;
  int removed = 0;
  const size_t prefix_len = std::strlen(kSegmentPrefix);
  while (dirent* ent = readdir(dir)) {
    std::string name = ent->d_name;
    if (name.compare(0, prefix_len, kSegmentPrefix) != 0) continue;
    int creator = std::atoi(name.c_str() + prefix_len);
    if (creator > 0 && !ProcessGone(creator)) continue;
    std::string path = "/dev/shm/" + name;
    struct stat st;
    if (stat(path.c_str(), &st) != 0) continue;
    bool stale = true;
    try {
      bip::shared_memory_object shm(bip::open_only, name.c_str(), bip::read_only);
      bool ready = false;
      if (static_cast<size_t>(st.st_size) >= sizeof(SegmentHeader)) {
        bip::mapped_region region(shm, bip::read_only);
        const auto* h = static_cast<const SegmentHeader*>(region.get_address());
        uint64_t magic = std::atomic_ref<uint64_t>(const_cast<SegmentHeader*>(h)->magic).load();
        if (magic == kSegmentMagic && h->total_bytes <= static_cast<uint64_t>(st.st_size)) {
          ready = true;
          if (!ProcessGone(h->creator_pid) && h->creator_pid != 0) stale = false;
          const char* base = static_cast<const char*>(region.get_address());
          for (int r = 0; stale && r < h->nranks; ++r) {
            const auto* slot = reinterpret_cast<const RankSlot*>(base + h->ranks_offset) + r;
            if (slot->pid > 0 && !ProcessGone(slot->pid)) stale = false;
          }
        }
      }
      // A segment still being created by a live process we cannot name: leave it a while.
      if (!ready && time(nullptr) - st.st_mtime < 30) stale = false;
    } catch (...) {
      stale = false;
    }
    if (stale) {
      Segment::Unlink(name);
      DDRR_INFO(log::kEmu, "emu: removed stale segment %s", name.c_str());
      ++removed;
    }
  }
  closedir(dir);
  return removed;
}

}  // namespace ddrr::emu
