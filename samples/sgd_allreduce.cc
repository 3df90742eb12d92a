// sgd_allreduce: data-parallel SGD on a synthetic linear-regression problem, the smallest
// program with the shape of a real training job: data from cuRAND, weights broadcast from
// rank 0, one gradient all-reduce per step. All arithmetic runs on host copies of the device
// buffers (no kernels), so the program runs unchanged on a GPU and on ddrr's host runtime.
//
// Output (stdout): rank 0 prints "step <s> loss=<%.6f>" every --log-every steps; every rank
// prints "final loss=<%.6f> weights_hash=<16 hex digits>" at the end. A healthy run prints the
// same final line on every rank, and the same line again for the same --seed and world size.
#include <cuda_runtime_api.h>
#include <curand.h>
#include <nccl.h>
#include <sys/random.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "support/bootstrap.h"
#include "support/check.h"
#include "support/device_buffer.h"
#include "support/marks.h"
#include "support/numeric.h"
#include "support/options.h"
#include "support/wait.h"

namespace ddrr_samples {
namespace {

// Model parameters are drawn from a stream of their own, shared by all ranks, so that the
// ground truth is the same everywhere while each rank's data shard (seed + rank) differs.
constexpr uint64_t kModelSeedSalt = 0x9e3779b97f4a7c15ull;
constexpr float kNoiseStddev = 0.1f;

// A cuRAND host-API generator (device output) that destroys itself.
class Generator {
 public:
  explicit Generator(uint64_t seed) {
    CURAND_CHECK(curandCreateGenerator(&generator_, CURAND_RNG_PSEUDO_PHILOX4_32_10));
    CURAND_CHECK(curandSetPseudoRandomGeneratorSeed(generator_, seed));
  }
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;
  ~Generator() { curandDestroyGenerator(generator_); }

  // Draws into device memory and returns the host copy. cuRAND's normal generators produce
  // pairs, hence the even-sized device buffer.
  std::vector<float> Normal(size_t count, float mean, float stddev) {
    DeviceBuffer<float> values(count + count % 2);
    CURAND_CHECK(curandGenerateNormal(generator_, values.get(), values.count(), mean, stddev));
    std::vector<float> host = values.ToHost();
    host.resize(count);
    return host;
  }
  std::vector<float> Uniform(size_t count) {
    DeviceBuffer<float> values(count);
    CURAND_CHECK(curandGenerateUniform(generator_, values.get(), count));
    return values.ToHost();
  }

