// collectives_tour: every NCCL collective and the common point-to-point patterns, on three
// communicators (the world, an even/odd ncclCommSplit, and a second world communicator created
// from its own unique id with the ranks reversed), in several data types and reduction ops.
// Every result is checked against values computed on the host. Prints "collectives_tour: OK"
// and exits 0, or prints the first mismatch and exits 1.
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstdio>
#include <vector>

#include "support/bootstrap.h"
#include "support/check.h"
#include "support/options.h"
#include "tour/elements.h"
#include "tour/tour.h"

namespace ddrr_samples {
namespace {

// Operation 7 (the first Broadcast) is the first one that every fault kind can land on.
constexpr int kDefaultFaultStep = 7;

SampleSpec MakeSpec() {
  return SampleSpec{
      .name = "collectives_tour",
      .summary =
          "Runs every NCCL collective (AllReduce, Broadcast, Bcast, Reduce, AllGather,\n"
          "ReduceScatter, AlltoAll, Gather, Scatter), ring / pipeline / all-to-all\n"
          "send-recv patterns, ncclCommSplit and a second communicator, and checks every\n"
          "result on the host.",
      .steps_help = "how many times to run the whole tour",
      .size_help = "elements per rank (per peer for gathers, scatters, all-to-all)",
      .default_steps = 1,
      .default_size = 1024,
      .fault_step_help =
          "the fault lands on the first operation, counted from 0 over the whole run,\n"
          "                    at or after S where it applies (default 7; operations are\n"
          "                    numbered in the fault note printed to stderr)",
      .faults = {FaultKind::kSkipCollective, FaultKind::kWrongCount, FaultKind::kWrongRoot,
                 FaultKind::kWrongDtype, FaultKind::kUnmatchedSend, FaultKind::kSameDevice,
                 FaultKind::kAbort, FaultKind::kNan, FaultKind::kStall, FaultKind::kCrossOrder},
      .extras = {},
  };
}

// One pass over everything. `world`, `halves` and `reversed` are in use at the same time.
void RunOnce(const JobInfo& job, int pass, Tour& tour, const Comm& world, const Comm& halves,
             const Comm& reversed) {
  const int last = world.size() - 1;
  // Reductions: every op, four data types. Values stay small integers, so sums are exact even
  // in half (up to ~180 ranks) and bfloat16 (values 1..3: up to ~80 ranks).
  tour.AllReduce<Float32>(world, ncclSum);  // operation 0
  tour.AllReduce<Int32>(world, ncclMax);
  if (pass == 0) {
    // An all-reduce completes only once every rank has joined it, and each rank read both ids
    // before: the published files are no longer needed. (After the second one, so that even a
    // rank 0 that skipped the first has really met every peer.)
    RetireUniqueId(job, "main");
    RetireUniqueId(job, "second");
  }
  tour.AllReduce<Int32>(world, ncclMin);
  tour.AllReduce<Int32>(world, ncclProd, Pattern::kSparseTwos);
  tour.AllReduce<Float32>(world, ncclAvg);
  tour.AllReduce<Half>(world, ncclSum);
  tour.AllReduce<Bfloat16>(world, ncclSum, Pattern::kSmall, 3);
  // Rooted and data-movement collectives (operation 7 onwards).
  tour.Broadcast<Float32>(world, last, /*in_place=*/false);
  tour.Broadcast<Int32>(world, 0, /*in_place=*/true);
  tour.Reduce<Float32>(world, ncclSum, 1 % world.size());
  tour.Reduce<Bfloat16>(world, ncclMax, 0);
  tour.AllGather<Int32>(world);
  tour.ReduceScatter<Float32>(world, ncclSum);
  tour.AlltoAll<Int32>(world);
  tour.Gather<Float32>(world, last);
  tour.Scatter<Int32>(world, 0);
  tour.Gather<Half>(world, 0);
  // Point-to-point.
  tour.RingExchange(world);
  tour.Pipeline(world);
  tour.SendRecvAllToAll(world);
  // The split and the reversed communicator: member lists make the checks prove that NCCL
  // placed every rank where the split key / init rank said.
  tour.AllReduce<Int32>(halves, ncclSum);
  tour.Broadcast<Float32>(halves, halves.size() - 1, /*in_place=*/false);
  tour.AllGather<Bfloat16>(halves);
  tour.Broadcast<Float32>(reversed, 0, /*in_place=*/false);
  tour.ReduceScatter<Int32>(reversed, ncclMax);
  tour.RingExchange(reversed);
  // Two communicators queued on one stream before a single wait. `cross-order` queues them the
  // other way round on one rank: each side then waits inside the op the other has not reached.
  if (tour.CrossesOrder()) {
    Pending<Int32> on_reversed = tour.StartAllReduce<Int32>(reversed, ncclMin);
    Pending<Float32> on_world = tour.StartAllReduce<Float32>(world, ncclSum);
    tour.Finish(on_world);
    tour.Finish(on_reversed);
    return;
  }
  Pending<Float32> on_world = tour.StartAllReduce<Float32>(world, ncclSum);
  Pending<Int32> on_reversed = tour.StartAllReduce<Int32>(reversed, ncclMin);
  tour.Finish(on_world);
  tour.Finish(on_reversed);
}

int Run(int argc, char** argv) {
  const SampleSpec spec = MakeSpec();
  const Options options = ParseOptions(argc, argv, spec);
  const JobInfo job = DetectJob();
  SetLogIdentity(spec.name, job.rank);
  const Fault fault(options, spec, job.rank, job.world_size, kDefaultFaultStep);
  const int rank = job.rank;
  const int n = job.world_size;
  const int device = SelectDevice(job, fault.FiresAnyStep(FaultKind::kSameDevice));
  fprintf(stderr, "%sdevice %d of world %d (rank from %s)\n", LogPrefix(), device, n,
          job.source.c_str());

  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));

