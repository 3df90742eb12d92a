// ddrr bundle RUN -o FILE.tgz|FILE.zip: one file to attach to a bug report (src/bundle/bundle.h,
// docs/BUNDLES.md). Exit 0 written, 2 input or output error.
#include <cstdio>

#include "bundle/bundle.h"
#include "cli_common.h"
#include "common/step_range.h"

namespace ddrr::cli {
namespace {

std::string Size(uint64_t bytes) {
  char buf[32];
  if (bytes >= 1000000)
    snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
  else
    snprintf(buf, sizeof buf, "%.1f kB", bytes / 1e3);
  return buf;
}

class BundleCommand : public Command {
 public:
  BundleCommand()
      : Command({
            .name = "bundle",
            .description =
                "Pack the run into one .tgz or .zip to attach to a bug report\n"
                "\n"
                "The archive holds the rank files (values of secret-looking environment variables "
                "redacted, payload data left out; the run itself is untouched), report.md, the "
                "Perfetto timeline and manifest.json (sizes, SHA-256, what was redacted or left "
                "out). It says the size and, over GitHub's 25 MB, what to leave out. Every reading "
                "command takes a bundle (docs/BUNDLES.md).",
            .exit_status = "0 written, 2 input error (a rank still running is refused).",
            .examples = {"ddrr bundle run1 -o nccl-bug.tgz",
                         "ddrr bundle run1 -o nccl-bug.zip --ranks 0,5 --steps 100-110 --redact "
                         "hosts,paths"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override {
    AddRunArgument(sub, &run_path_);
    sub.add_option("-o,--output", output_, "The bundle: FILE.tgz, FILE.tar.gz or FILE.zip")
        ->required();
    sub.add_option("--redact", redact_,
                   "Also replace with stable pseudonyms: hosts, paths (user paths), cmdline "
                   "(arguments); comma list")
        ->default_str("secrets only");
    sub.add_flag("--with-payloads", with_payloads_, "Keep recorded payload data");
    sub.add_option("--ranks", ranks_, "Only these ranks' files: a list such as 0,2,4-7")
        ->default_str("every rank");
    sub.add_option("--steps", steps_,
                   "Only the events of steps A-B (by the ranks' marks), with the setup before "
                   "them (communicators, threads)")
        ->default_str("every step");
    sub.add_flag("--no-timeline", no_timeline_, "Leave out timeline.perfetto-trace");
  }

  int Run() override {
    bundle::BundleOptions o;
    o.out_path = output_;
    o.with_payloads = with_payloads_;
    o.timeline = !no_timeline_;
    o.ddrr_version = DDRR_VERSION;
    for (const std::string& item : Split(redact_)) {
      if (item == "hosts")
        o.redact.hosts = true;
      else if (item == "paths")
        o.redact.paths = true;
      else if (item == "cmdline")
        o.redact.cmdline = true;
      else
        return Fail("--redact " + item + " is not one of hosts, paths, cmdline");
    }
    for (const std::string& item : Split(ranks_)) {
      int64_t a, b;
      if (!ParseStepRange(item, &a, &b))
        return Fail("--ranks " + ranks_ + " is not a list of ranks such as 0,2,4-7");
      for (int64_t r = a; r <= b; ++r) o.ranks.push_back(r);
    }
    if (!ranks_.empty() && o.ranks.empty())
      return Fail("--ranks " + ranks_ + " is not a list of ranks such as 0,2,4-7");
    if (!steps_.empty()) {
      if (!ParseStepRange(steps_, &o.steps.first, &o.steps.last))
        return Fail("--steps " + steps_ + " is not a step range such as 100-110");
      o.has_steps = true;
    }
    std::optional<trace::Run> run;
    if (int rc = OpenReadableRun(run_path_, &run)) return rc;
    auto s = bundle::CreateBundle(*run, o);
    if (!s.ok()) return Fail(s.status());
    printf("wrote %s: %zu rank file(s), report.md%s, manifest.json; %s\n", output_.c_str(),
           s->rank_files, o.timeline ? ", timeline.perfetto-trace" : "",
           Size(s->archive_bytes).c_str());
    std::string names;
    for (const std::string& n : s->redacted_env) names += (names.empty() ? "" : ", ") + n;
    printf("redacted: %s\n", names.empty() ? "no secret-looking environment variable was set"
                                           : ("the values of " + names).c_str());
    for (const std::string& l : s->left_out) printf("left out: %s\n", l.c_str());
    if (o.has_steps)
      printf("steps %s: %llu event(s) kept, %llu cut\n", steps_.c_str(),
             static_cast<unsigned long long>(s->events_kept),
             static_cast<unsigned long long>(s->events_cut));
    if (s->payload_frames_dropped)
      printf("left out: %llu payload frame(s), %s (--with-payloads keeps them)\n",
             static_cast<unsigned long long>(s->payload_frames_dropped),
             Size(s->payload_bytes_dropped).c_str());
    if (s->archive_bytes > bundle::kAttachmentLimitBytes) {
      printf(
          "%s is over the 25 MB GitHub takes for an attachment: bundle fewer ranks with "
          "--ranks (the ranks the findings blame and a healthy one)%s%s%s\n",
          output_.c_str(),
          o.has_steps ? ", a narrower --steps"
                      : ", fewer steps with --steps A-B (around the fault)",
          o.timeline ? ", leave the timeline out with --no-timeline" : "",
          o.with_payloads ? ", drop --with-payloads" : "");
    } else {
      printf("GitHub takes attachments up to 25 MB: this one fits\n");
    }
    return kExitOk;
  }

  static std::vector<std::string> Split(const std::string& list) {
    std::vector<std::string> out;
    size_t at = 0;
    while (at < list.size()) {
      size_t comma = list.find(',', at);
      if (comma == std::string::npos) comma = list.size();
      out.push_back(list.substr(at, comma - at));
      at = comma + 1;
    }
    return out;
  }

  std::string run_path_;
  std::string output_;
  std::string redact_;
  std::string ranks_;
  std::string steps_;
  bool with_payloads_ = false;
  bool no_timeline_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeBundleCommand() { return std::make_unique<BundleCommand>(); }

}  // namespace ddrr::cli
