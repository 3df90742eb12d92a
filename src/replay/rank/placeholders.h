// Placeholders: buffers for the ops of a rank file that has no buffer pointers (imported from a
// source without them, such as a Flight Recorder dump, where every pointer is 0). Each buffer of
// such an op gets device memory of the size the op's semantics give it (count x datatype; times
// the communicator's size for an all-gather's output, a reduce-scatter's input, ...), out of
// place; the data in it is dummy. The memory is bound in the replayer at a made-up recorded
// address that no process can have, so the entries and the data pattern map it like recorded
// memory. A thread reuses its placeholders from op to op, except within a group, where every op
// keeps its own until the group ends.
#pragma once

#include <cstdint>
#include <vector>

#include "ddrr/api.pb.h"
#include "spec/api_views.h"

namespace ddrr::replay {

class Replayer;

class Placeholders {
 public:
  Placeholders() = default;
  Placeholders(const Placeholders&) = delete;
  Placeholders& operator=(const Placeholders&) = delete;
  ~Placeholders();

  // Fills `*out` with `call` whose null buffers point to placeholders of their sizes, and
  // `*view` with its view; false (nothing to do, or the communicator is not live) leaves both.
  // `in_group`: earlier placeholders of the group are still in use.
  bool Patch(Replayer& replayer, const trace::ApiCall& call, bool in_group, trace::ApiCall* out,
             trace::OpView* view);

 private:
  struct Slot {
    uint64_t base = 0;  // the made-up recorded address
    uint64_t bytes = 0;
  };
  uint64_t Take(Replayer& replayer, uint64_t bytes);

  Replayer* replayer_ = nullptr;  // the one whose tables hold the slots
  std::vector<Slot> slots_;
  size_t next_ = 0;
};

}  // namespace ddrr::replay
