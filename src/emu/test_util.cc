#include "emu/test_util.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>

namespace ddrr::emu::testing {

std::vector<Comm*> InitLocal(int n, const CommOptions& options) {
  std::vector<Comm*> comms(n, nullptr);
  std::vector<int> devs(n);
  for (int i = 0; i < n; ++i) devs[i] = i;
  Result r = CommInitAll(comms.data(), n, devs.data(), options);
  EXPECT_TRUE(r.ok()) << r.message();
  return comms;
}

void DestroyAll(std::vector<Comm*>& comms) {
  for (Comm* c : comms) {
    if (c != nullptr) CommDestroy(c);
  }
  comms.clear();
}

void RunThreads(int n, const std::function<void(int)>& fn) {
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) threads.emplace_back(fn, r);
  for (auto& t : threads) t.join();
}

std::vector<int> RunProcesses(int n, const std::function<int(int)>& fn, double timeout_s) {
  std::vector<pid_t> pids(n);
  for (int r = 0; r < n; ++r) {
    pid_t pid = fork();
    if (pid == 0) {
      alarm(static_cast<unsigned>(timeout_s) + 1);
      int code = 1;
      try {
        code = fn(r);
      } catch (...) {
        code = 98;
      }
      _exit(code);
    }
    pids[r] = pid;
  }
  std::vector<int> codes(n, -1);
  for (int r = 0; r < n; ++r) {
    int status = 0;
    waitpid(pids[r], &status, 0);
    if (WIFEXITED(status)) {
      codes[r] = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      codes[r] = WTERMSIG(status) == SIGALRM ? 99 : 128 + WTERMSIG(status);
    }
  }
  return codes;
}

Bytes MakeInput(DataType dtype, size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ull + 12345);
  size_t esz = ElementSize(dtype);
  Bytes out(count * esz);
  for (size_t i = 0; i < count; ++i) {
    uint64_t raw;
    if (IsFloating(dtype)) {
      // Values in [-2, 2) in steps of 1/64: exercises rounding without overflowing fp8.
      double v = (static_cast<int>(rng() % 256) - 128) / 64.0;
      if (v == 0) v = 0.5;
      raw = ScalarFromDouble(dtype, v);
    } else {
      raw = rng();
      if (i % 2 == 0) raw = static_cast<uint64_t>(static_cast<int64_t>(rng() % 7) - 3);
    }
    std::memcpy(out.data() + i * esz, &raw, esz);
  }
  return out;
}

namespace {

bool IsSigned(DataType d) {
  return d == DataType::kInt8 || d == DataType::kInt32 || d == DataType::kInt64;
}

uint64_t Load(DataType d, const Bytes& b, size_t i) {
  uint64_t raw = 0;
  std::memcpy(&raw, b.data() + i * ElementSize(d), ElementSize(d));
  return raw;
}

int64_t SignExtend(DataType d, uint64_t raw) {
  int bits = static_cast<int>(ElementSize(d)) * 8;
  if (bits == 64) return static_cast<int64_t>(raw);
  uint64_t m = 1ull << (bits - 1);
  raw &= (1ull << bits) - 1;
  return static_cast<int64_t>((raw ^ m) - m);
}

// Rounds a floating value to the element type and back, as the engine does after every step.
double Round(DataType d, double v) { return ScalarToDouble(d, ScalarFromDouble(d, v)); }

// One arithmetic step of the engine: computed in float (double for fp64), rounded to the type.
double Step(DataType d, double exact) {
  if (d == DataType::kFloat64) return exact;
  return Round(d, static_cast<double>(static_cast<float>(exact)));
}

uint64_t CombineInt(DataType d, RedOpKind op, uint64_t a, uint64_t b) {
  switch (op) {
    case RedOpKind::kProd:
      return a * b;
    case RedOpKind::kMax:
      if (IsSigned(d)) return SignExtend(d, a) > SignExtend(d, b) ? a : b;
      return a > b ? a : b;
    case RedOpKind::kMin:
      if (IsSigned(d)) return SignExtend(d, a) < SignExtend(d, b) ? a : b;
      return a < b ? a : b;
    default:
      return a + b;
  }
}

double CombineFloat(RedOpKind op, double a, double b) {
  switch (op) {
    case RedOpKind::kProd:
      return a * b;
    case RedOpKind::kMax:
      return (a > b || a != a) ? a : b;
    case RedOpKind::kMin:
      return (a < b || a != a) ? a : b;
    default:
      return a + b;
  }
}

}  // namespace

