// Devices of the host libcudart: count, per-thread selection, properties and attributes.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <thread>

namespace {

int ExpectedDeviceCount() {
  const char* value = getenv("DDRR_HOST_DEVICES");
  return value != nullptr && *value != '\0' ? atoi(value) : 8;
}

TEST(HostRtDeviceTest, CountComesFromEnvironmentOrDefaultsToEight) {
  int count = -1;
  ASSERT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  EXPECT_EQ(count, ExpectedDeviceCount());
}

TEST(HostRtDeviceTest, CurrentDeviceIsPerThread) {
  ASSERT_EQ(cudaSetDevice(3), cudaSuccess);
  int seen_in_thread = -1;
  std::thread([&] {
    cudaGetDevice(&seen_in_thread);
    cudaSetDevice(1);
  }).join();
  EXPECT_EQ(seen_in_thread, 0) << "a new thread starts on device 0";
  int device = -1;
  ASSERT_EQ(cudaGetDevice(&device), cudaSuccess);
  EXPECT_EQ(device, 3) << "another thread's cudaSetDevice does not leak here";
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
}

TEST(HostRtDeviceTest, SetDeviceRejectsOutOfRange) {
  EXPECT_EQ(cudaSetDevice(ExpectedDeviceCount()), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaSetDevice(-1), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
  int device = -1;
  cudaGetDevice(&device);
  EXPECT_EQ(device, 0);
}

TEST(HostRtDeviceTest, PropertiesIdentifyEachDeviceStably) {
  std::set<int> bus_ids;
  std::set<std::string> uuids;
  for (int d = 0; d < ExpectedDeviceCount(); ++d) {
    cudaDeviceProp prop;
    ASSERT_EQ(cudaGetDeviceProperties(&prop, d), cudaSuccess);
    EXPECT_EQ(std::string(prop.name), "ddrr host device " + std::to_string(d));
    bus_ids.insert(prop.pciBusID);
    uuids.insert(std::string(prop.uuid.bytes, sizeof(prop.uuid.bytes)));
    cudaDeviceProp again;
    ASSERT_EQ(cudaGetDeviceProperties(&again, d), cudaSuccess);
    EXPECT_EQ(memcmp(prop.uuid.bytes, again.uuid.bytes, sizeof(prop.uuid.bytes)), 0);
    EXPECT_GT(prop.totalGlobalMem, 0u);
    EXPECT_EQ(prop.warpSize, 32);
  }
  EXPECT_EQ(bus_ids.size(), static_cast<size_t>(ExpectedDeviceCount()));
  EXPECT_EQ(uuids.size(), static_cast<size_t>(ExpectedDeviceCount()));
  cudaDeviceProp prop;
  EXPECT_EQ(cudaGetDeviceProperties(&prop, ExpectedDeviceCount()), cudaErrorInvalidDevice);
  cudaGetLastError();
}

TEST(HostRtDeviceTest, PciBusIdRoundTrips) {
  char bus_id[32];
  ASSERT_EQ(cudaDeviceGetPCIBusId(bus_id, sizeof(bus_id), 2), cudaSuccess);
  EXPECT_STREQ(bus_id, "0000:03:00.0");
  int device = -1;
  ASSERT_EQ(cudaDeviceGetByPCIBusId(&device, bus_id), cudaSuccess);
  EXPECT_EQ(device, 2);
  cudaDeviceProp prop;
  ASSERT_EQ(cudaGetDeviceProperties(&prop, 2), cudaSuccess);
  EXPECT_EQ(prop.pciBusID, 3);
}

TEST(HostRtDeviceTest, AttributesAgreeWithProperties) {
  cudaDeviceProp prop;
  ASSERT_EQ(cudaGetDeviceProperties(&prop, 1), cudaSuccess);
  int value = -1;
  ASSERT_EQ(cudaDeviceGetAttribute(&value, cudaDevAttrComputeCapabilityMajor, 1), cudaSuccess);
  EXPECT_EQ(value, prop.major);
  ASSERT_EQ(cudaDeviceGetAttribute(&value, cudaDevAttrMultiProcessorCount, 1), cudaSuccess);
  EXPECT_EQ(value, prop.multiProcessorCount);
  ASSERT_EQ(cudaDeviceGetAttribute(&value, cudaDevAttrPciBusId, 1), cudaSuccess);
  EXPECT_EQ(value, prop.pciBusID);
  ASSERT_EQ(cudaDeviceGetAttribute(&value, cudaDevAttrUnifiedAddressing, 1), cudaSuccess);
  EXPECT_EQ(value, 1);
  EXPECT_EQ(cudaDeviceGetAttribute(&value, static_cast<cudaDeviceAttr>(100000), 1),
            cudaErrorInvalidValue);
  cudaGetLastError();
}

TEST(HostRtDeviceTest, VersionsAndSynchronisation) {
  int version = 0;
  ASSERT_EQ(cudaRuntimeGetVersion(&version), cudaSuccess);
  EXPECT_EQ(version, 13000);
  ASSERT_EQ(cudaDriverGetVersion(&version), cudaSuccess);
  EXPECT_EQ(version, 13000);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  int can_access = 0;
  ASSERT_EQ(cudaDeviceCanAccessPeer(&can_access, 0, 1), cudaSuccess);
  EXPECT_EQ(can_access, 1);
}

TEST(HostRtDeviceTest, ResetReleasesTheCurrentDevicesMemory) {
  ASSERT_EQ(cudaSetDevice(4), cudaSuccess);
  void* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, 64), cudaSuccess);
  ASSERT_EQ(cudaDeviceReset(), cudaSuccess);
  EXPECT_EQ(cudaFree(p), cudaErrorInvalidValue);
  cudaGetLastError();
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
}

}  // namespace
