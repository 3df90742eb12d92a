// The virtual-to-real device mapping, bus ids and uuids of libddrr_gpushare.so.
#include "gpushare/device_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

namespace ddrr::gpushare {
namespace {

TEST(RanksPerGpuTest, ParsesPositiveCounts) {
  EXPECT_EQ(ParseRanksPerGpu("1").value(), 1);
  EXPECT_EQ(ParseRanksPerGpu("4").value(), 4);
  EXPECT_EQ(ParseRanksPerGpu("1024").value(), 1024);
}

TEST(RanksPerGpuTest, RejectsEverythingElse) {
  for (const char* bad : {"0", "-1", "x", "", "4x", " 4", "+4", "1025", "99999999999999999999"}) {
    StatusOr<int> k = ParseRanksPerGpu(bad);
    ASSERT_FALSE(k.ok()) << bad;
    EXPECT_NE(k.status().message().find(std::string("DDRR_RANKS_PER_GPU=") + bad + " is not"),
              std::string::npos)
        << k.status().message();
  }
  EXPECT_NE(ParseRanksPerGpu(nullptr).status().message().find("(unset)"), std::string::npos);
}

TEST(DeviceMapTest, VirtualDevicesFillEachGpuInTurn) {
  DeviceMap map(4);
  EXPECT_EQ(map.VirtualCount(2), 8);
  const int want_real[] = {0, 0, 0, 0, 1, 1, 1, 1};
  for (int v = 0; v < 8; ++v) {
    EXPECT_EQ(map.RealOf(v), want_real[v]) << v;
    EXPECT_EQ(map.SlotOf(v), v % 4) << v;
    EXPECT_EQ(map.VirtualOf(map.RealOf(v), map.SlotOf(v)), v);
  }
}

TEST(DeviceMapTest, InvalidOrdinalsStayInvalid) {
  DeviceMap map(4);
  EXPECT_EQ(map.RealOf(-1), -1);  // not 0: -1 / 4 would name a real device
  EXPECT_EQ(map.RealOf(-7), -7);
  EXPECT_EQ(map.SlotOf(-1), 0);
  EXPECT_EQ(map.RealOf(8), 2) << "past the last of 2 GPUs: the runtime rejects it";
}

TEST(DeviceMapTest, OneRankPerGpuIsTheIdentity) {
  DeviceMap map(1);
  for (int v = -2; v < 10; ++v) {
    EXPECT_EQ(map.RealOf(v), v);
    EXPECT_EQ(map.VirtualFor(v, 3), v);
  }
  EXPECT_EQ(map.VirtualCount(3), 3);
}

TEST(DeviceMapTest, ReportedRealDevicesReadAsTheCallersSlot) {
  DeviceMap map(4);
  EXPECT_EQ(map.VirtualFor(1, 6), 6) << "current device 6 lives on GPU 1";
  EXPECT_EQ(map.VirtualFor(1, 2), 4) << "current device is on GPU 0: GPU 1's slot 0";
  EXPECT_EQ(map.VirtualFor(0, -1), 0) << "no device set yet";
  EXPECT_EQ(map.VirtualFor(-2, 5), -2) << "host memory's -2 stays";
}

TEST(BusIdTest, SlotZeroKeepsTheRealId) { EXPECT_EQ(VirtualBusId("0000:3b:00.0", 0), "0000:3b:00.0"); }

TEST(BusIdTest, OtherSlotsRaiseTheDomain) {
  EXPECT_EQ(VirtualBusId("0000:3b:00.0", 1), "10000:3b:00.0");
  EXPECT_EQ(VirtualBusId("0000:3B:00.0", 3), "30000:3B:00.0") << "the rest is kept verbatim";
  EXPECT_EQ(VirtualBusId("0001:c1:00.0", 15), "f0001:c1:00.0");
  EXPECT_EQ(VirtualBusId("00000000:3b:00.0", 2), "20000:3b:00.0") << "NVML's 8-digit domain";
  EXPECT_EQ(VirtualBusId("0000:3b:00.0", 1023), "3ff0000:3b:00.0");
}

TEST(BusIdTest, UnparseableIdsAreLeftAlone) {
  for (const char* odd : {"", "3b:00.0", "garbage", "zz:3b:00.0", ":3b:00.0", "-1:3b:00.0"}) {
    EXPECT_EQ(VirtualBusId(odd, 2), odd);
    SplitBusId split = SplitVirtualBusId(odd);
    EXPECT_EQ(split.real_id, odd);
    EXPECT_EQ(split.slot, 0);
  }
}

TEST(BusIdTest, SplitInvertsEverySlotOfEveryGpu) {
  const char* real_ids[] = {"0000:01:00.0", "0000:3b:00.0", "0000:3c:00.0", "0001:01:00.0",
                            "ffff:ff:1f.7"};
  std::set<std::string> seen;
  for (const char* real : real_ids) {
    for (int slot = 0; slot < 64; ++slot) {
      std::string id = VirtualBusId(real, slot);
      EXPECT_TRUE(seen.insert(id).second) << "duplicate " << id;
      SplitBusId split = SplitVirtualBusId(id);
      EXPECT_EQ(split.real_id, real) << id;
      EXPECT_EQ(split.slot, slot) << id;
    }
  }
}

TEST(BusIdTest, DomainAttributeMatchesTheId) {
  EXPECT_EQ(VirtualPciDomain(0, 0), 0);
  EXPECT_EQ(VirtualPciDomain(0, 2), 0x20000);
  EXPECT_EQ(VirtualPciDomain(1, 15), 0xf0001);
}

TEST(UuidTest, SlotsGetDistinctUuidsAndSlotZeroKeepsItsOwn) {
  char real[16];
  for (int i = 0; i < 16; ++i) real[i] = static_cast<char>(0x10 + i);
  std::set<std::string> seen;
  for (int slot = 0; slot < 1024; ++slot) {
    char bytes[16];
    std::copy(real, real + 16, bytes);
    ApplySlotToUuid(bytes, slot);
    if (slot == 0) {
      EXPECT_EQ(std::string(bytes, 16), std::string(real, 16));
    }
    EXPECT_TRUE(seen.insert(std::string(bytes, 16)).second) << slot;
    EXPECT_EQ(std::string(bytes, 14), std::string(real, 14)) << "only the last two bytes change";
  }
}

}  // namespace
}  // namespace ddrr::gpushare
