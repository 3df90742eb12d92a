// ddrr payload RUN --rank R --call SEQ: writes the data a call's buffer held, as recorded at the
// payloads level (for a bug report, or to feed a single-rank replay by hand).
#include <cerrno>
#include <cstdio>

#include "cli_common.h"
#include "trace/run.h"

namespace ddrr::cli {
namespace {

class PayloadCommand : public Command {
 public:
  PayloadCommand()
      : Command({
            .name = "payload",
            .description =
                "Write the recorded data of one call's buffer (capture level payloads)\n"
                "\n"
                "Writes the data of one buffer of call #SEQ of a rank (as `ddrr dump` numbers it) "
                "after checking it against its recorded hash. Payloads are recorded with `ddrr "
                "record --level payloads`, for collective outputs and receives.",
            .exit_status =
                "0 written, 1 no such payload in the run (level below payloads, outside "
                "--payload-steps or over --payload-mb), 2 input error or a payload that does not "
                "match its hash.",
            .examples = {"ddrr payload run1 --rank 0 --call 54 -o allreduce.bin"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override {
    AddRunArgument(sub, &run_path_);
    sub.add_option("--rank", rank_, "Rank whose call it is")
        ->required()
        ->check(CLI::NonNegativeNumber);
    sub.add_option("--call", call_seq_, "Sequence number of the call (#N in `ddrr dump`)")
        ->required();
    sub.add_option("--role", role_, "Buffer: output (what the rank received) or input")
        ->check(CLI::IsMember({"input", "output"}));
    sub.add_option("-o,--output", out_path_, "File to write")->default_str("standard output");
  }

  int Run() override {
    auto run = OpenRun(run_path_);
    if (!run.ok()) return Fail(run.status());
    trace::RankEntry* entry = RequireRank(*run, rank_, run_path_, /*need_reader=*/true);
    if (!entry) return kExitUsage;
    const int role = role_ == "input" ? trace::BUFFER_INPUT : trace::BUFFER_OUTPUT;
    auto data = entry->reader->CallPayload(call_seq_, role);
    if (data.status().code() == StatusCode::kNotFound) {
      fprintf(stderr,
              "ddrr: no %s payload recorded for call #%llu of rank %lld (capture level %s; "
              "payloads cover collective outputs and receives, within --payload-steps and "
              "--payload-mb)\n",
              role_.c_str(), static_cast<unsigned long long>(call_seq_),
              static_cast<long long>(rank_),
              trace::CaptureLevelName(entry->reader->header().capture().level()).c_str());
      return kExitFindings;
    }
    if (!data.ok()) return Fail(data.status());
    FILE* out = out_path_.empty() ? stdout : fopen(out_path_.c_str(), "wb");
    if (!out) return Fail(Status::FromErrno("open " + out_path_, errno));
    const bool written = fwrite(data->data(), 1, data->size(), out) == data->size();
    const bool closed = out == stdout ? fflush(out) == 0 : fclose(out) == 0;
    if (!written || !closed)
      return Fail(Status::FromErrno("write " + (out_path_.empty() ? "stdout" : out_path_), errno));
    return kExitOk;
  }

  std::string run_path_;
  int64_t rank_ = 0;
  uint64_t call_seq_ = 0;
  std::string role_ = "output";
  std::string out_path_;
};

}  // namespace

std::unique_ptr<Command> MakePayloadCommand() { return std::make_unique<PayloadCommand>(); }

}  // namespace ddrr::cli
