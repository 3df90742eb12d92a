// The cuRAND host API over RandomStream. Device and host generators behave alike: "device"
// memory is host memory, and generation completes inside the call (the stream set with
// curandSetStream is recorded, never waited on). Pseudo-random types only.
#include <curand.h>

#include <string>

#include "common/log.h"
#include "hostrt/curand_generator.h"

struct curandGenerator_st {
  explicit curandGenerator_st(curandRngType_t type) : rng_type(type), stream(type) {}
  curandRngType_t rng_type;
  ddrr::hostrt::RandomStream stream;
  cudaStream_t cuda_stream = nullptr;
  curandOrdering_t ordering = CURAND_ORDERING_PSEUDO_DEFAULT;
};

namespace {

bool IsPseudoRandomType(curandRngType_t type) {
  switch (type) {
    case CURAND_RNG_PSEUDO_DEFAULT:
    case CURAND_RNG_PSEUDO_XORWOW:
    case CURAND_RNG_PSEUDO_MRG32K3A:
    case CURAND_RNG_PSEUDO_MTGP32:
    case CURAND_RNG_PSEUDO_MT19937:
    case CURAND_RNG_PSEUDO_PHILOX4_32_10:
      return true;
    default:
      return false;
  }
}

curandStatus_t Create(curandGenerator_t* generator, curandRngType_t type) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  if (!IsPseudoRandomType(type)) {
    // Quasi-random (Sobol) generators are not implemented.
    return CURAND_STATUS_TYPE_ERROR;
  }
  *generator = new curandGenerator_st(type);
  return CURAND_STATUS_SUCCESS;
}

curandStatus_t Unsupported(const char* what) {
  DDRR_WARN_ONCE_PER(
      what, "host runtime: %s is not supported; it returns CURAND_STATUS_ARCH_MISMATCH", what);
  return CURAND_STATUS_ARCH_MISMATCH;
}

// Runs `fill` unless the arguments are unusable.
template <typename T, typename Fill>
curandStatus_t Generate(curandGenerator_t generator, T* out, size_t n, Fill fill) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  if (n == 0) return CURAND_STATUS_SUCCESS;
  if (out == nullptr) return CURAND_STATUS_LAUNCH_FAILURE;  // what a bad device pointer gives
  fill(generator->stream);
  return CURAND_STATUS_SUCCESS;
}

}  // namespace

extern "C" {

curandStatus_t curandCreateGenerator(curandGenerator_t* generator, curandRngType_t rng_type) {
  return Create(generator, rng_type);
}

curandStatus_t curandCreateGeneratorHost(curandGenerator_t* generator, curandRngType_t rng_type) {
  return Create(generator, rng_type);
}

curandStatus_t curandDestroyGenerator(curandGenerator_t generator) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  delete generator;
  return CURAND_STATUS_SUCCESS;
}

curandStatus_t curandGetVersion(int* version) {
  if (version == nullptr) return CURAND_STATUS_OUT_OF_RANGE;
  *version = CURAND_VERSION;
  return CURAND_STATUS_SUCCESS;
}

curandStatus_t curandGetProperty(libraryPropertyType type, int* value) {
  if (value == nullptr) return CURAND_STATUS_OUT_OF_RANGE;
  switch (type) {
    case MAJOR_VERSION:
      *value = CURAND_VER_MAJOR;
      break;
    case MINOR_VERSION:
      *value = CURAND_VER_MINOR;
      break;
    case PATCH_LEVEL:
      *value = CURAND_VER_PATCH;
      break;
    default:
      return CURAND_STATUS_OUT_OF_RANGE;
  }
  return CURAND_STATUS_SUCCESS;
}

curandStatus_t curandSetStream(curandGenerator_t generator, cudaStream_t stream) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  generator->cuda_stream = stream;
  return CURAND_STATUS_SUCCESS;
}

curandStatus_t curandSetPseudoRandomGeneratorSeed(curandGenerator_t generator,
                                                  unsigned long long seed) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  generator->stream.SetSeed(seed);
  return CURAND_STATUS_SUCCESS;
}

curandStatus_t curandSetGeneratorOffset(curandGenerator_t generator, unsigned long long offset) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  generator->stream.SetOffset(offset);
  return CURAND_STATUS_SUCCESS;
}

