// libddrr_gpushare.so over ddrr's host runtime, linked ahead of it: 2 host devices shared by 4
// ranks each show as 8 virtual devices. The host runtime checks every ordinal it is given, so a
// virtual ordinal that reached it unmapped (4..7) fails there.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <thread>

namespace {

// Both libraries read their variable once, at their first call: set them before any test runs.
const bool kEnvironmentSet = [] {
  setenv("DDRR_RANKS_PER_GPU", "4", 1);
  setenv("DDRR_HOST_DEVICES", "2", 1);
  return true;
}();

constexpr int kVirtualDevices = 8;

std::string BusId(int device) {
  char id[32] = {0};
  EXPECT_EQ(cudaDeviceGetPCIBusId(id, sizeof(id), device), cudaSuccess) << device;
  return id;
}

TEST(GpuShareShimTest, CountIsRealCountTimesRanksPerGpu) {
  int count = 0;
  ASSERT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  EXPECT_EQ(count, kVirtualDevices);
}

TEST(GpuShareShimTest, CurrentDeviceIsTheVirtualOneSetPerThread) {
  ASSERT_EQ(cudaSetDevice(5), cudaSuccess);
  int device = -1;
  ASSERT_EQ(cudaGetDevice(&device), cudaSuccess);
  EXPECT_EQ(device, 5);
  std::thread other([] {
    int d = -1;
    ASSERT_EQ(cudaGetDevice(&d), cudaSuccess);
    EXPECT_EQ(d, 0) << "a new thread starts on device 0";
    ASSERT_EQ(cudaSetDevice(3), cudaSuccess);
    ASSERT_EQ(cudaGetDevice(&d), cudaSuccess);
    EXPECT_EQ(d, 3);
  });
  other.join();
  ASSERT_EQ(cudaGetDevice(&device), cudaSuccess);
  EXPECT_EQ(device, 5) << "another thread's choice leaked";
  ASSERT_EQ(cudaSetDevice(7), cudaSuccess);
  ASSERT_EQ(cudaGetDevice(&device), cudaSuccess);
  EXPECT_EQ(device, 7);
}

TEST(GpuShareShimTest, OrdinalsOutOfRangeFailInTheRuntime) {
  ASSERT_EQ(cudaSetDevice(2), cudaSuccess);
  for (int bad : {kVirtualDevices, -1, 1000}) {
    EXPECT_EQ(cudaSetDevice(bad), cudaErrorInvalidDevice) << bad;
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidDevice) << "the runtime's own last error";
    EXPECT_EQ(cudaInitDevice(bad, 0, 0), cudaErrorInvalidDevice) << bad;
  }
  cudaGetLastError();
  int device = -1;
  ASSERT_EQ(cudaGetDevice(&device), cudaSuccess);
  EXPECT_EQ(device, 2) << "a failed set changed the current device";
  EXPECT_EQ(cudaInitDevice(kVirtualDevices - 1, 0, 0), cudaSuccess);
}

TEST(GpuShareShimTest, EveryVirtualDeviceHasItsOwnBusIdAndTheInverseFindsIt) {
  std::set<std::string> ids;
  for (int v = 0; v < kVirtualDevices; ++v) {
    std::string id = BusId(v);
    EXPECT_TRUE(ids.insert(id).second) << "device " << v << " shares bus id " << id;
    int found = -1;
    ASSERT_EQ(cudaDeviceGetByPCIBusId(&found, id.c_str()), cudaSuccess) << id;
    EXPECT_EQ(found, v) << id;
  }
  // The host runtime numbers its buses from 1: slot 0 is the real id, slot s adds s * 0x10000
  // to the domain.
  EXPECT_EQ(BusId(0), "0000:01:00.0");
  EXPECT_EQ(BusId(3), "30000:01:00.0");
  EXPECT_EQ(BusId(4), "0000:02:00.0");
  EXPECT_EQ(BusId(6), "20000:02:00.0");
  int found = -1;
  EXPECT_EQ(cudaDeviceGetByPCIBusId(&found, "40000:01:00.0"), cudaErrorInvalidDevice)
      << "slot 4 does not exist at 4 ranks per GPU";
  EXPECT_EQ(cudaDeviceGetPCIBusId(nullptr, 32, 1), cudaErrorInvalidValue);
  char id[32];
  EXPECT_EQ(cudaDeviceGetPCIBusId(id, sizeof(id), kVirtualDevices), cudaErrorInvalidDevice);
  cudaGetLastError();
}

TEST(GpuShareShimTest, PropertiesAreTheGpusWithTheSlotsIdentity) {
  std::set<std::string> uuids;
  for (int v = 0; v < kVirtualDevices; ++v) {
    cudaDeviceProp prop;
    ASSERT_EQ(cudaGetDeviceProperties(&prop, v), cudaSuccess) << v;
    EXPECT_STREQ(prop.name, v < 4 ? "ddrr host device 0" : "ddrr host device 1");
    EXPECT_EQ(prop.pciBusID, v < 4 ? 1 : 2);
    EXPECT_EQ(prop.pciDomainID, (v % 4) * 0x10000);
    EXPECT_TRUE(uuids.insert(std::string(prop.uuid.bytes, 16)).second) << v;
    int domain = -1, bus = -1;
    ASSERT_EQ(cudaDeviceGetAttribute(&domain, cudaDevAttrPciDomainId, v), cudaSuccess);
    ASSERT_EQ(cudaDeviceGetAttribute(&bus, cudaDevAttrPciBusId, v), cudaSuccess);
    EXPECT_EQ(domain, prop.pciDomainID);
    EXPECT_EQ(bus, prop.pciBusID);
  }
  cudaDeviceProp prop;
  EXPECT_EQ(cudaGetDeviceProperties(&prop, kVirtualDevices), cudaErrorInvalidDevice);
  cudaGetLastError();
}

