// Helpers for emu tests: drive n ranks from one thread, from n threads or from n forked
// processes, make deterministic inputs, and compute expected outputs independently of the
// engine (element by element, in rank order).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "emu/api.h"

namespace ddrr::emu::testing {

using Bytes = std::vector<char>;

// n comms on this thread (one group); options apply to every rank.
std::vector<Comm*> InitLocal(int n, const CommOptions& options = {});
void DestroyAll(std::vector<Comm*>& comms);

// Runs fn(rank) on n threads and joins them.
void RunThreads(int n, const std::function<void(int rank)>& fn);
// Forks n children running fn(rank); each child exits with fn's return value (or 99 if it
// hangs past `timeout_s`). Returns the exit codes by rank; a killed child reports 128+signal.
std::vector<int> RunProcesses(int n, const std::function<int(int rank)>& fn, double timeout_s = 60);

// count elements of dtype from a seed; values stay small so products and sums do not saturate
// low-precision types, and integers cover negative numbers.
Bytes MakeInput(DataType dtype, size_t count, uint64_t seed);

// The reduction of inputs[q][offset .. offset+count) over q, computed element by element.
Bytes ReferenceReduce(DataType dtype, RedOpKind op, const std::vector<Bytes>& inputs,
                      const std::vector<uint64_t>& scalars, size_t offset, size_t count);

// What rank `rank` must hold after `kind` given every rank's input (count = per-block count).
// Empty when the rank's output is unspecified (non-root of Reduce/Gather).
Bytes ExpectedOutput(CollKind kind, DataType dtype, RedOpKind op, const std::vector<Bytes>& inputs,
                     const std::vector<uint64_t>& scalars, size_t count, int root, int rank);
// Input and output sizes in elements of one rank's buffers for `kind`.
size_t InputElems(CollKind kind, size_t count, int nranks);
size_t OutputElems(CollKind kind, size_t count, int nranks);

}  // namespace ddrr::emu::testing
