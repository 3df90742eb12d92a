// The lookups of installed files: the environment variable first, else beside the executable.
#include "launch/installed.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace ddrr::launch {
namespace {

namespace fs = std::filesystem;

struct Lookup {
  StatusOr<std::string> (*find)(const char*);
  const char* variable;
  const char* must_hold;  // inside the directory the variable names; empty: the variable names it
};

const Lookup kLookups[] = {
    {FindHostRuntimeDir, "DDRR_HOSTRT_DIR", "libcudart.so.13"},
    {FindEmuNcclDir, "DDRR_EMU_DIR", "libnccl.so.2"},
    {FindGpushareLibrary, "DDRR_GPUSHARE_LIB", ""},
    {FindRecorderLibrary, "DDRR_LIB", ""},
    {FindReplayDriver, "DDRR_REPLAY_DRIVER", ""},
};

std::string ExeDir() { return fs::read_symlink("/proc/self/exe").parent_path().string(); }

// Where a lookup says it looked: the installed layout's path, then the build tree's if it differs
// (both from the executable's directory).
std::string Looked(const std::string& installed, const std::string& built) {
  const std::string from_installed = ExeDir() + "/" + installed;
  const std::string from_built = ExeDir() + "/" + built;
  return from_installed == from_built ? from_built : from_installed + " or " + from_built;
}

class InstalledTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/ddrr_installed_testXXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
  }
  void TearDown() override {
    for (const Lookup& lookup : kLookups) unsetenv(lookup.variable);
    fs::remove_all(dir_);
  }
  std::string dir_;
};

TEST_F(InstalledTest, TheVariableNamesWhereEachFileIs) {
  for (const Lookup& lookup : kLookups) {
    SCOPED_TRACE(lookup.variable);
    const bool names_a_dir = *lookup.must_hold != '\0';
    const std::string named = names_a_dir ? dir_ : dir_ + "/file";
    setenv(lookup.variable, named.c_str(), 1);
    StatusOr<std::string> missing = lookup.find("ddrr");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(missing.status().message().rfind(std::string(lookup.variable) + "=" + named, 0), 0u)
        << missing.status().message();

    std::ofstream(names_a_dir ? dir_ + "/" + lookup.must_hold : named) << "";
    StatusOr<std::string> found = lookup.find("ddrr");
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    EXPECT_EQ(*found, named);
    fs::remove_all(dir_);
    fs::create_directory(dir_);
  }
}

TEST_F(InstalledTest, AnEmptyVariableIsUnset) {
  setenv("DDRR_LIB", "", 1);
  StatusOr<std::string> found = FindRecorderLibrary("ddrr");
  ASSERT_FALSE(found.ok());
  EXPECT_NE(found.status().message().find("; set DDRR_LIB"), std::string::npos)
      << found.status().message();
}

// The test binary's directory holds no ../lib/libddrr.so; the message names where it looked.
TEST_F(InstalledTest, TheRecorderIsLookedForInTheLibDirBesideTheExecutable) {
  unsetenv("DDRR_LIB");
  StatusOr<std::string> found = FindRecorderLibrary("ddrr");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(found.status().message(),
            "no libddrr.so in " +
                Looked(DDRR_INSTALL_LIB_FROM_BIN "/libddrr.so", "../lib/libddrr.so") +
                "; set DDRR_LIB");
}

// An installed ddrr has the host runtime in <lib>/ddrr/hostrt, a built one in ../lib/hostrt
// (both from the executable's directory); the installed layout wins when both are there.
TEST_F(InstalledTest, TheHostRuntimeIsLookedForInTheInstalledThenTheBuiltLayout) {
  unsetenv("DDRR_HOSTRT_DIR");
  const std::string exe_dir = ExeDir();
  const std::string installed = exe_dir + "/" + DDRR_INSTALL_PRIVATE_LIB_FROM_BIN + "/hostrt";
  const std::string built = exe_dir + "/../lib/hostrt";
  const fs::path lib_dir = fs::path(exe_dir).parent_path() / "lib";
  ASSERT_FALSE(fs::exists(lib_dir)) << lib_dir;  // both layouts would live under it
  StatusOr<std::string> absent = FindHostRuntimeDir("ddrr");
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.status().message(),
            "no host runtime (libcudart.so.13) in " +
                Looked(DDRR_INSTALL_PRIVATE_LIB_FROM_BIN "/hostrt", "../lib/hostrt") +
                "; set DDRR_HOSTRT_DIR");

  fs::create_directories(built);
  std::ofstream(built + "/libcudart.so.13") << "";
  StatusOr<std::string> found_built = FindHostRuntimeDir("ddrr");
  fs::create_directories(installed);
  std::ofstream(installed + "/libcudart.so.13") << "";
  StatusOr<std::string> found_installed = FindHostRuntimeDir("ddrr");
  const std::string canonical_built = fs::canonical(built).string();
  const std::string canonical_installed = fs::canonical(installed).string();
  fs::remove_all(lib_dir);
  ASSERT_TRUE(found_built.ok()) << found_built.status().ToString();
  EXPECT_EQ(*found_built, canonical_built);
  ASSERT_TRUE(found_installed.ok()) << found_installed.status().ToString();
  EXPECT_EQ(*found_installed, canonical_installed);
}

TEST_F(InstalledTest, TheReplayDriverIsLookedForBesideTheExecutable) {
  unsetenv("DDRR_REPLAY_DRIVER");
  const std::string beside = ExeDir() + "/ddrr-replay-rank";
  ASSERT_FALSE(fs::exists(beside));
  StatusOr<std::string> absent = FindReplayDriver("ddrr");
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(
      absent.status().message(),
      "no ddrr-replay-rank in " +
          Looked(DDRR_INSTALL_PRIVATE_LIBEXEC_FROM_BIN "/ddrr-replay-rank", "ddrr-replay-rank") +
          "; set DDRR_REPLAY_DRIVER");

  std::ofstream(beside) << "";
  StatusOr<std::string> found = FindReplayDriver("ddrr");
  fs::remove(beside);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, beside);
}

}  // namespace
}  // namespace ddrr::launch
