// An operation the progress engine drives: communicator creation, a collective, a send or a
// receive. Progress() never blocks, so one thread can advance the operations of many ranks.
#pragma once

#include <cstdint>

#include "emu/result.h"

namespace ddrr::emu {

class Comm;

class Op {
 public:
  virtual ~Op() = default;
  // Advances as far as possible without waiting. Pending while waiting on peers, Ok once done,
  // an error otherwise (the engine then records it on the comm).
  virtual Result Progress() = 0;
  virtual Comm* comm() const = 0;
};

// Ops call this whenever they move data or pass a barrier; the engine backs off when a sweep
// over all its ops changed nothing.
void NoteProgress();
uint64_t ProgressTicks();

}  // namespace ddrr::emu
