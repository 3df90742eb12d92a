// RunChild: exit statuses, environment, signal forwarding, handlers restored.
#include "launch/spawn.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "launch/test_util.h"

namespace ddrr::launch {
namespace {

namespace fs = std::filesystem;

StatusOr<int> Shell(const std::string& script) { return RunChild({"/bin/sh", "-c", script}); }

TEST(SpawnTest, ReturnsTheChildsExitCode) {
  StatusOr<int> status = Shell("exit 5");
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(*status, 5);
  EXPECT_EQ(Shell("exit 0").value(), 0);
}

TEST(SpawnTest, AKilledChildGives128PlusTheSignal) {
  StatusOr<int> status = Shell("kill -9 $$");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(*status, 128 + SIGKILL);
}

TEST(SpawnTest, TheChildInheritsTheEnvironmentAndOutput) {
  setenv("DDRR_SPAWN_TEST", "inherited", 1);
  auto run = Capture([] { return Shell("echo \"value=$DDRR_SPAWN_TEST\""); });
  unsetenv("DDRR_SPAWN_TEST");
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(*run.result, 0);
  EXPECT_EQ(run.out, "value=inherited\n");
}

TEST(SpawnTest, AMissingProgramExits127WithOneLine) {
  auto run = Capture([] { return RunChild({"/nonexistent/ddrr-spawn-test"}); });
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(*run.result, 127);
  EXPECT_EQ(run.err,
            "ddrr: error: cannot run /nonexistent/ddrr-spawn-test: No such file or directory\n");
}

TEST(SpawnTest, NothingToRunIsAnError) { EXPECT_FALSE(RunChild({}).ok()); }

bool Catches(int signal_number) {
  struct sigaction current;
  sigaction(signal_number, nullptr, &current);
  return current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN;
}

TEST(SpawnTest, ForwardsSignalsToTheChild) {
  char dir_template[] = "/tmp/ddrr_spawn_testXXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string ready = std::string(dir_template) + "/ready";
  std::optional<StatusOr<int>> status;
  std::thread launcher([&] {
    status = Shell("trap 'exit 7' TERM; touch " + ready + "; while :; do sleep 0.05; done");
  });
  // Sent only once the child traps it and the launcher forwards it; else it would end the test.
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(ready) && Catches(SIGTERM); }));
  kill(getpid(), SIGTERM);
  launcher.join();
  fs::remove_all(dir_template);
  ASSERT_TRUE(status->ok());
  EXPECT_EQ(**status, 7);
}

volatile sig_atomic_t g_hangups = 0;
void CountHangup(int) { g_hangups = g_hangups + 1; }

TEST(SpawnTest, RestoresTheSignalHandlers) {
  struct sigaction mine = {}, previous;
  mine.sa_handler = CountHangup;
  sigemptyset(&mine.sa_mask);
  sigaction(SIGHUP, &mine, &previous);
  EXPECT_EQ(Shell("exit 0").value(), 0);
  struct sigaction after;
  sigaction(SIGHUP, nullptr, &after);
  EXPECT_EQ(after.sa_handler, CountHangup);
  const int hangups = g_hangups;
  raise(SIGHUP);
  EXPECT_EQ(g_hangups, hangups + 1);
  sigaction(SIGHUP, &previous, nullptr);
}

}  // namespace
}  // namespace ddrr::launch