TEST(GpuShareShimTest, PeersOnOneGpuAlwaysHaveAccess) {
  int can = -1;
  ASSERT_EQ(cudaDeviceCanAccessPeer(&can, 0, 3), cudaSuccess);
  EXPECT_EQ(can, 1);
  ASSERT_EQ(cudaDeviceCanAccessPeer(&can, 2, 2), cudaSuccess);
  EXPECT_EQ(can, 0) << "a device is not its own peer";
  ASSERT_EQ(cudaDeviceCanAccessPeer(&can, 1, 6), cudaSuccess);
  EXPECT_EQ(can, 1) << "the host runtime's answer for devices 0 and 1";
  EXPECT_EQ(cudaDeviceCanAccessPeer(&can, 1, kVirtualDevices), cudaErrorInvalidDevice);
  cudaGetLastError();

  ASSERT_EQ(cudaSetDevice(1), cudaSuccess);
  EXPECT_EQ(cudaDeviceEnablePeerAccess(2, 0), cudaSuccess);
  EXPECT_EQ(cudaDeviceEnablePeerAccess(2, 0), cudaSuccess) << "a no-op on one GPU";
  EXPECT_EQ(cudaDeviceDisablePeerAccess(2), cudaSuccess);
  EXPECT_EQ(cudaDeviceEnablePeerAccess(5, 0), cudaSuccess) << "device 5 is the runtime's 1";
  EXPECT_EQ(cudaDeviceDisablePeerAccess(5), cudaSuccess);
  EXPECT_EQ(cudaDeviceEnablePeerAccess(kVirtualDevices, 0), cudaErrorInvalidDevice);
  cudaGetLastError();

  int value = -1;
  ASSERT_EQ(cudaDeviceGetP2PAttribute(&value, cudaDevP2PAttrAccessSupported, 4, 7), cudaSuccess);
  EXPECT_EQ(value, 1);
  ASSERT_EQ(cudaDeviceGetP2PAttribute(&value, cudaDevP2PAttrPerformanceRank, 4, 7), cudaSuccess);
  EXPECT_EQ(value, 0);
  // Different GPUs: forwarded, and the host runtime does not model P2P attributes.
  EXPECT_EQ(cudaDeviceGetP2PAttribute(&value, cudaDevP2PAttrAccessSupported, 0, 4),
            cudaErrorNotSupported);
  cudaGetLastError();
}

TEST(GpuShareShimTest, PeerCopiesMapBothDevices) {
  int* a = nullptr;
  int* b = nullptr;
  ASSERT_EQ(cudaSetDevice(2), cudaSuccess);
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&a), sizeof(int)), cudaSuccess);
  ASSERT_EQ(cudaSetDevice(7), cudaSuccess);
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&b), sizeof(int)), cudaSuccess);
  const int value = 42;
  ASSERT_EQ(cudaMemcpy(a, &value, sizeof(int), cudaMemcpyHostToDevice), cudaSuccess);
  ASSERT_EQ(cudaMemcpyPeer(b, 7, a, 2, sizeof(int)), cudaSuccess);
  ASSERT_EQ(cudaMemcpyPeerAsync(a, 3, b, 6, sizeof(int), nullptr), cudaSuccess);
  int back = 0;
  ASSERT_EQ(cudaMemcpy(&back, a, sizeof(int), cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(back, 42);
  EXPECT_EQ(cudaMemcpyPeer(b, kVirtualDevices, a, 2, sizeof(int)), cudaErrorInvalidDevice);
  cudaGetLastError();
  cudaFree(a);
  cudaFree(b);
}

TEST(GpuShareShimTest, AllocationsReadAsTheCallersSlotOfTheirGpu) {
  void* p = nullptr;
  ASSERT_EQ(cudaSetDevice(6), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&p, 64), cudaSuccess);
  cudaPointerAttributes attributes;
  ASSERT_EQ(cudaPointerGetAttributes(&attributes, p), cudaSuccess);
  EXPECT_EQ(attributes.device, 6);
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  ASSERT_EQ(cudaPointerGetAttributes(&attributes, p), cudaSuccess);
  EXPECT_EQ(attributes.device, 4) << "from GPU 0, GPU 1's memory reads as its slot 0";
  int host = 0;
  ASSERT_EQ(cudaPointerGetAttributes(&attributes, &host), cudaSuccess);
  EXPECT_EQ(attributes.device, -2) << "unregistered host memory";
  cudaFree(p);
}

TEST(GpuShareShimTest, ChooseDeviceAnswersAVirtualOrdinal) {
  cudaDeviceProp want;
  memset(&want, 0, sizeof(want));
  int device = -1;
  ASSERT_EQ(cudaChooseDevice(&device, &want), cudaSuccess);
  EXPECT_EQ(device, 0);
}

}  // namespace
