// ProbeDeviceCount over the host runtime (its count is DDRR_HOST_DEVICES) and CheckRanksFit.
#include "launch/device_probe.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace ddrr::launch {
namespace {

const std::string kHostCudart = std::string(DDRR_HOSTRT_DIR) + "/libcudart.so.13";

TEST(DeviceProbe, CountsTheRuntimesDevicesInAChild) {
  setenv("DDRR_HOST_DEVICES", "3", 1);
  StatusOr<int> count = ProbeDeviceCount(kHostCudart);
  unsetenv("DDRR_HOST_DEVICES");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 3);
}

TEST(DeviceProbe, AFailingCallIsReportedInTheRuntimesWords) {
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

TEST(DeviceProbe, AMissingRuntimeIsNamed) {
  StatusOr<int> count = ProbeDeviceCount("/nonexistent/libcudart.so.13");
  ASSERT_FALSE(count.ok());
  EXPECT_NE(
      count.status().message().find("cannot load the CUDA runtime /nonexistent/libcudart.so.13"),
      std::string::npos)
      << count.status().message();
}

TEST(DeviceProbe, RanksFitWhenDevicesTimesKCoverThem) {
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

}  // namespace
}  // namespace ddrr::launch
