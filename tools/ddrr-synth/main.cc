// ddrr-synth: writes a synthetic, training-like run directory. A developer tool for tests,
// benchmarks and the demo; it exercises the same writer the recorder uses.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "ddrr-synth/synthetic_run.h"

int main(int argc, char** argv) {
  CLI::App app{"Write a synthetic training-like ddrr run (for tests, benchmarks, demos)"};
  std::string out;
  ddrr::trace::SyntheticRunOptions o;
  app.add_option("-o,--output", out, "Run directory to write")->required();
  app.add_option("-n,--ranks", o.world_size, "World size")->check(CLI::Range(1, 100000));
  app.add_option("--steps", o.steps, "Training steps")->check(CLI::Range(1, 10000000));
  app.add_option("--buckets", o.buckets_per_step, "All-reduces per step");
  app.add_option("--seed", o.seed, "Seed");
  app.add_option("--kill-rank", o.stop_rank, "This rank stops early and leaves no footer");
  app.add_option("--kill-step", o.stop_at_step, "Step at which --kill-rank stops");
  app.add_option("--frame-bytes", o.writer.frame_raw_bytes, "Uncompressed bytes per frame")
      ->check(CLI::Range(64, 256 << 20));
  // Ranks meet at every collective, as real ones do; --drifting-clocks gives each rank a clock
  // of its own (the stream the trace benchmarks use).
  bool drifting = false;
  app.add_flag("--drifting-clocks", drifting, "Let each rank's clock drift on its own");
  double slow_ms = 0;
  app.add_option("--slow-rank", o.slow_rank, "This rank calls every all-reduce late...");
  app.add_option("--slow-ms", slow_ms, "...by this many milliseconds (default 20)");
  app.add_flag("--digests", o.digests, "Capture level digests: input/output digests");
  app.add_option("--nan-rank", o.nan_rank, "With --digests: this rank feeds a NaN...");
  app.add_option("--nan-step", o.nan_step, "...into the first all-reduce of this step");
  app.add_option("--diverge-rank", o.diverge_rank, "With --digests: this rank's output differs...");
  app.add_option("--diverge-step", o.diverge_step, "...from the last all-reduce of this step on");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  o.synchronized = !drifting;
  o.slow_ns = static_cast<uint64_t>((slow_ms > 0 ? slow_ms : 20.0) * 1e6);
  auto n = ddrr::trace::WriteSyntheticRun(out, o);
  if (!n.ok()) {
    fprintf(stderr, "ddrr-synth: error: %s\n", n.status().ToString().c_str());
    return 2;
  }
  printf("ddrr-synth: wrote %u ranks, %llu events to %s\n", o.world_size,
         static_cast<unsigned long long>(*n), out.c_str());
  return 0;
}
