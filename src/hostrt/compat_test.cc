// Binary compatibility of the host runtime with programs built against NVIDIA's toolkit.
// Builds nothing: runs probes linked against the real libraries with our directory first on
// LD_LIBRARY_PATH, and checks our exports against the real libraries' export lists.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout, or stdout and stderr with merge_stderr
};

CommandResult RunShell(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string WithLibraryPath(const std::string& dir, const std::string& command) {
  return "env LD_LIBRARY_PATH='" + dir + "' DDRR_HOST_DEVICES=4 " + command;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

TEST(HostRtCompatTest, ProgramBuiltAgainstTheRealToolkitRunsOnTheHostRuntime) {
  CommandResult ldd =
      RunShell(WithLibraryPath(DDRR_HOSTRT_DIR, std::string("ldd ") + DDRR_COMPAT_PROBE));
  EXPECT_NE(ldd.output.find(std::string("libcudart.so.13 => ") + DDRR_HOSTRT_DIR),
            std::string::npos)
      << ldd.output;
  EXPECT_NE(ldd.output.find(std::string("libcurand.so.10 => ") + DDRR_HOSTRT_DIR),
            std::string::npos)
      << ldd.output;

  CommandResult run = RunShell(WithLibraryPath(DDRR_HOSTRT_DIR, DDRR_COMPAT_PROBE));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find(std::string("cudart ") + DDRR_HOSTRT_DIR), std::string::npos);
  EXPECT_NE(run.output.find("devices 4\n"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("name ddrr host device 3\n"), std::string::npos);
  EXPECT_NE(run.output.find("copy ok\n"), std::string::npos);
  EXPECT_NE(run.output.find("attributes type 2 device 3\n"), std::string::npos);
  EXPECT_NE(run.output.find("curand 0 ok\n"), std::string::npos);
  EXPECT_NE(run.output.find("EXIT-SUCCESS"), std::string::npos);
}

TEST(HostRtCompatTest, ErrorTextsEqualTheRealRuntimes) {
  // NVIDIA's cudaGetErrorName/String work without a driver, so both can run here.
  CommandResult real =
      RunShell(WithLibraryPath(DDRR_REAL_CUDA_LIB_DIR, std::string(DDRR_COMPAT_PROBE) + " errors"));
  CommandResult ours =
      RunShell(WithLibraryPath(DDRR_HOSTRT_DIR, std::string(DDRR_COMPAT_PROBE) + " errors"));
  ASSERT_EQ(real.exit_code, 0);
  ASSERT_EQ(ours.exit_code, 0);
  ASSERT_GT(real.output.size(), 1000u);
  EXPECT_EQ(ours.output, real.output);
}

TEST(HostRtCompatTest, NvccProgramWithAKernelLoadsAndItsLaunchFailsClearly) {
  if (std::string(DDRR_KERNEL_PROBE).empty()) GTEST_SKIP() << "no nvcc at configure time";
  CommandResult run =
      RunShell(WithLibraryPath(DDRR_HOSTRT_DIR, std::string(DDRR_KERNEL_PROBE) + " 2>&1"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("malloc cudaSuccess"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("symbol cudaSuccess 7"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("ddrr WARN host runtime: kernel launches need a GPU; launching "
                            "_Z9AddOffsetPi"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("launch 209 cudaErrorNoKernelImageForDevice: no kernel image is "
                            "available for execution on the device"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("sync cudaSuccess"), std::string::npos);
}

// Every symbol NVIDIA's library exports, under the same version node.
void ExpectExportsEverything(const std::string& library, const std::string& version,
                             const std::string& list) {
  void* handle =
      dlopen((std::string(DDRR_HOSTRT_DIR) + "/" + library).c_str(), RTLD_LOCAL | RTLD_NOW);
  ASSERT_NE(handle, nullptr) << dlerror();
  std::vector<std::string> names = ReadLines(std::string(DDRR_HOSTRT_TESTDATA) + "/" + list);
  ASSERT_GT(names.size(), 20u);
  for (const std::string& name : names) {
    EXPECT_NE(dlvsym(handle, name.c_str(), version.c_str()), nullptr) << name;
  }
  EXPECT_EQ(dlsym(handle, "_ZN4ddrr6hostrt6FinishE9cudaError"), nullptr) << "internals are local";
  dlclose(handle);
}

TEST(HostRtCompatTest, CudartExportsEveryRealEntryPoint) {
  ExpectExportsEverything("libcudart.so.13", "libcudart.so.13", "cudart_exports.txt");
}

TEST(HostRtCompatTest, CurandExportsEveryRealEntryPoint) {
  ExpectExportsEverything("libcurand.so.10", "libcurand.so.10", "curand_exports.txt");
}

}  // namespace
