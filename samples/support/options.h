// Command line shared by the samples: --steps, --size, --seed and the fault-injection flags,
// plus a few sample-specific numeric options. Hand-rolled on purpose: the samples stand in for
// user programs and must depend on nothing but CUDA, cuRAND, NCCL and the standard library.
#ifndef DDRR_SAMPLES_COMMON_OPTIONS_H_
#define DDRR_SAMPLES_COMMON_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace ddrr_samples {

// Deliberate misbehaviours, injected on one rank so that ddrr's diagnosis has something to find.
enum class FaultKind {
  kNone,
  kSkipCollective,  // the rank skips one collective
  kWrongCount,      // the rank passes a different element count
  kWrongRoot,       // the rank names a different root
  kWrongDtype,      // the rank passes a different data type
  kUnmatchedSend,   // the rank posts a send that no peer receives
  kSameDevice,      // the rank selects a device another rank already uses
  kAbort,           // the rank aborts its communicator and exits non-zero
  kNan,             // the rank's data (gradient) gets a NaN
  kStall,           // the rank stops in its own code before a collective, until it is killed
  kInitStall,       // the rank stops before creating its communicator, until it is killed
  kCrossOrder,      // the rank queues collectives on two communicators in the other order
};

const char* FaultName(FaultKind kind);

// A sample-specific numeric flag, e.g. {"--lr", "X", "learning rate", &lr}.
struct ExtraOption {
  const char* flag;
  const char* metavar;
  const char* help;
  std::variant<int*, double*> target;  // also holds the default value shown in --help
};

// What a sample accepts; drives both parsing and --help.
struct SampleSpec {
  const char* name;
  const char* summary;
  const char* steps_help;
  const char* size_help;
  int default_steps;
  size_t default_size;
  const char* fault_step_help;    // what a "step" is for this sample, and the default
  std::vector<FaultKind> faults;  // the kinds this sample supports
  std::vector<ExtraOption> extras;
};

struct Options {
  int steps = 0;
  size_t size = 0;
  uint64_t seed = 1234;
  FaultKind fault = FaultKind::kNone;
  int fault_rank = -1;  // -1: the last rank (resolved once the world size is known)
  int fault_step = -1;  // -1: the sample's default
};

// Parses argv; prints usage and exits 0 for --help, prints usage to stderr and exits 2
// (kExitUsage) on anything it does not understand.
Options ParseOptions(int argc, char** argv, const SampleSpec& spec);

// Prints "<name>: <message>" and the usage line to stderr, then exits 2.
[[noreturn]] void UsageError(const SampleSpec& spec, const std::string& message);

// The injected fault as seen from one rank: which kind, and whether it fires here and now.
class Fault {
 public:
  Fault() = default;
  // Resolves the defaults (last rank; default_step) and validates the rank against the world
  // size (usage error if out of range).
  Fault(const Options& options, const SampleSpec& spec, int my_rank, int world_size,
        int default_step);

  FaultKind kind() const { return kind_; }
  int rank() const { return rank_; }
  int step() const { return step_; }
  // True on the faulty rank for this kind (at any step).
  bool Here(FaultKind kind) const { return kind_ == kind && mine_; }
  // True on the faulty rank for this kind at this step; prints a note to stderr when it fires,
  // so a run's log says what was injected where.
  bool Fires(FaultKind kind, int step) const;
  // Like Fires, for faults tied to one operation rather than a step (--fault-step ignored).
  bool FiresAnyStep(FaultKind kind) const;

 private:
  FaultKind kind_ = FaultKind::kNone;
  int rank_ = -1;
  int step_ = -1;
  bool mine_ = false;
};

}  // namespace ddrr_samples

#endif  // DDRR_SAMPLES_COMMON_OPTIONS_H_
