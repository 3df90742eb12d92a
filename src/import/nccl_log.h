// NCCL debug logs (NCCL_DEBUG=INFO with NCCL_DEBUG_SUBSYS including INIT and COLL) read into
// per-process calls, then written as a ddrr run.
//
// Lines are NCCL's own (src/debug.cc, src/init.cc, src/enqueue.cc, 2.18 to 2.28):
//   [timestamp] host:pid:tid [dev] NCCL INFO <Op>: opCount <hex> sendbuff <p> recvbuff <p>
//       count <n> datatype <d> op <o> root <r> comm <p> [nranks=<n>] stream <p>
//   ... NCCL INFO [[Rank r] ncclCommInitRank] comm <p> rank <r> nranks <n> cudaDev <d>
//       [nvmlDev <d>] busId <b> commId 0x<h> - Init START|COMPLETE
//   ... NCCL INFO ncclCommSplit comm <p> rank <r> nranks <n> ... parent <p> [splitCount|
//       childCount <c>] color <c> key <k> - Init START|COMPLETE
//   ... NCCL INFO comm <p> rank <r> nranks <n> cudaDev <d> busId <b> - Destroy|Abort COMPLETE
//   host:pid:tid [dev] file:line NCCL WARN <message>
//   ... NCCL INFO NCCL version 2.21.5+cuda12.4
// Anything else is skipped: other INFO lines, text around the log, lines of other programs.
// Ranks may be interleaved in one file or spread over several; a line whose prefix was cut
// off is given to the process that owns its communicator pointer, or to the only process of
// its file; a collective line wrapped over two lines is joined.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "import/run_writer.h"

namespace ddrr::import {

struct ImportResult;

// One line's meaning, as ParseNcclLine() reads it.
struct LogLine {
  enum Kind : uint8_t { kNone, kOp, kInit, kDestroy, kAbort, kWarn, kVersion } kind = kNone;
  bool has_prefix = false;  // host:pid:tid [dev] was there
  std::string_view host;
  uint32_t pid = 0;
  int32_t dev = -1;
  // kOp
  OpFn fn = OpFn::kAllReduce;
  uint64_t op_count = 0, sendbuff = 0, recvbuff = 0, count = 0, stream = 0;
  int32_t datatype = 0, op = 0, root = 0;
  // kOp, kInit, kDestroy, kAbort
  uint64_t comm = 0;
  int32_t rank = -1, nranks = -1;
  int32_t cuda_dev = -1;  // kInit: the communicator's device
  // kInit
  bool complete = false;     // "Init COMPLETE" (else START)
  bool has_comm_id = false;  // commId 0x...
  uint64_t comm_id = 0;
  bool split = false;  // has a parent
  uint64_t parent = 0;
  int32_t color = 0, key = 0;
  // kWarn: the message; kVersion: "2.21.5"
  std::string_view text;
  int32_t version_code = 0;  // kVersion: 22105
};

// Reads one line; kNone when it is not one ddrr uses. `body_only`: set when the line has an
// op body that is cut short (a wrapped line): the caller joins the next line and tries again.
LogLine ParseNcclLine(std::string_view line, bool* cut_short = nullptr);

struct NcclLogOptions {
  uint32_t world_size = 0;  // 0: the largest communicator's size
};

// Reads `paths` (one log per rank, or all ranks in one) and writes the run into `out_dir`
// (created by the caller). Errors: unreadable files, binary data, over-long lines, no NCCL
// line at all.
Status ImportNcclLogs(const std::vector<std::string>& paths, const std::string& out_dir,
                      const NcclLogOptions& options, ImportResult* result);

}  // namespace ddrr::import
