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
#include <vector>

#include "launch/test_util.h"

namespace ddrr::launch {
namespace {

using RunResult = Captured<StatusOr<LaunchResult>>;

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

TEST(LauncherTest, SetsRankEnvironmentAndPrefixesOutput) {
  RunResult run =
      RunCaptured(Shell(3,
                        "echo \"rank=$RANK world=$WORLD_SIZE local=$LOCAL_RANK/$LOCAL_WORLD_SIZE "
                        "addr=$MASTER_ADDR port=$MASTER_PORT\"; echo oops >&2"));
  ASSERT_TRUE(run.result.ok()) << run.result.status().ToString();
  EXPECT_EQ(run.result->exit_status, 0);
  for (int r = 0; r < 3; ++r) {
    std::string expected = "[rank " + std::to_string(r) + "] rank=" + std::to_string(r) +
                           " world=3 local=" + std::to_string(r) + "/3 addr=127.0.0.1 port=";
    EXPECT_NE(run.out.find(expected), std::string::npos) << run.out;
    EXPECT_NE(run.err.find("[rank " + std::to_string(r) + "] oops\n"), std::string::npos);
  }
  EXPECT_EQ(run.out.find("port=0"), std::string::npos);
}

TEST(LauncherTest, KeepsEachRanksLinesWholeAndInOrder) {
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

TEST(LauncherTest, ReturnsTheFailingRanksStatus) {
  RunResult run = RunCaptured(Shell(3, "[ $RANK = 1 ] && exit 4; exit 0"));
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(run.result->exit_status, 4);
  EXPECT_FALSE(run.result->stopped);
  ASSERT_EQ(run.result->ranks.size(), 3u);
  for (int r = 0; r < 3; ++r) {
    const RankResult& rank = run.result->ranks[static_cast<size_t>(r)];
    EXPECT_EQ(rank.rank, r);
    EXPECT_GT(rank.pid, 0);
    EXPECT_EQ(rank.exit_status, r == 1 ? 4 : 0);
    EXPECT_FALSE(rank.killed_by_launcher) << "the others end on their own within the grace";
  }
  run = RunCaptured(Shell(2, "[ $RANK = 0 ] && kill -9 $$; exit 0"));
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(run.result->exit_status, 128 + SIGKILL);
}

TEST(LauncherTest, AFailingRankStopsTheOthers) {
  LaunchOptions options = Shell(3, "[ $RANK = 2 ] && exit 9; sleep 30");
  options.grace_seconds = 0.2;
  auto start = std::chrono::steady_clock::now();
  RunResult run = RunCaptured(options);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(run.result->exit_status, 9);
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  ASSERT_EQ(run.result->ranks.size(), 3u);
  for (int r = 0; r < 2; ++r) {
    EXPECT_TRUE(run.result->ranks[static_cast<size_t>(r)].killed_by_launcher);
    EXPECT_EQ(run.result->ranks[static_cast<size_t>(r)].exit_status, 128 + SIGTERM);
  }
  EXPECT_FALSE(run.result->ranks[2].killed_by_launcher);
  EXPECT_EQ(run.result->ranks[2].exit_status, 9);
}

TEST(LauncherTest, EscalatesToSigkillForRanksIgnoringSigterm) {
  LaunchOptions options = Shell(2, "[ $RANK = 0 ] && exit 3; trap '' TERM; sleep 30");
  options.grace_seconds = 0.1;
  options.kill_after_seconds = 0.3;
  auto start = std::chrono::steady_clock::now();
  RunResult run = RunCaptured(options);
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(run.result->exit_status, 3);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(LauncherTest, ForwardsSignalsToEveryRank) {
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
  EXPECT_EQ(run->result->exit_status, 7);
  for (const RankResult& rank : run->result->ranks) EXPECT_TRUE(rank.killed_by_launcher);
  std::system(("rm -rf " + dir).c_str());
}

TEST(LauncherTest, HostRuntimeGoesFirstOnLibraryPathAndPreloadIsKept) {
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

TEST(LauncherTest, RanksPerGpuAppendsTheShimAndPutsEmuFirst) {
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

TEST(LauncherTest, RanksPerGpuWithNothingPreloadedPreloadsTheShimAlone) {
  unsetenv("LD_PRELOAD");
  LaunchOptions options = Shell(1, "echo \"preload=$LD_PRELOAD\"");
  options.ranks_per_gpu = 2;
  options.gpushare_lib = "/x/libddrr_gpushare.so";
  RunResult run = RunCaptured(options);
  ASSERT_TRUE(run.result.ok());
  EXPECT_NE(run.out.find("preload=/x/libddrr_gpushare.so\n"), std::string::npos) << run.out;
}

TEST(LauncherTest, WithoutPrefixingRanksWriteDirectly) {
  LaunchOptions options = Shell(2, "echo plain");
  options.prefix_output = false;
  RunResult run = RunCaptured(options);
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(run.out, "plain\nplain\n");
}

TEST(LauncherTest, MissingProgramExits127) {
  LaunchOptions options;
  options.nranks = 1;
  options.argv = {"/nonexistent/ddrr-test-program"};
  RunResult run = RunCaptured(options);
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(run.result->exit_status, 127);
  EXPECT_NE(run.err.find("cannot execute"), std::string::npos);
}

TEST(LauncherTest, RankIdsAndWorldSizeReachTheEnvironmentAndThePrefix) {
  LaunchOptions options =
      Shell(2, "echo \"rank=$RANK world=$WORLD_SIZE local=$LOCAL_RANK/$LOCAL_WORLD_SIZE\"");
  options.rank_ids = {5, 2};
  options.world_size = 8;
  RunResult run = RunCaptured(options);
  ASSERT_TRUE(run.result.ok()) << run.result.status().ToString();
  EXPECT_NE(run.out.find("[rank 5] rank=5 world=8 local=0/2\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("[rank 2] rank=2 world=8 local=1/2\n"), std::string::npos) << run.out;
  ASSERT_EQ(run.result->ranks.size(), 2u);
  EXPECT_EQ(run.result->ranks[0].rank, 5);
  EXPECT_EQ(run.result->ranks[1].rank, 2);
}

TEST(LauncherTest, WorldSizeAloneKeepsTheRanksFromZero) {
  LaunchOptions options = Shell(2, "echo \"rank=$RANK world=$WORLD_SIZE\"");
  options.world_size = 4;
  RunResult run = RunCaptured(options);
  ASSERT_TRUE(run.result.ok()) << run.result.status().ToString();
  EXPECT_NE(run.out.find("[rank 0] rank=0 world=4\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("[rank 1] rank=1 world=4\n"), std::string::npos) << run.out;
}

TEST(LauncherTest, ExtraEnvironmentOverridesTheInheritedOne) {
  setenv("DDRR_LAUNCH_TEST_A", "inherited", 1);
  setenv("DDRR_LAUNCH_TEST_KEPT", "kept", 1);
  setenv("LD_LIBRARY_PATH", "/inherited/lib", 1);
  LaunchOptions options =
      Shell(1,
            "echo \"a=$DDRR_LAUNCH_TEST_A b=$DDRR_LAUNCH_TEST_B kept=$DDRR_LAUNCH_TEST_KEPT "
            "path=$LD_LIBRARY_PATH\"");
  options.extra_env = {{"DDRR_LAUNCH_TEST_A", "extra"},
                       {"DDRR_LAUNCH_TEST_B", "new"},
                       {"LD_LIBRARY_PATH", "/extra/lib"}};
  options.host_runtime = true;
  options.hostrt_dir = "/opt/ddrr/lib/hostrt";
  RunResult run = RunCaptured(options);
  unsetenv("DDRR_LAUNCH_TEST_A");
  unsetenv("DDRR_LAUNCH_TEST_KEPT");
  unsetenv("LD_LIBRARY_PATH");
  ASSERT_TRUE(run.result.ok()) << run.result.status().ToString();
  // The host runtime still goes first, in front of the path extra_env gave.
  EXPECT_NE(run.out.find("a=extra b=new kept=kept path=/opt/ddrr/lib/hostrt:/extra/lib\n"),
            std::string::npos)
      << run.out;
}

TEST(LauncherTest, ShouldStopKillsEveryRankAtOnce) {
  // Sleeps far past the bound below, so that a stop that fails ends the test rather than hang it.
  LaunchOptions options = Shell(2, "exec sleep 30");
  options.grace_seconds = 60;  // a quick end proves the stop skips the grace
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::chrono::steady_clock::time_point> asked;
  options.should_stop = [&] {
    asked.push_back(std::chrono::steady_clock::now());
    return asked.back() - start > std::chrono::milliseconds(300);
  };
  RunResult run = RunCaptured(options);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(run.result.ok()) << run.result.status().ToString();
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_TRUE(run.result->stopped);
  EXPECT_EQ(run.result->exit_status, 128 + SIGKILL);
  ASSERT_EQ(run.result->ranks.size(), 2u);
  for (const RankResult& rank : run.result->ranks) {
    EXPECT_TRUE(rank.killed_by_launcher);
    EXPECT_EQ(rank.exit_status, 128 + SIGKILL);
  }
  ASSERT_GE(asked.size(), 2u);
  for (size_t i = 1; i < asked.size(); ++i) {
    // Asked every 50 ms; the slack is for a loaded machine.
    EXPECT_LT(asked[i] - asked[i - 1], std::chrono::milliseconds(250));
  }
}

TEST(LauncherTest, ShouldStopSendsTheStopSignalThenSigkill) {
  // Rank 0 ends on the stop signal, rank 1 ignores it and needs the SIGKILL that follows; both
  // would run about 30 s otherwise.
  LaunchOptions options = Shell(2,
                                "if [ $RANK = 0 ]; then trap 'exit 7' INT; else trap '' INT; fi; "
                                "i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done");
  options.grace_seconds = 60;
  options.kill_after_seconds = 0.3;
  options.stop_signal = SIGINT;
  const auto start = std::chrono::steady_clock::now();
  options.should_stop = [&] {
    return std::chrono::steady_clock::now() - start > std::chrono::milliseconds(300);
  };
  RunResult run = RunCaptured(options);
  ASSERT_TRUE(run.result.ok()) << run.result.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(run.result->stopped);
  ASSERT_EQ(run.result->ranks.size(), 2u);
  EXPECT_EQ(run.result->ranks[0].exit_status, 7);
  EXPECT_EQ(run.result->ranks[1].exit_status, 128 + SIGKILL);
  EXPECT_TRUE(run.result->ranks[0].killed_by_launcher);
  EXPECT_TRUE(run.result->ranks[1].killed_by_launcher);
}

TEST(LauncherTest, ShouldStopAnsweringFalseLetsTheRanksFinish) {
  LaunchOptions options = Shell(2, "exit 0");
  int asked = 0;
  options.should_stop = [&] { return ++asked < 0; };
  RunResult run = RunCaptured(options);
  ASSERT_TRUE(run.result.ok());
  EXPECT_FALSE(run.result->stopped);
  EXPECT_EQ(run.result->exit_status, 0);
  for (const RankResult& rank : run.result->ranks) EXPECT_FALSE(rank.killed_by_launcher);
}

TEST(LauncherTest, RejectsBadRankIdsWorldSizesAndEnvironments) {
  auto rejected = [](void (*edit)(LaunchOptions&)) {
    LaunchOptions options = Shell(2, "exit 0");
    edit(options);
    StatusOr<LaunchResult> result = RunRanks(options);
    return !result.ok() && result.status().code() == StatusCode::kInvalidArgument;
  };
  EXPECT_FALSE(rejected([](LaunchOptions& o) { o.rank_ids = {1, 0}; })) << "a valid baseline";
  EXPECT_TRUE(rejected([](LaunchOptions& o) { o.rank_ids = {0}; })) << "one id for two ranks";
  EXPECT_TRUE(rejected([](LaunchOptions& o) { o.rank_ids = {0, -1}; }));
  EXPECT_TRUE(rejected([](LaunchOptions& o) { o.rank_ids = {1, 1}; }));
  EXPECT_TRUE(rejected([](LaunchOptions& o) { o.rank_ids = {0, 2}; })) << "WORLD_SIZE 2";
  EXPECT_TRUE(rejected([](LaunchOptions& o) {
    o.rank_ids = {0, 4};
    o.world_size = 4;
  }));
  EXPECT_FALSE(rejected([](LaunchOptions& o) {
    o.rank_ids = {0, 4};
    o.world_size = 5;
  }));
  EXPECT_TRUE(rejected([](LaunchOptions& o) { o.world_size = 1; })) << "ranks 0 and 1";
  EXPECT_TRUE(rejected([](LaunchOptions& o) { o.world_size = -1; }));
  EXPECT_TRUE(rejected([](LaunchOptions& o) { o.extra_env = {{"RANK", "3"}}; }));
  EXPECT_TRUE(rejected([](LaunchOptions& o) { o.extra_env = {{"", "x"}}; }));
  EXPECT_TRUE(rejected([](LaunchOptions& o) { o.extra_env = {{"A=B", "x"}}; }));
  EXPECT_TRUE(rejected([](LaunchOptions& o) { o.extra_env = {{"A", "1"}, {"A", "2"}}; }));
  EXPECT_TRUE(rejected([](LaunchOptions& o) { o.stop_signal = 0; }));
}

TEST(LauncherTest, RejectsBadOptions) {
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
