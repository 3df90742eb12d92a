// ddrr check at scale: writes a synthetic run (ranks on one timeline, bucketed all-reduces with
// completions, as ddrr-synth does), then runs the check on it in a child process and prints
// wall time, events per second and the child's peak RSS. One core: the check is
// single-threaded.
//
//   build/bin/bench/check_bench [--ranks N] [--ops N] [--dir DIR] [--keep] [--digests]
//
// --ops is per rank (all-reduces; 4 per step). The run is written to DIR (default a fresh
// directory under $TMPDIR) and removed afterwards unless --keep; an existing DIR with rank
// files is reused as it is.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "analysis/check.h"
#include "ddrr-synth/synthetic_run.h"
#include "trace/run.h"

namespace {

struct Args {
  uint32_t ranks = 1024;
  uint32_t ops = 10000;
  std::string dir;
  bool keep = false;
  bool digests = false;
};

bool Parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (f == "--ranks") {
      const char* v = value();
      if (!v) return false;
      a->ranks = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    } else if (f == "--ops") {
      const char* v = value();
      if (!v) return false;
      a->ops = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    } else if (f == "--dir") {
      const char* v = value();
      if (!v) return false;
      a->dir = v;
    } else if (f == "--keep") {
      a->keep = true;
    } else if (f == "--digests") {
      a->digests = true;
    } else {
      return false;
    }
  }
  return a->ranks > 0 && a->ops >= 4;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// The check itself, in this (child) process; prints its figures.
int RunCheck(const std::string& dir) {
  const auto t0 = std::chrono::steady_clock::now();
  auto run = ddrr::trace::Run::Open(dir);
  if (!run.ok()) {
    fprintf(stderr, "check_bench: %s\n", run.status().ToString().c_str());
    return 2;
  }
  auto result = ddrr::analysis::CheckRun(*run);
  if (!result.ok()) {
    fprintf(stderr, "check_bench: %s\n", result.status().ToString().c_str());
    return 2;
  }
  const double s = Seconds(t0);
  const auto& st = result->stats;
  printf("check: %llu ranks, %llu events, %llu ops, %llu communicator(s), %zu finding(s)\n",
         static_cast<unsigned long long>(st.ranks), static_cast<unsigned long long>(st.events),
         static_cast<unsigned long long>(st.ops), static_cast<unsigned long long>(st.communicators),
         result->findings.size());
  printf("wall %.2f s, %.2f M events/s, %.2f M ops/s, spill file %.0f MiB\n", s,
         static_cast<double>(st.events) / s / 1e6, static_cast<double>(st.ops) / s / 1e6,
         static_cast<double>(st.spilled_bytes) / (1 << 20));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!Parse(argc, argv, &a)) {
    fprintf(stderr,
            "usage: check_bench [--ranks N] [--ops N>=4] [--dir DIR] [--keep] [--digests]\n");
    return 2;
  }
  namespace fs = std::filesystem;
  const bool fresh = a.dir.empty();
  if (fresh)
    a.dir = (fs::temp_directory_path() / ("ddrr-check-bench-" + std::to_string(getpid()))).string();
  if (!fs::exists(fs::path(a.dir) / "rank-0.ddrr")) {
    ddrr::trace::SyntheticRunOptions o;
    o.world_size = a.ranks;
    o.buckets_per_step = 4;
    o.steps = a.ops / o.buckets_per_step;
    o.synchronized = true;
    o.digests = a.digests;
    const auto t0 = std::chrono::steady_clock::now();
    auto n = ddrr::trace::WriteSyntheticRun(a.dir, o);
    if (!n.ok()) {
      fprintf(stderr, "check_bench: %s\n", n.status().ToString().c_str());
      return 2;
    }
    uintmax_t bytes = 0;
    for (const auto& e : fs::directory_iterator(a.dir)) bytes += e.file_size();
    printf("wrote %u ranks x %u ops: %llu events, %.0f MiB, in %.1f s\n", a.ranks, o.steps * 4,
           static_cast<unsigned long long>(*n), static_cast<double>(bytes) / (1 << 20),
           Seconds(t0));
  }
  fflush(stdout);
  // The check runs in a child so its peak RSS is its own, not the writer's.
  const pid_t pid = fork();
  if (pid == 0) {
    const int rc = RunCheck(a.dir);
    fflush(stdout);
    _exit(rc);
  }
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  printf("peak RSS %.1f MiB, user %.2f s, sys %.2f s\n", static_cast<double>(ru.ru_maxrss) / 1024,
         static_cast<double>(ru.ru_utime.tv_sec) + ru.ru_utime.tv_usec / 1e6,
         static_cast<double>(ru.ru_stime.tv_sec) + ru.ru_stime.tv_usec / 1e6);
  if (fresh && !a.keep) fs::remove_all(a.dir);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
