// The host libcurand: determinism, seed and offset semantics, distributions.
#include <curand.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace {

class HostRtCurandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(curandCreateGenerator(&gen_, CURAND_RNG_PSEUDO_PHILOX4_32_10), CURAND_STATUS_SUCCESS);
  }
  void TearDown() override { curandDestroyGenerator(gen_); }

  std::vector<unsigned> Draw(curandGenerator_t gen, size_t n) {
    std::vector<unsigned> out(n);
    EXPECT_EQ(curandGenerate(gen, out.data(), n), CURAND_STATUS_SUCCESS);
    return out;
  }

  curandGenerator_t gen_ = nullptr;
};

TEST_F(HostRtCurandTest, SameSeedSameStreamAcrossGenerators) {
  curandGenerator_t other;
  ASSERT_EQ(curandCreateGeneratorHost(&other, CURAND_RNG_PSEUDO_PHILOX4_32_10),
            CURAND_STATUS_SUCCESS);
  curandSetPseudoRandomGeneratorSeed(gen_, 42);
  curandSetPseudoRandomGeneratorSeed(other, 42);
  EXPECT_EQ(Draw(gen_, 100), Draw(other, 100));
  curandDestroyGenerator(other);
}

TEST_F(HostRtCurandTest, SplitCallsEqualOneCall) {
  curandSetPseudoRandomGeneratorSeed(gen_, 7);
  std::vector<unsigned> whole = Draw(gen_, 37);
  curandSetPseudoRandomGeneratorSeed(gen_, 7);  // rewinds to the offset (0)
  std::vector<unsigned> first = Draw(gen_, 13);
  std::vector<unsigned> second = Draw(gen_, 24);
  first.insert(first.end(), second.begin(), second.end());
  EXPECT_EQ(first, whole);

  std::vector<float> normals_whole(10), normals_split(10);
  curandSetGeneratorOffset(gen_, 1000);
  ASSERT_EQ(curandGenerateNormal(gen_, normals_whole.data(), 10, 0, 1), CURAND_STATUS_SUCCESS);
  curandSetGeneratorOffset(gen_, 1000);
  ASSERT_EQ(curandGenerateNormal(gen_, normals_split.data(), 4, 0, 1), CURAND_STATUS_SUCCESS);
  ASSERT_EQ(curandGenerateNormal(gen_, normals_split.data() + 4, 6, 0, 1), CURAND_STATUS_SUCCESS);
  EXPECT_EQ(normals_split, normals_whole);
}

TEST_F(HostRtCurandTest, OffsetSkipsAhead) {
  curandSetPseudoRandomGeneratorSeed(gen_, 99);
  std::vector<unsigned> stream = Draw(gen_, 50);
  curandSetGeneratorOffset(gen_, 17);
  std::vector<unsigned> skipped = Draw(gen_, 33);
  EXPECT_EQ(skipped, std::vector<unsigned>(stream.begin() + 17, stream.end()));
}

TEST_F(HostRtCurandTest, DifferentSeedsAndTypesDiffer) {
  curandSetPseudoRandomGeneratorSeed(gen_, 1);
  std::vector<unsigned> one = Draw(gen_, 16);
  curandSetPseudoRandomGeneratorSeed(gen_, 2);
  EXPECT_NE(Draw(gen_, 16), one);
  curandGenerator_t xorwow;
  ASSERT_EQ(curandCreateGenerator(&xorwow, CURAND_RNG_PSEUDO_XORWOW), CURAND_STATUS_SUCCESS);
  curandSetPseudoRandomGeneratorSeed(xorwow, 1);
  EXPECT_NE(Draw(xorwow, 16), one);
  curandDestroyGenerator(xorwow);
}

