// One communicator's shared-memory segment: its fixed layout and how ranks create, attach to
// and clean it up. Fields shared between ranks are plain integers accessed with
// std::atomic_ref, so the layout is the same in every process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "emu/memory_ops.h"
#include "emu/result.h"

namespace boost::interprocess {
class mapped_region;
}

namespace ddrr::emu {

inline constexpr uint64_t kSegmentMagic = 0x31554d4552524444ull;  // "DDRREMU1"
inline constexpr uint32_t kSegmentVersion = 2;

// What one rank says about the collective it is entering; peers compare them.
struct OpDesc {
  uint32_t kind;
  uint32_t dtype;
  uint32_t op;
  int32_t root;
  uint64_t count;
  uint64_t scalar;  // PreMulSum pre-multiplier of this rank, raw
  int32_t color;    // split
  int32_t key;
  uint64_t seq;
  // Direct collectives (collectives.cc): whether this rank can work on its peers' buffers,
  // where its own are, and whether it could map every peer's (the one-time vote).
  uint32_t direct_eligible;
  uint32_t direct_mapped;
  PeerRef send_ref;
  PeerRef recv_ref;
};

struct alignas(64) RankSlot {
  uint64_t owner;  // 0 while free; the claimant's token
  uint64_t ready;  // 1 once pid/device below are published
  int32_t pid;
  int32_t device;
  int64_t device_key;
  uint32_t direct;              // 1: this rank may use direct collectives (options + memory)
  int64_t direct_min_bytes;     // its threshold for them
  alignas(64) uint64_t arrive;  // barrier counter, only this rank increments it
  alignas(64) OpDesc desc[2];   // indexed by collective sequence parity
};

struct alignas(64) ChannelHeader {
  alignas(64) uint64_t tail;  // chunks written by the sender
  alignas(64) uint64_t head;  // chunks consumed by the receiver
};

struct P2pChunkHeader {
  uint64_t msg_bytes;  // size of the whole message the sender posted
  uint64_t index;      // chunk number inside the message
};
inline constexpr size_t kP2pChunkHeaderBytes = 64;

struct alignas(64) SegmentHeader {
  uint64_t magic;  // written last by the creator (release)
  uint32_t version;
  int32_t nranks;
  uint64_t total_bytes;
  uint64_t comm_hash;
  int32_t creator_pid;
  uint32_t p2p_nslots;
  uint64_t chunk_bytes;
  uint64_t p2p_slot_bytes;
  uint64_t ranks_offset;
  uint64_t channels_offset;
  uint64_t coll_offset;
  uint64_t p2p_offset;
  uint32_t attached;          // ranks that claimed a slot
  uint32_t failure_claim;     // first failing rank wins the right to write the reason
  int32_t failed_rank_plus1;  // 0: none
  int32_t failure_code;
  char failure_reason[256];
};

struct SegmentParams {
  int nranks = 1;
  uint64_t comm_hash = 0;
  int creator_pid = 0;
  size_t chunk_bytes = 0;     // per rank per buffer set, for collectives
  size_t p2p_slot_bytes = 0;  // per ring slot
  uint32_t p2p_nslots = 4;
};

class Segment {
 public:
  // Creates the named segment, or attaches to it once its creator has initialised it.
  // Returns kInProgress while another rank is still creating it.
  static Result OpenOrCreate(const std::string& name, const SegmentParams& params,
                             std::unique_ptr<Segment>* out);
  static void Unlink(const std::string& name);
  ~Segment();

  SegmentHeader* header() const { return header_; }
  int nranks() const { return header_->nranks; }
  RankSlot* rank(int r) const;
  ChannelHeader* channel(int src, int dst) const;
  // Collective staging buffer: set 0/1, slot 0..n-1 per rank, slot n the reduced result.
  // Slots of one set are contiguous.
  char* coll(int set, int slot) const;
  size_t chunk_bytes() const { return header_->chunk_bytes; }
  // Ring slot `seq % nslots` of channel src->dst: header then p2p_slot_bytes of data.
  char* p2p_slot(int src, int dst, uint64_t seq) const;
  size_t p2p_slot_bytes() const { return header_->p2p_slot_bytes; }
  uint32_t p2p_nslots() const { return header_->p2p_nslots; }

 private:
  Segment() = default;
  std::unique_ptr<boost::interprocess::mapped_region> region_;
  SegmentHeader* header_ = nullptr;
  char* base_ = nullptr;
};

// True when `pid` no longer runs: gone, or a zombie nobody has reaped yet.
bool ProcessGone(int pid);

// Removes ddrr-emu-* segments left by killed jobs: creator and every member process dead.
// Returns how many were removed.
int RemoveStaleSegments();

}  // namespace ddrr::emu