  Comm world{"world", nullptr, rank, {}};
  for (int r = 0; r < n; ++r) world.members.push_back(r);
  NCCL_CHECK(ncclCommInitRank(&world.handle, n, ShareUniqueId(job, "main"), rank));
  CheckCommShape(rank, world);

  // Even and odd world ranks, ordered by world rank (the key).
  Comm halves{"halves(color " + std::to_string(rank % 2) + ")", nullptr, rank / 2, {}};
  for (int r = rank % 2; r < n; r += 2) halves.members.push_back(r);
  NCCL_CHECK(ncclCommSplit(world.handle, rank % 2, rank, &halves.handle, nullptr));
  CheckCommShape(rank, halves);

  // Created independently from a second id, with the ranks in reverse order.
  Comm reversed{"reversed", nullptr, n - 1 - rank, {}};
  for (int r = n - 1; r >= 0; --r) reversed.members.push_back(r);
  NCCL_CHECK(ncclCommInitRank(&reversed.handle, n, ShareUniqueId(job, "second"), n - 1 - rank));
  CheckCommShape(rank, reversed);

  Tour tour(rank, fault, options.size, options.seed, stream);
  for (int pass = 0; pass < options.steps; ++pass)
    RunOnce(job, pass, tour, world, halves, reversed);

  for (Comm* comm : {&reversed, &halves, &world}) NCCL_CHECK(ncclCommFinalize(comm->handle));
  for (Comm* comm : {&reversed, &halves, &world}) NCCL_CHECK(ncclCommDestroy(comm->handle));
  CUDA_CHECK(cudaStreamDestroy(stream));
  fprintf(stderr, "%s%d operations on 3 communicators checked\n", LogPrefix(), tour.operations());
  printf("collectives_tour: OK\n");
  return 0;
}

}  // namespace
}  // namespace ddrr_samples

int main(int argc, char** argv) { return ddrr_samples::Run(argc, argv); }