Bytes ReferenceReduce(DataType d, RedOpKind op, const std::vector<Bytes>& inputs,
                      const std::vector<uint64_t>& scalars, size_t offset, size_t count) {
  int n = static_cast<int>(inputs.size());
  size_t esz = ElementSize(d);
  Bytes out(count * esz);
  for (size_t i = 0; i < count; ++i) {
    uint64_t result = 0;
    if (IsFloating(d)) {
      double acc = 0;
      for (int q = 0; q < n; ++q) {
        double x = ScalarToDouble(d, Load(d, inputs[q], offset + i));
        if (op == RedOpKind::kPreMulSum) x = Step(d, x * ScalarToDouble(d, scalars[q]));
        if (op == RedOpKind::kAvg) x = Step(d, x * Round(d, 1.0 / n));
        acc = q == 0 ? x : Step(d, CombineFloat(op, acc, x));
      }
      result = ScalarFromDouble(d, acc);
    } else {
      uint64_t acc = 0;
      for (int q = 0; q < n; ++q) {
        uint64_t x = Load(d, inputs[q], offset + i);
        if (op == RedOpKind::kPreMulSum) x = x * scalars[q];
        acc = q == 0 ? x : CombineInt(d, op, acc, x);
        if (IsSigned(d))
          acc = static_cast<uint64_t>(SignExtend(d, acc));
        else if (esz < 8)
          acc &= (1ull << (esz * 8)) - 1;
      }
      if (op == RedOpKind::kAvg) {
        acc = IsSigned(d) ? static_cast<uint64_t>(SignExtend(d, acc) / n) : acc / n;
      }
      result = acc;
    }
    std::memcpy(out.data() + i * esz, &result, esz);
  }
  return out;
}

size_t InputElems(CollKind kind, size_t count, int n) {
  return (kind == CollKind::kReduceScatter || kind == CollKind::kAlltoAll ||
          kind == CollKind::kScatter)
             ? count * n
             : count;
}

size_t OutputElems(CollKind kind, size_t count, int n) {
  return (kind == CollKind::kAllGather || kind == CollKind::kAlltoAll || kind == CollKind::kGather)
             ? count * n
             : count;
}

Bytes ExpectedOutput(CollKind kind, DataType d, RedOpKind op, const std::vector<Bytes>& in,
                     const std::vector<uint64_t>& scalars, size_t count, int root, int rank) {
  int n = static_cast<int>(in.size());
  size_t esz = ElementSize(d);
  auto block = [&](int q, size_t first) {
    return Bytes(in[q].begin() + first * esz, in[q].begin() + (first + count) * esz);
  };
  Bytes out;
  switch (kind) {
    case CollKind::kAllReduce:
      return ReferenceReduce(d, op, in, scalars, 0, count);
    case CollKind::kReduce:
      return rank == root ? ReferenceReduce(d, op, in, scalars, 0, count) : Bytes();
    case CollKind::kReduceScatter:
      return ReferenceReduce(d, op, in, scalars, rank * count, count);
    case CollKind::kBroadcast:
      return block(root, 0);
    case CollKind::kScatter:
      return block(root, rank * count);
    case CollKind::kGather:
      if (rank != root) return Bytes();
      [[fallthrough]];
    case CollKind::kAllGather:
      for (int q = 0; q < n; ++q) {
        Bytes b = block(q, 0);
        out.insert(out.end(), b.begin(), b.end());
      }
      return out;
    case CollKind::kAlltoAll:
      for (int q = 0; q < n; ++q) {
        Bytes b = block(q, rank * count);
        out.insert(out.end(), b.begin(), b.end());
      }
      return out;
  }
  return out;
}

}  // namespace ddrr::emu::testing
