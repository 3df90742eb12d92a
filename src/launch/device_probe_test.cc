// ProbeDeviceCount over the host runtime (its count is DDRR_HOST_DEVICES) and CheckRanksFit.
#include "launch/device_probe.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace ddrr::launch {
namespace {

const std::string kHostCudart = std::string(DDRR_HOSTRT_DIR) + "/libcudart.so.13";

TEST(DeviceProbeTest, CountsTheRuntimesDevicesInAChild) {
  setenv("DDRR_HOST_DEVICES", "3", 1);
  StatusOr<int> count = ProbeDeviceCount(kHostCudart);
  unsetenv("DDRR_HOST_DEVICES");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 3);
}

TEST(DeviceProbeTest, AFailingCallIsReportedInTheRuntimesWords) {
  setenv("DDRR_HOST_DEVICES", "0", 1);
  StatusOr<int> count = ProbeDeviceCount(kHostCudart);
  unsetenv("DDRR_HOST_DEVICES");
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(
      count.status().message().find(
          "cudaGetDeviceCount failed: no CUDA-capable device is detected (cudaErrorNoDevice); "
          "no device is visible"),
      std::string::npos)
      << count.status().message();
}

TEST(DeviceProbeTest, AMissingRuntimeIsNamed) {
  StatusOr<int> count = ProbeDeviceCount("/nonexistent/libcudart.so.13");
  ASSERT_FALSE(count.ok());
  EXPECT_NE(
      count.status().message().find("cannot load the CUDA runtime /nonexistent/libcudart.so.13"),
      std::string::npos)
      << count.status().message();
}

TEST(DeviceProbeTest, RanksFitWhenDevicesTimesKCoverThem) {
  EXPECT_TRUE(CheckRanksFit(4, 4, 1).ok());
  EXPECT_TRUE(CheckRanksFit(8, 4, 2).ok());
  EXPECT_TRUE(CheckRanksFit(3, 4, 1).ok());
  Status too_many = CheckRanksFit(5, 4, 1);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.message(),
            "5 ranks at 4 per GPU need 2 devices, but 1 is visible; lower -n, raise "
            "--ranks-per-gpu, or make more devices visible");
  EXPECT_FALSE(CheckRanksFit(1, 4, 0).ok());
}

// Placement on the host runtime, whose device count is DDRR_HOST_DEVICES.
Status PlaceOnHostDevices(const char* devices, int nranks, int ranks_per_gpu) {
  LaunchOptions options;
  options.nranks = nranks;
  options.ranks_per_gpu = ranks_per_gpu;
  options.host_runtime = true;
  options.hostrt_dir = DDRR_HOSTRT_DIR;
  setenv("DDRR_HOST_DEVICES", devices, 1);
  Status placed = CheckPlacement(options);
  unsetenv("DDRR_HOST_DEVICES");
  return placed;
}

TEST(DeviceProbeTest, PlacementChecksTheRanksAgainstTheRuntimesDevices) {
  EXPECT_TRUE(PlaceOnHostDevices("2", 5, 4).ok());
  Status too_few = PlaceOnHostDevices("1", 5, 4);
  EXPECT_EQ(too_few.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(too_few.message(),
            "5 ranks at 4 per GPU need 2 devices, but 1 is visible; lower -n, raise "
            "--ranks-per-gpu, or make more devices visible");
}

TEST(DeviceProbeTest, PlacementWithoutRanksPerGpuIsOneRankPerDevice) {
  EXPECT_TRUE(PlaceOnHostDevices("3", 3, 0).ok());
  EXPECT_EQ(PlaceOnHostDevices("2", 3, 0).code(), StatusCode::kInvalidArgument);
}

TEST(DeviceProbeTest, PlacementFailsUnavailableWhenTheRuntimeCannotCount) {
  Status placed = PlaceOnHostDevices("0", 1, 1);
  EXPECT_EQ(placed.code(), StatusCode::kUnavailable);
  EXPECT_NE(placed.message().find("cudaGetDeviceCount failed"), std::string::npos)
      << placed.message();
}

}  // namespace
}  // namespace ddrr::launch
