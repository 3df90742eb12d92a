// RunRanks: environment, exit statuses, output prefixing, failure and signal handling.
#include "launch/launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>

#include "launch/test_util.h"

namespace ddrr::launch {
namespace {

using RunResult = Captured<StatusOr<int>>;

// Runs the ranks with the launcher's stdout and stderr redirected to files.
RunResult RunCaptured(const LaunchOptions& options) {
  return Capture([&] { return RunRanks(options); });
}

LaunchOptions Shell(int nranks, const std::string& script) {
  LaunchOptions options;
  options.nranks = nranks;
  options.argv = {"/bin/sh", "-c", script};
  return options;
}

int CountLines(const std::string& text, const std::string& prefix) {
  std::istringstream lines(text);
  int count = 0;
  for (std::string line; std::getline(lines, line);) count += line.rfind(prefix, 0) == 0;
  return count;
}

TEST(Launcher, SetsRankEnvironmentAndPrefixesOutput) {
  RunResult run =
      RunCaptured(Shell(3,
                        "echo \"rank=$RANK world=$WORLD_SIZE local=$LOCAL_RANK/$LOCAL_WORLD_SIZE "
                        "addr=$MASTER_ADDR port=$MASTER_PORT\"; echo oops >&2"));
  ASSERT_TRUE(run.result.ok()) << run.result.status().ToString();
  EXPECT_EQ(*run.result, 0);
  for (int r = 0; r < 3; ++r) {
    std::string expected = "[rank " + std::to_string(r) + "] rank=" + std::to_string(r) +
                           " world=3 local=" + std::to_string(r) + "/3 addr=127.0.0.1 port=";
    EXPECT_NE(run.out.find(expected), std::string::npos) << run.out;
    EXPECT_NE(run.err.find("[rank " + std::to_string(r) + "] oops\n"), std::string::npos);
  }
  EXPECT_EQ(run.out.find("port=0"), std::string::npos);
}

TEST(Launcher, KeepsEachRanksLinesWholeAndInOrder) {
  // Many lines written in odd-sized pieces, and a last line with no newline.
  RunResult run =
      RunCaptured(Shell(2,
                        "i=0; while [ $i -lt 300 ]; do printf 'line %d of rank %s\\n' $i $RANK; "
                        "i=$((i+1)); done; printf 'tail'"));
  ASSERT_TRUE(run.result.ok());
  for (int r = 0; r < 2; ++r) {
    std::string prefix = "[rank " + std::to_string(r) + "] ";
    EXPECT_EQ(CountLines(run.out, prefix), 301);
    std::istringstream lines(run.out);
    int next = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(prefix, 0) != 0) continue;
      if (next < 300) {
        EXPECT_EQ(line, prefix + "line " + std::to_string(next) + " of rank " + std::to_string(r));
      } else {
        EXPECT_EQ(line, prefix + "tail");
      }
      ++next;
    }
  }
}

TEST(Launcher, ReturnsTheFailingRanksStatus) {
  RunResult run = RunCaptured(Shell(3, "[ $RANK = 1 ] && exit 4; exit 0"));
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(*run.result, 4);
  run = RunCaptured(Shell(2, "[ $RANK = 0 ] && kill -9 $$; exit 0"));
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(*run.result, 128 + SIGKILL);
}

