// NCCL's own debug output, as libnccl prints it under NCCL_DEBUG (src/debug.cc, init.cc,
// enqueue.cc): `host:pid:tid [dev] NCCL INFO ...` lines for communicator creation and
// destruction (subsystem INIT), collectives and sends/receives (COLL), and a
// `host:pid:tid [dev] file:line NCCL WARN ...` line for each failure. NCCL_DEBUG_SUBSYS picks
// the subsystems (default INIT, as NCCL; "^X" excludes), NCCL_DEBUG_FILE the file (%h the host,
// %p the pid; default stdout). These are the lines `ddrr import` reads (docs/IMPORT.md), so a
// job run on emu leaves the log a job on NCCL would.
//
// With NCCL_DEBUG unset every call returns after one load and a branch.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ddrr::emu {

class Comm;

namespace nccl_debug {

enum Subsys : uint64_t { kInit = 1ull << 0, kColl = 1ull << 1 };

// -1: not read yet; else the NCCL_DEBUG level (0 none, 2 WARN, 3 INFO, ...), published once
// the output is set up.
extern std::atomic<int> g_level;
int Setup();
inline int Level() {
  const int level = g_level.load(std::memory_order_acquire);
  return level >= 0 ? level : Setup();
}
inline bool Warns() { return Level() >= 2; }
inline bool Informs() { return Level() >= 3; }

// "ncclCommInitRank comm <p> rank <r> nranks <n> cudaDev <d> nvmlDev <d> busId <b> commId 0x<h>
// - Init START" when `what` creates a communicator from an id (a split's is SplitStart's).
void InitStart(const Comm& comm, const std::string& what);
void SplitStart(const Comm& parent, const Comm& child, int color, int key);
// "... - Init COMPLETE", once every rank is in.
void InitComplete(const Comm& comm, const std::string& what);
// "comm <p> rank <r> nranks <n> cudaDev <d> busId <b> - Destroy COMPLETE" (Abort); before the
// communicator is freed.
void Ended(const Comm& comm, bool abort);
// "<Op>: opCount <hex> sendbuff <p> recvbuff <p> count <n> datatype <d> op <o> root <r>
// comm <p> [nranks=<n>] stream <p>": `fn` is the NCCL function ("ncclAllReduce"); `root` is
// the root (0 for unrooted collectives) or, for ncclSend/ncclRecv, the peer. As in NCCL, a
// send's buffer is printed as recvbuff. Not printed for arguments NCCL refuses before it prints.
void Op(const char* fn, const void* send, const void* recv, size_t count, int datatype, int op,
        int root, const Comm* comm, const void* stream);
// "file:line NCCL WARN <message>".
void Warn(const char* file, int line, const std::string& message);

}  // namespace nccl_debug
}  // namespace ddrr::emu

// Entry points for emu's sources: each costs a load and a branch when NCCL_DEBUG is unset.
#define DDRR_NCCL_INFO(call) \
  (::ddrr::emu::nccl_debug::Informs() ? ::ddrr::emu::nccl_debug::call : void())
#define DDRR_NCCL_WARN(message)                                                                  \
  (::ddrr::emu::nccl_debug::Warns() ? ::ddrr::emu::nccl_debug::Warn(__FILE__, __LINE__, message) \
                                    : void())
