// The replay script: one recorded rank compiled by the CLI (script_writer.h) into a flat file
// that the interposer's replay mode maps read-only (interpose/app_replay.cc). libddrr.so cannot
// decode protobuf, so everything it needs is here in fixed-size little-endian records: the
// rank's calls per thread with their arguments reduced to what two runs share (handles by
// number, pointers as allocation + offset), what to answer for calls served from the recording,
// the data a served collective writes, the entropy and RNG states handed to the program.
//
// Layout: ScriptHeader, then the tables it points at (each 8-byte aligned), then the blob of
// bytes the records point into. `crc` is the CRC-32C of every byte after the header; a reader
// checks magic, version, sizes and crc before it trusts an offset.
#pragma once

#include <cstdint>

namespace ddrr::replay::app {

inline constexpr char kScriptMagic[8] = {'D', 'D', 'R', 'R', 'A', 'P', 'P', '\n'};
inline constexpr uint32_t kScriptVersion = 1;

// How the replayed program's call is carried out.
enum ScriptMode : uint32_t {
  kModeReal = 0,       // call the real function; its result must be the recorded one
  kModeServe = 1,      // do not call it: outputs and result come from the recording
  kModeCallServe = 2,  // call it (a group of served calls), answer the recorded result
  kModeDevice = 3,     // call it with the device mapped onto this machine's devices
};

// ScriptCall.flags
enum ScriptCallFlags : uint32_t {
  kCallHasInputDigest = 1u << 0,  // input_digest/input_bytes: the input buffer's recorded XXH64
  kCallHasOutput = 1u << 1,       // output_blob/output_bytes: what a served call writes
  kCallMissingOutput = 1u << 2,   // served, writes data, but no payload was recorded for it
  kCallFailed = 1u << 3,          // the recorded call failed: never re-executed
  kCallSetup = 1u << 4,           // before the resume point: communicator setup a resumed
                                  // program makes again (creation, ncclGetUniqueId)
};

// ScriptArg.kind: how an argument compares.
enum ScriptArgKind : uint32_t {
  kArgIgnored = 0,  // shown, not compared (unique ids, configs, strings, arrays, functions)
  kArgScalar = 1,   // value: the bits (integers sign-extended, floats as double)
  kArgHandle = 2,   // value: number in its family in order of first appearance, 0 for NULL
  kArgPointer = 3,  // value: allocation number (0: outside any), offset: inside it
};

// ScriptArg.flags
enum ScriptArgFlags : uint32_t {
  kArgOut = 1u << 0,    // written by the callee; raw/blob hold what it wrote when recorded
  kArgNull = 1u << 1,   // a NULL pointer
  kArgBytes = 1u << 2,  // raw is a blob offset and raw_bytes its length (unique id bytes)
};

struct ScriptHeader {
  char magic[8];
  uint32_t version;
  uint32_t rank;
  uint32_t world_size;
  uint32_t thread_count;
  uint64_t call_count, arg_count, entropy_count, rng_count;
  uint64_t threads_offset, calls_offset, args_offset, entropy_offset, rng_offset;
  uint64_t blob_offset, blob_bytes;
  uint64_t file_bytes;
  int64_t payload_step_begin, payload_step_end;  // the recording's payload window; both 0: all
  // The program resumes at this step (its own checkpoint): before its ddrr_mark of the step
  // only setup calls are matched; INT64_MIN: it runs from the start.
  int64_t resume_step;
  uint32_t crc;
  uint32_t slot;  // the rank's slot in the replay's progress table (replay/progress.h)
};

// One thread of the recorded rank, in order of its first call or entropy draw (threads of the
// replayed program are paired with these in the same order).
struct ScriptThread {
  uint64_t first_call, call_count;
  uint64_t first_entropy, entropy_count;
  uint64_t first_rng, rng_count;
  // Where the resume step starts in each list (0 without one).
  uint64_t resume_call, resume_entropy, resume_rng;
};

struct ScriptCall {
  uint64_t seq;        // the recorded event's seq (reports name it)
  uint32_t fn;         // trace::FunctionId
  uint32_t mode;       // ScriptMode
  int64_t result;      // recorded return code
  uint32_t flags;      // ScriptCallFlags
  uint32_t arg_count;  // arguments in api_spec.py order, out arguments included
  uint64_t first_arg;  // into the ScriptArg table
  uint64_t input_digest, input_bytes;
  uint64_t output_blob, output_bytes;
  uint64_t comm_key;  // the communicator the call acts on (0: none)
  uint64_t op_seq;    // its op number on that communicator (collectives, p2p)
  int64_t step;       // the step of the last mark before it (INT64_MIN: none)
  int32_t comm_size;  // communicator creation: the created communicator's size and this
  int32_t comm_rank;  // rank's place in it (-1: unknown), for a served (virtual) one
};

struct ScriptArg {
  uint32_t kind;   // ScriptArgKind
  uint32_t flags;  // ScriptArgFlags
  uint64_t value;
  uint64_t offset;
  uint64_t raw;        // the recorded value (served out arguments), or a blob offset
  uint64_t raw_bytes;  // with kArgBytes
};

struct ScriptEntropy {
  uint32_t source;  // trace::EntropySource
  uint32_t reserved;
  uint64_t blob, bytes;
};

struct ScriptRng {
  uint64_t name_blob, name_bytes;
  uint64_t state_blob, state_bytes;
  uint64_t calls_before;  // calls of its thread recorded before it
};

}  // namespace ddrr::replay::app
