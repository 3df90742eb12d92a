// The recorder's environment: preloaded ahead of what the caller preloads, a fresh run id each
// time unless one is given (one job recorded node by node).
#include "launch/recorder_env.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

namespace ddrr::launch {
namespace {

std::map<std::string, std::string> AsMap(const EnvList& env) {
  return std::map<std::string, std::string>(env.begin(), env.end());
}

TEST(RecorderEnvTest, PreloadsTheRecorderFirst) {
  unsetenv("LD_PRELOAD");
  auto alone = AsMap(RecorderEnv("/opt/ddrr/lib/libddrr.so", "/runs/a", "metadata"));
  EXPECT_EQ(alone["LD_PRELOAD"], "/opt/ddrr/lib/libddrr.so");
  EXPECT_EQ(alone["DDRR_OUT"], "/runs/a");
  EXPECT_EQ(alone["DDRR_LEVEL"], "metadata");

  setenv("LD_PRELOAD", "/usr/lib/libjemalloc.so", 1);
  auto chained = AsMap(RecorderEnv("/opt/ddrr/lib/libddrr.so", "/runs/a", "payloads"));
  unsetenv("LD_PRELOAD");
  EXPECT_EQ(chained["LD_PRELOAD"], "/opt/ddrr/lib/libddrr.so:/usr/lib/libjemalloc.so");
  EXPECT_EQ(chained["DDRR_LEVEL"], "payloads");
}

TEST(RecorderEnvTest, NamesEachRunAfresh) {
  unsetenv("DDRR_RUN_ID");
  const std::string a = AsMap(RecorderEnv("lib", "out", "metadata"))["DDRR_RUN_ID"];
  const std::string b = AsMap(RecorderEnv("lib", "out", "metadata"))["DDRR_RUN_ID"];
  ASSERT_EQ(a.size(), 16u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos) << a;
  EXPECT_NE(a, b);  // 64 random bits: equal only by a fault
}

TEST(RecorderEnvTest, KeepsAGivenRunIdUnlessAFreshOneIsAsked) {
  setenv("DDRR_RUN_ID", "slurm-4242", 1);
  const std::string given = AsMap(RecorderEnv("lib", "out", "metadata"))["DDRR_RUN_ID"];
  const std::string fresh =
      AsMap(RecorderEnv("lib", "out", "metadata", RunId::kFresh))["DDRR_RUN_ID"];
  unsetenv("DDRR_RUN_ID");
  EXPECT_EQ(given, "slurm-4242");
  EXPECT_EQ(fresh.size(), 16u);
  EXPECT_NE(fresh, "slurm-4242");
}

}  // namespace
}  // namespace ddrr::launch
