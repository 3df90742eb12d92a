// multi_device_single_process: one process drives every device, the "single thread, many
// GPUs" NCCL model. ncclCommInitAll creates one communicator per device; each step issues an
// AllReduce and a Broadcast on every communicator inside one ncclGroupStart/ncclGroupEnd (one
// thread cannot block in one device's collective while the others are not yet issued), then
// checks every device's results on the host. Prints "multi_device_single_process: OK".
//
// Here a "rank" (for --fault-rank) is a device index: the communicator rank of that device.
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "support/check.h"
#include "support/device_buffer.h"
#include "support/options.h"
#include "support/wait.h"

namespace ddrr_samples {
namespace {

struct Device {
  int ordinal = 0;
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  DeviceBuffer<float> send, recv, bcast_send, bcast_recv;
};

// Small integers, so the sums are exact and identical in any reduction order.
float Value(int stream_id, int rank, size_t index) {
  return static_cast<float>(1 + (rank * 7 + index * 3 + stream_id * 5) % 11);
}

SampleSpec MakeSpec(int* ndev) {
  return SampleSpec{
      .name = "multi_device_single_process",
      .summary =
          "One process, one communicator per visible device (ncclCommInitAll); every step\n"
          "runs a grouped AllReduce and Broadcast on all of them and checks the results.",
      .steps_help = "number of grouped AllReduce + Broadcast steps",
      .size_help = "elements per device",
      .default_steps = 5,
      .default_size = 1024,
      .fault_step_help =
          "the step the fault happens at (default: steps / 2); 'same-device'\n"
          "                    acts at ncclCommInitAll whatever the step",
      .faults = {FaultKind::kSkipCollective, FaultKind::kWrongCount, FaultKind::kWrongRoot,
                 FaultKind::kWrongDtype, FaultKind::kUnmatchedSend, FaultKind::kSameDevice,
                 FaultKind::kAbort, FaultKind::kNan},
      .extras = {{"--ndev", "N", "devices to use (0: all visible)", ndev}},
  };
}

void CheckResult(const char* what, int step, int rank, const std::vector<float>& got,
                 const std::vector<float>& expected) {
  for (size_t i = 0; i < expected.size(); ++i) {
    if (got[i] != expected[i]) {
      printf(
          "multi_device_single_process: MISMATCH in %s of step %d on rank %d: element %zu is "
          "%g, expected %g\n",
          what, step, rank, i, got[i], expected[i]);
      exit(kExitFailure);
    }
  }
}

int Run(int argc, char** argv) {
  int ndev = 0;
  const SampleSpec spec = MakeSpec(&ndev);
  const Options options = ParseOptions(argc, argv, spec);
  SetLogIdentity(spec.name, -1);
  const size_t count = options.size;

  int visible = 0;
  CUDA_CHECK(cudaGetDeviceCount(&visible));
  if (ndev == 0) ndev = visible;
  if (ndev < 1 || ndev > visible) {
    UsageError(spec, "--ndev " + std::to_string(ndev) + " but " + std::to_string(visible) +
                         " devices are visible");
  }
  // One Fault per communicator rank: this process plays them all.
  std::vector<Fault> faults;
  for (int r = 0; r < ndev; ++r) faults.emplace_back(options, spec, r, ndev, options.steps / 2);
  auto fires = [&](FaultKind kind, int step, int rank) { return faults[rank].Fires(kind, step); };

  std::vector<int> devlist(ndev);
  for (int r = 0; r < ndev; ++r) devlist[r] = r;
  for (int r = 0; r < ndev; ++r) {
    if (faults[r].FiresAnyStep(FaultKind::kSameDevice)) devlist[r] = r == 0 ? 1 % ndev : 0;
  }
  printf("multi_device_single_process: %d devices, %d steps, %zu elements\n", ndev, options.steps,
         count);
  fflush(stdout);

  std::vector<ncclComm_t> comms(ndev);
  NCCL_CHECK(ncclCommInitAll(comms.data(), ndev, devlist.data()));
  std::vector<Device> devices(ndev);
  for (int r = 0; r < ndev; ++r) {
    Device& d = devices[r];
    d.ordinal = devlist[r];
    d.comm = comms[r];
    CUDA_CHECK(cudaSetDevice(d.ordinal));
    CUDA_CHECK(cudaStreamCreate(&d.stream));
    d.send = DeviceBuffer<float>(count);
    d.recv = DeviceBuffer<float>(count);
    d.bcast_send = DeviceBuffer<float>(count);
    d.bcast_recv = DeviceBuffer<float>(count);
  }

  for (int step = 0; step < options.steps; ++step) {
    const int root = step % ndev;  // every device takes a turn as the broadcast root
    const int key = 2 * (step + static_cast<int>(options.seed % 1000));  // input values' key
    for (int r = 0; r < ndev; ++r) {
      if (fires(FaultKind::kAbort, step, r)) {
        NCCL_CHECK(ncclCommAbort(devices[r].comm));
        fprintf(stderr, "%saborted the communicator of rank %d at step %d; exiting\n", LogPrefix(),
                r, step);
        exit(kExitAborted);
      }
      std::vector<float> input(count), bcast_input(count);
      for (size_t i = 0; i < count; ++i) {
        input[i] = Value(key, r, i);
        bcast_input[i] = Value(key + 1, r, i);
      }
      if (fires(FaultKind::kNan, step, r)) input[0] = std::numeric_limits<float>::quiet_NaN();
      CUDA_CHECK(cudaSetDevice(devices[r].ordinal));
      devices[r].send.CopyFrom(input);
      devices[r].bcast_send.CopyFrom(bcast_input);
    }

    NCCL_CHECK(ncclGroupStart());
    for (int r = 0; r < ndev; ++r) {
      Device& d = devices[r];
      CUDA_CHECK(cudaSetDevice(d.ordinal));
      if (fires(FaultKind::kUnmatchedSend, step, r)) {
        NCCL_CHECK(ncclSend(d.send.get(), count, ncclFloat, (r + 1) % ndev, d.comm, d.stream));
      }
      if (!fires(FaultKind::kSkipCollective, step, r)) {
        size_t n = count;
        ncclDataType_t dtype = ncclFloat;
        if (fires(FaultKind::kWrongCount, step, r) && n > 1) n -= 1;
        if (fires(FaultKind::kWrongDtype, step, r)) dtype = ncclHalf;
        NCCL_CHECK(ncclAllReduce(d.send.get(), d.recv.get(), n, dtype, ncclSum, d.comm, d.stream));
      }
      const int my_root = fires(FaultKind::kWrongRoot, step, r) ? (root + 1) % ndev : root;
      NCCL_CHECK(ncclBroadcast(d.bcast_send.get(), d.bcast_recv.get(), count, ncclFloat, my_root,
                               d.comm, d.stream));
    }
    NCCL_CHECK(ncclGroupEnd());

    std::vector<float> sum(count), broadcast(count);
    for (size_t i = 0; i < count; ++i) {
      sum[i] = 0.0f;
      for (int r = 0; r < ndev; ++r) sum[i] += Value(key, r, i);
      broadcast[i] = Value(key + 1, root, i);
    }
    const std::string what = "the grouped collectives of step " + std::to_string(step);
    for (int r = 0; r < ndev; ++r) {
      CUDA_CHECK(cudaSetDevice(devices[r].ordinal));
      WaitStream(devices[r].stream, devices[r].comm, what.c_str());
    }
    for (int r = 0; r < ndev; ++r) {
      CUDA_CHECK(cudaSetDevice(devices[r].ordinal));
      CheckResult("AllReduce", step, r, devices[r].recv.ToHost(), sum);
      CheckResult("Broadcast", step, r, devices[r].bcast_recv.ToHost(), broadcast);
    }
  }

  // One thread finalizing several communicators must group the calls, like the collectives.
  NCCL_CHECK(ncclGroupStart());
  for (Device& d : devices) NCCL_CHECK(ncclCommFinalize(d.comm));
  NCCL_CHECK(ncclGroupEnd());
  for (Device& d : devices) {
    CUDA_CHECK(cudaSetDevice(d.ordinal));
    NCCL_CHECK(ncclCommDestroy(d.comm));
    d.send = DeviceBuffer<float>();  // free while its device is current
    d.recv = DeviceBuffer<float>();
    d.bcast_send = DeviceBuffer<float>();
    d.bcast_recv = DeviceBuffer<float>();
    CUDA_CHECK(cudaStreamDestroy(d.stream));
  }
  printf("multi_device_single_process: OK\n");
  return 0;
}

}  // namespace
}  // namespace ddrr_samples

int main(int argc, char** argv) { return ddrr_samples::Run(argc, argv); }
