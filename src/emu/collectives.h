// Collective operations over the communicator's staging buffers.
//
// Every collective proceeds in chunks. Per chunk each rank writes its contribution into its
// slot of a shared staging set, meets the others at a barrier, and reads what it needs back;
// reducing collectives add a step in which each rank reduces its 1/n slice of the chunk over
// all ranks' inputs in rank order (so every element is reduced exactly once, in a fixed order,
// and all ranks read the same bits). Two staging sets alternate, so writing chunk c+1 never
// overwrites data a slower rank still reads from chunk c.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "emu/dtype.h"
#include "emu/op.h"

namespace ddrr::emu {

class Comm;

enum class CollKind : uint32_t {
  kAllReduce = 1,
  kBroadcast,
  kReduce,
  kAllGather,
  kReduceScatter,
  kAlltoAll,
  kGather,
  kScatter,
};
const char* CollName(CollKind kind);

struct CollArgs {
  CollKind kind = CollKind::kAllReduce;
  const void* send = nullptr;
  void* recv = nullptr;
  size_t count = 0;  // per-rank block count, as in the NCCL call
  DataType dtype = DataType::kFloat32;
  RedOpKind op = RedOpKind::kSum;
  uint64_t scalar = 0;                      // PreMulSum host-immediate scalar (raw)
  const void* scalar_device_ptr = nullptr;  // PreMulSum device-resident scalar
  int root = 0;
  void* stream = nullptr;
};

// Takes the comm's next collective ticket now (issue order), runs when its turn comes.
std::unique_ptr<Op> MakeCollectiveOp(Comm* comm, const CollArgs& args);

}  // namespace ddrr::emu
