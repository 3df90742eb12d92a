// Pattern: the data a comm replay feeds its collectives and send/recvs, and the results it must
// get back (as nccl-tests checks them). Every input element is a small number computed from the
// operation, the contributing comm rank and the element's index, so any member can compute what
// every peer sent and therefore what each of its own output elements must be, without seeing
// the peers' buffers. The numbers are small (sums stay exact in every type but fp8's few bits),
// products multiply a single 2 into ones, and the expected reductions are computed in rank
// order by the same code emu reduces with: on emu every element must match bit for bit; on real
// NCCL, whose reduction order differs, floating-point reductions get a tolerance of a few units
// in the last place per rank.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "spec/api_table.h"

namespace ddrr::replay {

struct PatternOp {
  trace::FunctionId fn{};
  int datatype = -1;   // ncclDataType_t
  int redop = -1;      // ncclRedOp_t; -1: no reduction
  uint64_t count = 0;  // the call's count argument
  int nranks = 0;
  int rank = -1;      // this member's comm rank
  int root = -1;      // rooted collectives
  int peer = -1;      // send/recv: the rank at the other end
  uint64_t seed = 0;  // the same on every member for one operation
};

size_t ElementBytes(int datatype);  // 0: not an NCCL datatype

// Whether this op's output can be checked: a known datatype and a reduction whose result every
// member can compute (PreMulSum scales by each peer's own scalar, which this rank does not know).
bool Checkable(const PatternOp& op);

// Elements [first, first + n) of comm rank `q`'s input for `op`, in the op's datatype.
void FillInput(const PatternOp& op, int q, uint64_t first, uint64_t n, void* out);

struct Mismatch {
  uint64_t index = 0;
  std::string got, expected;
};

// Compares this member's output (`elements` elements of the op's datatype) with what `op` must
// produce; nullopt when every element is right. `exact`: no tolerance (emu reduces in rank order).
std::optional<Mismatch> CheckOutput(const PatternOp& op, const void* output, uint64_t elements,
                                    bool exact);

// Whether the op writes an output on this member (Reduce and Gather only on the root; Send never).
bool HasOutput(const PatternOp& op);
// Whether this member's input is read (a Broadcast's or Scatter's only on the root; Recv never).
bool HasInput(const PatternOp& op);

}  // namespace ddrr::replay