TEST(Launcher, AFailingRankStopsTheOthers) {
  LaunchOptions options = Shell(3, "[ $RANK = 2 ] && exit 9; sleep 30");
  options.grace_seconds = 0.2;
  auto start = std::chrono::steady_clock::now();
  RunResult run = RunCaptured(options);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(*run.result, 9);
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

TEST(Launcher, EscalatesToSigkillForRanksIgnoringSigterm) {
  LaunchOptions options = Shell(2, "[ $RANK = 0 ] && exit 3; trap '' TERM; sleep 30");
  options.grace_seconds = 0.1;
  options.kill_after_seconds = 0.3;
  auto start = std::chrono::steady_clock::now();
  RunResult run = RunCaptured(options);
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(*run.result, 3);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Launcher, ForwardsSignalsToEveryRank) {
  char dir_template[] = "/tmp/ddrr_launcher_testXXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string dir = dir_template;
  LaunchOptions options =
      Shell(2, "trap 'exit 7' TERM; touch " + dir + "/ready.$RANK; while :; do sleep 0.05; done");
  options.grace_seconds = 60;  // a quick exit proves forwarding, not escalation
  std::optional<RunResult> run;
  std::thread launcher([&] { run = RunCaptured(options); });
  auto ready = [&](int r) {
    struct stat info;
    return stat((dir + "/ready." + std::to_string(r)).c_str(), &info) == 0;
  };
  ASSERT_TRUE(WaitUntil([&] { return ready(0) && ready(1); }));
  kill(getpid(), SIGTERM);  // caught by the launcher's handler while RunRanks runs
  launcher.join();
  ASSERT_TRUE(run->result.ok());
  EXPECT_EQ(*run->result, 7);
  std::system(("rm -rf " + dir).c_str());
}

TEST(Launcher, HostRuntimeGoesFirstOnLibraryPathAndPreloadIsKept) {
  setenv("LD_LIBRARY_PATH", "/inherited/lib", 1);
  setenv("LD_PRELOAD", "libm.so.6", 1);
  LaunchOptions options = Shell(1, "echo \"path=$LD_LIBRARY_PATH preload=$LD_PRELOAD\"");
  options.host_runtime = true;
  options.hostrt_dir = "/opt/ddrr/lib/hostrt";
  RunResult run = RunCaptured(options);
  unsetenv("LD_PRELOAD");
  unsetenv("LD_LIBRARY_PATH");
  ASSERT_TRUE(run.result.ok());
  EXPECT_NE(run.out.find("path=/opt/ddrr/lib/hostrt:/inherited/lib preload=libm.so.6"),
            std::string::npos)
      << run.out;
}

TEST(Launcher, RanksPerGpuAppendsTheShimAndPutsEmuFirst) {
  setenv("LD_LIBRARY_PATH", "/inherited/lib", 1);
  setenv("LD_PRELOAD", "/opt/ddrr/lib/libddrr.so", 1);
  LaunchOptions options =
      Shell(1, "echo \"path=$LD_LIBRARY_PATH preload=$LD_PRELOAD k=$DDRR_RANKS_PER_GPU\"");
  options.emu_dir = "/opt/ddrr/lib/emu";
  options.ranks_per_gpu = 4;
  options.gpushare_lib = "/opt/ddrr/lib/libddrr_gpushare.so";
  RunResult run = RunCaptured(options);
  unsetenv("LD_PRELOAD");
  unsetenv("LD_LIBRARY_PATH");
  ASSERT_TRUE(run.result.ok());
  // The recorder stays first, so that it records the virtual devices the program asks for.
  EXPECT_NE(run.out.find("path=/opt/ddrr/lib/emu:/inherited/lib "
                         "preload=/opt/ddrr/lib/libddrr.so:/opt/ddrr/lib/libddrr_gpushare.so k=4"),
            std::string::npos)
      << run.out;
}

TEST(Launcher, RanksPerGpuWithNothingPreloadedPreloadsTheShimAlone) {
  unsetenv("LD_PRELOAD");
  LaunchOptions options = Shell(1, "echo \"preload=$LD_PRELOAD\"");
  options.ranks_per_gpu = 2;
  options.gpushare_lib = "/x/libddrr_gpushare.so";
  RunResult run = RunCaptured(options);
  ASSERT_TRUE(run.result.ok());
  EXPECT_NE(run.out.find("preload=/x/libddrr_gpushare.so\n"), std::string::npos) << run.out;
}

TEST(Launcher, WithoutPrefixingRanksWriteDirectly) {
  LaunchOptions options = Shell(2, "echo plain");
  options.prefix_output = false;
  RunResult run = RunCaptured(options);
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(run.out, "plain\nplain\n");
}

TEST(Launcher, MissingProgramExits127) {
  LaunchOptions options;
  options.nranks = 1;
  options.argv = {"/nonexistent/ddrr-test-program"};
  RunResult run = RunCaptured(options);
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(*run.result, 127);
  EXPECT_NE(run.err.find("cannot execute"), std::string::npos);
}

TEST(Launcher, RejectsBadOptions) {
  LaunchOptions options;
  options.nranks = 0;
  options.argv = {"true"};
  EXPECT_FALSE(RunRanks(options).ok());
  options.nranks = 1;
  options.host_runtime = true;
  EXPECT_FALSE(RunRanks(options).ok());
  options.host_runtime = false;
  options.ranks_per_gpu = 2;
  EXPECT_FALSE(RunRanks(options).ok()) << "no shim to preload";
}

}  // namespace
}  // namespace ddrr::launch
