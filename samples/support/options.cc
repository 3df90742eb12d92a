#include "support/options.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "support/check.h"

namespace ddrr_samples {
namespace {

struct FaultEntry {
  FaultKind kind;
  const char* name;
};

constexpr FaultEntry kFaults[] = {
    {FaultKind::kSkipCollective, "skip-collective"},
    {FaultKind::kWrongCount, "wrong-count"},
    {FaultKind::kWrongRoot, "wrong-root"},
    {FaultKind::kWrongDtype, "wrong-dtype"},
    {FaultKind::kUnmatchedSend, "unmatched-send"},
    {FaultKind::kSameDevice, "same-device"},
    {FaultKind::kAbort, "abort"},
    {FaultKind::kNan, "nan"},
    {FaultKind::kStall, "stall"},
    {FaultKind::kInitStall, "init-stall"},
    {FaultKind::kCrossOrder, "cross-order"},
};

std::string FaultList(const SampleSpec& spec) {
  std::string list;
  for (FaultKind kind : spec.faults) {
    if (!list.empty()) list += ", ";
    list += FaultName(kind);
  }
  return list.empty() ? "none" : list;
}

void PrintUsage(const SampleSpec& spec, FILE* out) {
  fprintf(out, "usage: %s [options]\n%s\n\noptions:\n", spec.name, spec.summary);
  fprintf(out, "  --steps N         %s (default %d)\n", spec.steps_help, spec.default_steps);
  fprintf(out, "  --size N          %s (default %zu)\n", spec.size_help, spec.default_size);
  fprintf(out, "  --seed N          random seed (default %llu)\n",
          static_cast<unsigned long long>(Options().seed));
  for (const ExtraOption& extra : spec.extras) {
    std::string flag = std::string(extra.flag) + " " + extra.metavar;
    if (const int* const* value = std::get_if<int*>(&extra.target)) {
      fprintf(out, "  %-17s %s (default %d)\n", flag.c_str(), extra.help, **value);
    } else {
      fprintf(out, "  %-17s %s (default %g)\n", flag.c_str(), extra.help,
              *std::get<double*>(extra.target));
    }
  }
  if (!spec.faults.empty()) {  // a sample that injects none (dlopen_nccl) lists no fault flags
    fprintf(out, "  --fault KIND      inject a fault on one rank; KIND is one of:\n");
    fprintf(out, "                    %s\n", FaultList(spec).c_str());
    fprintf(out, "  --fault-rank R    the rank that misbehaves (default: the last rank)\n");
    fprintf(out, "  --fault-step S    %s\n", spec.fault_step_help);
  }
  fprintf(out, "  -h, --help        show this help\n");
  fprintf(out,
          "\nRank and world size come from RANK/WORLD_SIZE (or OMPI_COMM_WORLD_*, PMI_*, SLURM_*);"
          "\nthe NCCL unique id is shared through a file, see samples/README.md.\n");
}

bool ParseInt64(const char* text, long long min, long long max, long long* value) {
  errno = 0;
  char* end = nullptr;
  long long parsed = strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || parsed < min || parsed > max) return false;
  *value = parsed;
  return true;
}

bool ParseUint64(const char* text, uint64_t* value) {
  if (*text == '-' || *text == '\0') return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long parsed = strtoull(text, &end, 0);
  if (errno != 0 || *end != '\0') return false;
  *value = parsed;
  return true;
}

bool ParseDouble(const char* text, double* value) {
  errno = 0;
  char* end = nullptr;
  double parsed = strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0') return false;
  *value = parsed;
  return true;
}

}  // namespace

const char* FaultName(FaultKind kind) {
  for (const FaultEntry& entry : kFaults) {
    if (entry.kind == kind) return entry.name;
  }
  return "none";
}

void UsageError(const SampleSpec& spec, const std::string& message) {
  fprintf(stderr, "%s: %s\n", spec.name, message.c_str());
  fprintf(stderr, "run '%s --help' for the options\n", spec.name);
  exit(kExitUsage);
}