 private:
  curandGenerator_t generator_ = nullptr;
};

struct Shard {
  size_t samples = 0;
  size_t features = 0;
  std::vector<float> x;  // samples x features, row major
  std::vector<float> y;  // samples
};

// y = x . w_true + noise, where x and noise come from seed + rank, w_true from the model stream.
Shard MakeShard(uint64_t seed, int rank, size_t samples, size_t features,
                const std::vector<float>& w_true) {
  Generator data(seed + static_cast<uint64_t>(rank));
  Shard shard{samples, features, data.Normal(samples * features, 0.0f, 1.0f), {}};
  std::vector<float> noise = data.Normal(samples, 0.0f, kNoiseStddev);
  shard.y.resize(samples);
  for (size_t s = 0; s < samples; ++s) {
    double dot = 0.0;
    for (size_t f = 0; f < features; ++f) dot += double{shard.x[s * features + f]} * w_true[f];
    shard.y[s] = static_cast<float>(dot) + noise[s];
  }
  return shard;
}

// Mean squared error / 2 over the shard; with `gradient`, also its mean gradient.
double LocalLoss(const Shard& shard, const std::vector<float>& w, std::vector<double>* gradient) {
  double loss = 0.0;
  if (gradient != nullptr) gradient->assign(shard.features, 0.0);
  for (size_t s = 0; s < shard.samples; ++s) {
    const float* row = &shard.x[s * shard.features];
    double residual = -double{shard.y[s]};
    for (size_t f = 0; f < shard.features; ++f) residual += double{row[f]} * w[f];
    loss += 0.5 * residual * residual;
    if (gradient != nullptr) {
      for (size_t f = 0; f < shard.features; ++f) (*gradient)[f] += residual * row[f];
    }
  }
  const double scale = 1.0 / static_cast<double>(shard.samples);
  if (gradient != nullptr) {
    for (double& g : *gradient) g *= scale;
  }
  return loss * scale;
}

// Checkpoints (--checkpoint-at / --resume-at): this rank's weights at the start of a step, in
// $DDRR_SAMPLE_CHECKPOINT_DIR (default: the current directory).
std::string CheckpointPath(int rank, int step) {
  const char* dir = getenv("DDRR_SAMPLE_CHECKPOINT_DIR");
  return std::string(dir && *dir ? dir : ".") + "/sgd_allreduce-rank" + std::to_string(rank) +
         "-step" + std::to_string(step) + ".ckpt";
}

void SaveCheckpoint(int rank, int step, const std::vector<float>& w) {
  const std::string path = CheckpointPath(rank, step);
  FILE* f = fopen(path.c_str(), "wb");
  if (!f || fwrite(w.data(), sizeof(float), w.size(), f) != w.size() || fclose(f) != 0) {
    fprintf(stderr, "%scannot write the checkpoint %s\n", LogPrefix(), path.c_str());
    exit(kExitFailure);
  }
}

std::vector<float> LoadCheckpoint(int rank, int step, size_t features) {
  const std::string path = CheckpointPath(rank, step);
  std::vector<float> w(features);
  FILE* f = fopen(path.c_str(), "rb");
  if (!f || fread(w.data(), sizeof(float), w.size(), f) != w.size()) {
    fprintf(stderr, "%scannot read the checkpoint %s (write it with --checkpoint-at %d)\n",
            LogPrefix(), path.c_str(), step);
    exit(kExitUsage);
  }
  fclose(f);
  return w;
}

struct Noise {
  double scale = 0;  // --grad-noise
  int seed = -1;     // --noise-seed; -1: the run's seed + rank
};

SampleSpec MakeSpec(int* samples, double* lr, int* log_every, int* entropy_seed, int* checkpoint_at,
                    int* resume_at, Noise* noise) {
  return SampleSpec{
      .name = "sgd_allreduce",
      .summary =
          "Data-parallel SGD on synthetic linear regression: ncclBroadcast of the initial\n"
          "weights, one gradient ncclAllReduce per step, a final loss and weights hash.",
      .steps_help = "number of SGD steps",
      .size_help = "number of model weights (features)",
      .default_steps = 100,
      .default_size = 256,
      .fault_step_help =
          "the SGD step the fault happens at (default: steps / 2); 'wrong-root'\n"
          "                    and 'same-device' act at startup whatever the step",
      .faults = {FaultKind::kSkipCollective, FaultKind::kWrongCount, FaultKind::kWrongRoot,
                 FaultKind::kWrongDtype, FaultKind::kUnmatchedSend, FaultKind::kSameDevice,
                 FaultKind::kAbort, FaultKind::kNan, FaultKind::kStall, FaultKind::kInitStall},
      .extras = {{"--samples", "N", "training samples per rank", samples},
                 {"--lr", "X", "learning rate", lr},
                 {"--log-every", "N", "print the loss every N steps (0: never)", log_every},
                 {"--entropy-seed", "0|1",
                  "1: each rank draws its seed from getrandom() instead of --seed, as jobs that\n"
                  "                    seed from the OS do (the run is then not repeatable)",
                  entropy_seed},
                 {"--checkpoint-at", "STEP",
                  "save each rank's weights at the start of STEP (-1: never)", checkpoint_at},
                 {"--resume-at", "STEP",
                  "resume at STEP from the --checkpoint-at STEP files instead of starting from\n"
                  "                    the broadcast weights (-1: start from step 0)",
                  resume_at},
                 {"--grad-noise", "X",
                  "add Gaussian noise of scale X to each gradient, from a host generator whose\n"
                  "                    state is recorded at every step (ddrr_record_rng)",
                  &noise->scale},
                 {"--noise-seed", "N", "seed of that generator (-1: --seed + rank)", &noise->seed}},
  };
}

int Run(int argc, char** argv) {
  int samples_per_rank = 1024;
  double lr = 0.2;
  int log_every = 10;
  int entropy_seed = 0;
  int checkpoint_at = -1, resume_at = -1;
  Noise noise;
  const SampleSpec spec = MakeSpec(&samples_per_rank, &lr, &log_every, &entropy_seed,
                                   &checkpoint_at, &resume_at, &noise);
  const Options options = ParseOptions(argc, argv, spec);
  if (samples_per_rank < 1) UsageError(spec, "--samples must be at least 1");

  const JobInfo job = DetectJob();
  SetLogIdentity(spec.name, job.rank);
  const Fault fault(options, spec, job.rank, job.world_size, options.steps / 2);
  const int rank = job.rank;
  const int world = job.world_size;
  const size_t features = options.size;

  const int device = SelectDevice(job, fault.FiresAnyStep(FaultKind::kSameDevice));
  fprintf(stderr, "%sdevice %d of world %d (rank from %s)\n", LogPrefix(), device, world,
          job.source.c_str());
  uint64_t seed = options.seed;
  if (entropy_seed != 0 &&
      getrandom(&seed, sizeof(seed), 0) != static_cast<ssize_t>(sizeof(seed))) {
    fprintf(stderr, "%sgetrandom failed\n", LogPrefix());
    return kExitFailure;
  }
  if (rank == 0) {
    printf("sgd_allreduce: world=%d features=%zu samples_per_rank=%d steps=%d seed=%llu lr=%g\n",
           world, features, samples_per_rank, options.steps, static_cast<unsigned long long>(seed),
           lr);
    fflush(stdout);
  }

  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  ncclUniqueId id = ShareUniqueId(job, "main");
  if (fault.FiresAnyStep(FaultKind::kInitStall)) StallForever("ncclCommInitRank");
  ncclComm_t comm;
  NCCL_CHECK(ncclCommInitRank(&comm, world, id, rank));

  // Ground truth and this rank's data. Rank 0 alone draws the initial weights; everyone else
  // gets them from the broadcast, as a real job loads or initialises a model on one rank.
  Generator model(seed ^ kModelSeedSalt);
  const std::vector<float> w_true =
      model.Normal(features, 0.0f, 1.0f / std::sqrt(static_cast<float>(features)));
  const Shard shard = MakeShard(seed, rank, samples_per_rank, features, w_true);
  DeviceBuffer<float> weights(features);
  if (rank == 0) {
    std::vector<float> w0 = model.Uniform(features);
    for (float& w : w0) w = (2.0f * w - 1.0f) / std::sqrt(static_cast<float>(features));
    weights.CopyFrom(w0);
  } else {
    CUDA_CHECK(cudaMemset(weights.get(), 0, features * sizeof(float)));
  }
  std::vector<float> w;
  if (resume_at >= 0) {
    w = LoadCheckpoint(rank, resume_at, features);  // a restarted job: no broadcast
  } else {
    int root = 0;
    if (fault.FiresAnyStep(FaultKind::kWrongRoot)) root = 1 % world;
    NCCL_CHECK(
        ncclBroadcast(weights.get(), weights.get(), features, ncclFloat, root, comm, stream));
    WaitStream(stream, comm, "the initial weight broadcast");
    w = weights.ToHost();
  }

  // One buffer per step: the mean gradient followed by the loss, so one all-reduce carries both.
  DeviceBuffer<float> reduced(features + 1);
  std::vector<double> gradient;
  std::vector<float> message(features + 1);
  bool reported_non_finite = false;
  bool retired_id = false;
  std::mt19937_64 noise_gen(noise.seed >= 0 ? static_cast<uint64_t>(noise.seed)
                                            : seed + static_cast<uint64_t>(rank));
  for (int step = std::max(resume_at, 0); step < options.steps; ++step) {
    if (step == checkpoint_at) SaveCheckpoint(rank, step, w);
    MarkStep(step);
    if (fault.Fires(FaultKind::kAbort, step)) {
      NCCL_CHECK(ncclCommAbort(comm));
      fprintf(stderr, "%saborted the communicator at step %d; exiting\n", LogPrefix(), step);
      exit(kExitAborted);
    }
    if (noise.scale > 0) {
      // The generator's state at each step is what a replay checks (or hands back).
      std::ostringstream state;
      state << noise_gen;
      RecordRng("grad_noise", state.str());
      if (std::string restored; RestoreRng("grad_noise", &restored)) {
        std::istringstream in(restored);
        in >> noise_gen;
      }
    }
    const double loss = LocalLoss(shard, w, &gradient);
    for (size_t f = 0; noise.scale > 0 && f < features; ++f)
      gradient[f] += noise.scale * std::normal_distribution<double>(0.0, 1.0)(noise_gen);
    for (size_t f = 0; f < features; ++f) message[f] = static_cast<float>(gradient[f]);
    message[features] = static_cast<float>(loss);
    if (fault.Fires(FaultKind::kNan, step)) message[0] = std::numeric_limits<float>::quiet_NaN();
    reduced.CopyFrom(message);

    if (fault.Fires(FaultKind::kUnmatchedSend, step)) {
      NCCL_CHECK(
          ncclSend(reduced.get(), features + 1, ncclFloat, (rank + 1) % world, comm, stream));
    }
    if (fault.Fires(FaultKind::kStall, step))
      StallForever(("the gradient all-reduce of step " + std::to_string(step)).c_str());
    const bool skipped = fault.Fires(FaultKind::kSkipCollective, step);
    if (!skipped) {
      size_t count = features + 1;
      ncclDataType_t dtype = ncclFloat;
      if (fault.Fires(FaultKind::kWrongCount, step)) count = features;  // forgets the loss
      if (fault.Fires(FaultKind::kWrongDtype, step)) dtype = ncclHalf;  // a mixed-precision slip
      NCCL_CHECK(ncclAllReduce(reduced.get(), reduced.get(), count, dtype, ncclSum, comm, stream));
    }
    const std::string what = "the gradient all-reduce of step " + std::to_string(step);
    WaitStream(stream, comm, what.c_str());
    message = reduced.ToHost();
    if (!skipped && !retired_id) {
      // An all-reduce completes only once every rank has joined it, so every rank has read the
      // published id by now: remove it, so no later run with the same job key can take it.
      RetireUniqueId(job, "main");
      retired_id = true;
    }

    const float global_loss = message[features] / static_cast<float>(world);
    if (rank == 0 && log_every > 0 && (step % log_every == 0 || step + 1 == options.steps)) {
      printf("step %d loss=%.6f\n", step, global_loss);
      fflush(stdout);
    }
    if (!std::isfinite(global_loss) && !reported_non_finite) {
      fprintf(stderr, "%swarning: loss is not finite at step %d\n", LogPrefix(), step);
      reported_non_finite = true;
    }
    for (size_t f = 0; f < features; ++f) {
      w[f] -= static_cast<float>(lr) * (message[f] / static_cast<float>(world));
    }
  }

  // The loss of the final weights over all shards: one more (single-element) all-reduce.
  std::vector<float> final_loss = {static_cast<float>(LocalLoss(shard, w, nullptr))};
  DeviceBuffer<float> loss_buffer(1);
  loss_buffer.CopyFrom(final_loss);
  NCCL_CHECK(
      ncclAllReduce(loss_buffer.get(), loss_buffer.get(), 1, ncclFloat, ncclSum, comm, stream));
  WaitStream(stream, comm, "the final loss all-reduce");
  final_loss = loss_buffer.ToHost();
  printf("final loss=%.6f weights_hash=%016llx\n", final_loss[0] / static_cast<float>(world),
         static_cast<unsigned long long>(Fnv1a64(w.data(), w.size() * sizeof(float))));
  fflush(stdout);

  NCCL_CHECK(ncclCommFinalize(comm));
  NCCL_CHECK(ncclCommDestroy(comm));
  CUDA_CHECK(cudaStreamDestroy(stream));
  return 0;
}

}  // namespace
}  // namespace ddrr_samples

int main(int argc, char** argv) { return ddrr_samples::Run(argc, argv); }
