// The NCCL C API of the emu-backed libnccl.so.2, over a memcpy CUDA runtime stand-in.
#include <gtest/gtest.h>
#include <nccl.h>

#include <cstddef>
#include <cstdint>
using std::size_t;  // nccl_device/utility.h uses size_t unqualified
#include <nccl_device.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

TEST(EmuFacadeTest, VersionErrorStringsAndAliases) {
  int v = 0;
  ASSERT_EQ(ncclGetVersion(&v), ncclSuccess);
  EXPECT_EQ(v, 22809);
  EXPECT_STREQ(ncclGetErrorString(ncclInvalidUsage),
               "invalid usage (run with NCCL_DEBUG=WARN for details)");
  EXPECT_STREQ(ncclGetErrorString(ncclRemoteError),
               "remote process exited or there was a network error");
  EXPECT_EQ(reinterpret_cast<void*>(&ncclAllReduce) == nullptr, false);
  int pv = 0;
  ASSERT_EQ(pncclGetVersion(&pv), ncclSuccess);
  EXPECT_EQ(pv, v);
}

TEST(EmuFacadeTest, SingleThreadDrivesAllRanksInAGroup) {
  const int n = 3;
  ncclComm_t comms[n];
  int devs[n] = {0, 1, 2};
  ASSERT_EQ(ncclCommInitAll(comms, n, devs), ncclSuccess);
  std::vector<std::vector<float>> buf(n, std::vector<float>(1000));
  for (int r = 0; r < n; ++r)
    for (int i = 0; i < 1000; ++i) buf[r][i] = static_cast<float>(r + i);
  ASSERT_EQ(ncclGroupStart(), ncclSuccess);
  for (int r = 0; r < n; ++r) {
    ASSERT_EQ(
        ncclAllReduce(buf[r].data(), buf[r].data(), 1000, ncclFloat, ncclSum, comms[r], nullptr),
        ncclSuccess);
  }
  ASSERT_EQ(ncclGroupEnd(), ncclSuccess);
  for (int r = 0; r < n; ++r) EXPECT_EQ(buf[r][10], 3.0f * 10 + 3);
  int count = 0, rank = 0, dev = -1;
  ASSERT_EQ(ncclCommCount(comms[1], &count), ncclSuccess);
  ASSERT_EQ(ncclCommUserRank(comms[1], &rank), ncclSuccess);
  ASSERT_EQ(ncclCommCuDevice(comms[2], &dev), ncclSuccess);
  EXPECT_EQ(count, 3);
  EXPECT_EQ(rank, 1);
  EXPECT_EQ(dev, 2);

  // PreMulSum with a device-resident scalar, read through the memory seam at each use.
  std::vector<double> scalar(n);
  std::vector<ncclRedOp_t> ops(n);
  std::vector<double> x(n);
  for (int r = 0; r < n; ++r) {
    scalar[r] = r + 1;
    x[r] = 10;
    ASSERT_EQ(
        ncclRedOpCreatePreMulSum(&ops[r], &scalar[r], ncclFloat64, ncclScalarDevice, comms[r]),
        ncclSuccess);
  }
  ASSERT_EQ(ncclGroupStart(), ncclSuccess);
  for (int r = 0; r < n; ++r)
    ASSERT_EQ(ncclAllReduce(&x[r], &x[r], 1, ncclFloat64, ops[r], comms[r], nullptr), ncclSuccess);
  ASSERT_EQ(ncclGroupEnd(), ncclSuccess);
  EXPECT_EQ(x[0], 60.0);
  for (int r = 0; r < n; ++r) ASSERT_EQ(ncclRedOpDestroy(ops[r], comms[r]), ncclSuccess);

  // Split with NOCOLOR on rank 2.
  ncclComm_t kids[n];
  ASSERT_EQ(ncclGroupStart(), ncclSuccess);
  for (int r = 0; r < n; ++r)
    ASSERT_EQ(ncclCommSplit(comms[r], r == 2 ? NCCL_SPLIT_NOCOLOR : 0, r, &kids[r], nullptr),
              ncclSuccess);
  ASSERT_EQ(ncclGroupEnd(), ncclSuccess);
  EXPECT_EQ(kids[2], nullptr);
  ASSERT_EQ(ncclCommCount(kids[0], &count), ncclSuccess);
  EXPECT_EQ(count, 2);

  // Registration is bookkeeping.
  void* handle = nullptr;
  ASSERT_EQ(ncclCommRegister(comms[0], buf[0].data(), 4000, &handle), ncclSuccess);
  ASSERT_EQ(ncclCommDeregister(comms[0], handle), ncclSuccess);
  EXPECT_EQ(ncclCommDeregister(comms[0], handle), ncclInvalidArgument);
  ncclWindow_t win = nullptr;
  ASSERT_EQ(ncclCommWindowRegister(comms[0], buf[0].data(), 4000, &win, NCCL_WIN_DEFAULT),
            ncclSuccess);
  ASSERT_EQ(ncclCommWindowDeregister(comms[0], win), ncclSuccess);

  ncclResult_t async = ncclInternalError;
  ASSERT_EQ(ncclCommGetAsyncError(comms[0], &async), ncclSuccess);
  EXPECT_EQ(async, ncclSuccess);
  for (int r = 0; r < 2; ++r) ASSERT_EQ(ncclCommDestroy(kids[r]), ncclSuccess);
  for (int r = 0; r < n; ++r) {
    ASSERT_EQ(ncclCommFinalize(comms[r]), ncclSuccess);
    ASSERT_EQ(ncclCommDestroy(comms[r]), ncclSuccess);
  }
}