Options ParseOptions(int argc, char** argv, const SampleSpec& spec) {
  Options options;
  options.steps = spec.default_steps;
  options.size = spec.default_size;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      PrintUsage(spec, stdout);
      exit(0);
    }
    // Both "--flag value" and "--flag=value".
    std::string flag(arg);
    std::string value;
    bool has_value = false;
    if (size_t eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
      has_value = true;
    } else if (i + 1 < argc) {
      value = argv[i + 1];
      has_value = true;
    }
    auto need_value = [&]() {
      if (!has_value) UsageError(spec, "option " + flag + " needs a value");
      if (arg.find('=') == std::string_view::npos) ++i;  // consumed the next argument
    };
    auto bad_value = [&]() { UsageError(spec, "bad value '" + value + "' for " + flag); };
    long long number = 0;
    if (flag == "--steps") {
      need_value();
      if (!ParseInt64(value.c_str(), 1, 1 << 30, &number)) bad_value();
      options.steps = static_cast<int>(number);
    } else if (flag == "--size") {
      need_value();
      if (!ParseInt64(value.c_str(), 1, 1ll << 40, &number)) bad_value();
      options.size = static_cast<size_t>(number);
    } else if (flag == "--seed") {
      need_value();
      if (!ParseUint64(value.c_str(), &options.seed)) bad_value();
    } else if (flag == "--fault") {
      need_value();
      const FaultEntry* found = nullptr;
      for (const FaultEntry& entry : kFaults) {
        if (value == entry.name) found = &entry;
      }
      if (found == nullptr ||
          std::find(spec.faults.begin(), spec.faults.end(), found->kind) == spec.faults.end()) {
        UsageError(spec,
                   "unknown fault kind '" + value + "'; this sample supports: " + FaultList(spec));
      }
      options.fault = found->kind;
    } else if (flag == "--fault-rank") {
      need_value();
      if (!ParseInt64(value.c_str(), 0, 1 << 30, &number)) bad_value();
      options.fault_rank = static_cast<int>(number);
    } else if (flag == "--fault-step") {
      need_value();
      if (!ParseInt64(value.c_str(), 0, 1 << 30, &number)) bad_value();
      options.fault_step = static_cast<int>(number);
    } else {
      const ExtraOption* extra = nullptr;
      for (const ExtraOption& candidate : spec.extras) {
        if (flag == candidate.flag) extra = &candidate;
      }
      if (extra == nullptr) UsageError(spec, "unknown argument '" + std::string(arg) + "'");
      need_value();
      if (int* const* target = std::get_if<int*>(&extra->target)) {
        if (!ParseInt64(value.c_str(), 0, 1 << 30, &number)) bad_value();
        **target = static_cast<int>(number);
      } else if (!ParseDouble(value.c_str(), std::get<double*>(extra->target))) {
        bad_value();
      }
    }
  }
  if (options.fault == FaultKind::kNone && (options.fault_rank >= 0 || options.fault_step >= 0)) {
    UsageError(spec, "--fault-rank and --fault-step need --fault");
  }
  return options;
}

Fault::Fault(const Options& options, const SampleSpec& spec, int my_rank, int world_size,
             int default_step)
    : kind_(options.fault),
      rank_(options.fault_rank >= 0 ? options.fault_rank : world_size - 1),
      step_(options.fault_step >= 0 ? options.fault_step : default_step) {
  if (kind_ != FaultKind::kNone && rank_ >= world_size) {
    UsageError(spec, "--fault-rank " + std::to_string(rank_) + " is not a rank of a world of " +
                         std::to_string(world_size));
  }
  mine_ = kind_ != FaultKind::kNone && rank_ == my_rank;
}

bool Fault::Fires(FaultKind kind, int step) const {
  if (!Here(kind) || step != step_) return false;
  fprintf(stderr, "%sinjecting fault '%s' on rank %d at step %d\n", LogPrefix(), FaultName(kind),
          rank_, step);
  return true;
}

bool Fault::FiresAnyStep(FaultKind kind) const {
  if (!Here(kind)) return false;
  fprintf(stderr, "%sinjecting fault '%s' on rank %d\n", LogPrefix(), FaultName(kind), rank_);
  return true;
}

}  // namespace ddrr_samples