TEST_F(HostRtCurandTest, UniformIsInHalfOpenUnitInterval) {
  std::vector<float> f(100000);
  std::vector<double> d(100000);
  ASSERT_EQ(curandGenerateUniform(gen_, f.data(), f.size()), CURAND_STATUS_SUCCESS);
  ASSERT_EQ(curandGenerateUniformDouble(gen_, d.data(), d.size()), CURAND_STATUS_SUCCESS);
  double sum = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    ASSERT_GT(f[i], 0.0f);
    ASSERT_LE(f[i], 1.0f);
    ASSERT_GT(d[i], 0.0);
    ASSERT_LE(d[i], 1.0);
    sum += d[i];
  }
  EXPECT_NEAR(sum / d.size(), 0.5, 0.01);
}

TEST_F(HostRtCurandTest, NormalHasRequestedMeanAndStddev) {
  std::vector<float> f(100000);
  ASSERT_EQ(curandGenerateNormal(gen_, f.data(), f.size(), 3.0f, 2.0f), CURAND_STATUS_SUCCESS);
  double sum = 0, sum_sq = 0;
  for (float x : f) {
    sum += x;
    sum_sq += static_cast<double>(x) * x;
  }
  double mean = sum / f.size();
  EXPECT_NEAR(mean, 3.0, 0.05);
  EXPECT_NEAR(std::sqrt(sum_sq / f.size() - mean * mean), 2.0, 0.05);

  std::vector<double> d(100000);
  ASSERT_EQ(curandGenerateNormalDouble(gen_, d.data(), d.size(), -1.0, 0.5), CURAND_STATUS_SUCCESS);
  sum = 0;
  for (double x : d) sum += x;
  EXPECT_NEAR(sum / d.size(), -1.0, 0.02);
}

TEST_F(HostRtCurandTest, LogNormalIsExpOfNormal) {
  std::vector<float> normal(8), log_normal(8);
  curandSetGeneratorOffset(gen_, 0);
  ASSERT_EQ(curandGenerateNormal(gen_, normal.data(), 8, 0.5f, 0.25f), CURAND_STATUS_SUCCESS);
  curandSetGeneratorOffset(gen_, 0);
  ASSERT_EQ(curandGenerateLogNormal(gen_, log_normal.data(), 8, 0.5f, 0.25f),
            CURAND_STATUS_SUCCESS);
  for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(log_normal[i], std::exp(normal[i]));
  std::vector<double> d(8);
  EXPECT_EQ(curandGenerateLogNormalDouble(gen_, d.data(), 8, 0, 1), CURAND_STATUS_SUCCESS);
  for (double x : d) EXPECT_GT(x, 0.0);
}

TEST_F(HostRtCurandTest, MatchesCuRandStatusesForUnsupportedRequests) {
  unsigned long long values[2];
  EXPECT_EQ(curandGenerateLongLong(gen_, values, 2), CURAND_STATUS_TYPE_ERROR);
  EXPECT_EQ(curandSetQuasiRandomGeneratorDimensions(gen_, 2), CURAND_STATUS_TYPE_ERROR);
  curandGenerator_t quasi;
  EXPECT_EQ(curandCreateGenerator(&quasi, CURAND_RNG_QUASI_SOBOL32), CURAND_STATUS_TYPE_ERROR);
  EXPECT_EQ(curandSetGeneratorOrdering(gen_, CURAND_ORDERING_PSEUDO_SEEDED), CURAND_STATUS_SUCCESS);
  EXPECT_EQ(curandSetGeneratorOrdering(gen_, CURAND_ORDERING_QUASI_DEFAULT),
            CURAND_STATUS_OUT_OF_RANGE);
  EXPECT_EQ(curandGenerateSeeds(gen_), CURAND_STATUS_SUCCESS);
  EXPECT_EQ(curandSetStream(gen_, nullptr), CURAND_STATUS_SUCCESS);
  int version = 0;
  EXPECT_EQ(curandGetVersion(&version), CURAND_STATUS_SUCCESS);
  EXPECT_EQ(version, CURAND_VERSION);
}

}  // namespace