TEST(EmuFacadeTest, MisuseAndUnsupported) {
  EXPECT_EQ(ncclAllReduce(nullptr, nullptr, 1, ncclFloat, ncclSum, nullptr, nullptr),
            ncclInvalidArgument);
  EXPECT_NE(std::string(ncclGetLastError(nullptr)).find("comm argument is NULL"),
            std::string::npos);
  EXPECT_EQ(ncclGroupEnd(), ncclInvalidUsage);
  ncclUniqueId id;
  ASSERT_EQ(ncclGetUniqueId(&id), ncclSuccess);
  ncclConfig_t config;  // not made with NCCL_CONFIG_INITIALIZER
  std::memset(&config, 0, sizeof(config));
  ncclComm_t comm = nullptr;
  EXPECT_EQ(ncclCommInitRankConfig(&comm, 1, id, 0, &config), ncclInvalidArgument);
  ncclConfig_t good = NCCL_CONFIG_INITIALIZER;
  good.blocking = 0;
  good.commName = "facade-test";
  ASSERT_EQ(ncclCommInitRankConfig(&comm, 1, id, 0, &good), ncclSuccess);
  ncclDevComm_t dev;
  EXPECT_EQ(ncclDevCommCreate(comm, nullptr, &dev), ncclInvalidUsage);
  EXPECT_NE(std::string(ncclGetLastError(comm)).find("device API"), std::string::npos);
  ncclTeam_t world = ncclTeamWorld(comm);
  EXPECT_EQ(world.nRanks, 1);
  ncclSimInfo_t sim = NCCL_SIM_INFO_INITIALIZER;
  sim.estimatedTime = -1.0f;  // emu must overwrite it: shared-memory copies are estimated at 0
  ASSERT_EQ(ncclGroupStart(), ncclSuccess);
  ASSERT_EQ(ncclGroupSimulateEnd(&sim), ncclSuccess);
  EXPECT_EQ(sim.estimatedTime, 0.0f);
  void* mem = nullptr;
  ASSERT_EQ(ncclMemAlloc(&mem, 64), ncclSuccess);
  ASSERT_EQ(ncclMemFree(mem), ncclSuccess);
  ASSERT_EQ(ncclCommAbort(comm), ncclSuccess);
}

}  // namespace