curandStatus_t curandSetGeneratorOrdering(curandGenerator_t generator, curandOrdering_t order) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  // Accepted and recorded: the stream is the same for every pseudo-random ordering.
  if (order < CURAND_ORDERING_PSEUDO_BEST || order > CURAND_ORDERING_PSEUDO_DYNAMIC) {
    return CURAND_STATUS_OUT_OF_RANGE;
  }
  generator->ordering = order;
  return CURAND_STATUS_SUCCESS;
}

curandStatus_t curandSetQuasiRandomGeneratorDimensions(curandGenerator_t generator,
                                                       unsigned int num_dimensions) {
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  return CURAND_STATUS_TYPE_ERROR;  // what cuRAND answers for a pseudo-random generator
}

curandStatus_t curandGenerateSeeds(curandGenerator_t generator) {
  // Seeds device-side state in cuRAND; a counter-based stream has none to set up.
  return generator == nullptr ? CURAND_STATUS_NOT_INITIALIZED : CURAND_STATUS_SUCCESS;
}

curandStatus_t curandGenerate(curandGenerator_t generator, unsigned int* out, size_t num) {
  return Generate(generator, out, num, [&](auto& s) { s.FillUint32(out, num); });
}

curandStatus_t curandGenerateLongLong(curandGenerator_t generator, unsigned long long* out,
                                      size_t num) {
  // cuRAND produces 64-bit values only from 64-bit quasi-random generators and answers
  // CURAND_STATUS_TYPE_ERROR for every pseudo-random one, i.e. for every generator here.
  if (generator == nullptr) return CURAND_STATUS_NOT_INITIALIZED;
  return CURAND_STATUS_TYPE_ERROR;
}

curandStatus_t curandGenerateUniform(curandGenerator_t generator, float* out, size_t num) {
  return Generate(generator, out, num, [&](auto& s) { s.FillUniform(out, num); });
}

curandStatus_t curandGenerateUniformDouble(curandGenerator_t generator, double* out, size_t num) {
  return Generate(generator, out, num, [&](auto& s) { s.FillUniform(out, num); });
}

curandStatus_t curandGenerateNormal(curandGenerator_t generator, float* out, size_t n, float mean,
                                    float stddev) {
  return Generate(generator, out, n, [&](auto& s) { s.FillNormal(out, n, mean, stddev); });
}

curandStatus_t curandGenerateNormalDouble(curandGenerator_t generator, double* out, size_t n,
                                          double mean, double stddev) {
  return Generate(generator, out, n, [&](auto& s) { s.FillNormal(out, n, mean, stddev); });
}

curandStatus_t curandGenerateLogNormal(curandGenerator_t generator, float* out, size_t n,
                                       float mean, float stddev) {
  return Generate(generator, out, n, [&](auto& s) { s.FillLogNormal(out, n, mean, stddev); });
}

curandStatus_t curandGenerateLogNormalDouble(curandGenerator_t generator, double* out, size_t n,
                                             double mean, double stddev) {
  return Generate(generator, out, n, [&](auto& s) { s.FillLogNormal(out, n, mean, stddev); });
}

// Present so that binaries referencing them load; not implemented.
curandStatus_t curandCreatePoissonDistribution(double lambda,
                                               curandDiscreteDistribution_t* distribution) {
  return Unsupported("curandCreatePoissonDistribution");
}

curandStatus_t curandDestroyDistribution(curandDiscreteDistribution_t distribution) {
  return Unsupported("curandDestroyDistribution");
}

curandStatus_t curandGeneratePoisson(curandGenerator_t generator, unsigned int* out, size_t n,
                                     double lambda) {
  return Unsupported("curandGeneratePoisson");
}

curandStatus_t curandGeneratePoissonMethod(curandGenerator_t generator, unsigned int* out, size_t n,
                                           double lambda, curandMethod_t method) {
  return Unsupported("curandGeneratePoissonMethod");
}

curandStatus_t curandGetDirectionVectors32(curandDirectionVectors32_t* vectors[],
                                           curandDirectionVectorSet_t set) {
  return Unsupported("curandGetDirectionVectors32");
}

curandStatus_t curandGetDirectionVectors64(curandDirectionVectors64_t* vectors[],
                                           curandDirectionVectorSet_t set) {
  return Unsupported("curandGetDirectionVectors64");
}

curandStatus_t curandGetScrambleConstants32(unsigned int** constants) {
  return Unsupported("curandGetScrambleConstants32");
}

curandStatus_t curandGetScrambleConstants64(unsigned long long** constants) {
  return Unsupported("curandGetScrambleConstants64");
}

}  // extern "C"
