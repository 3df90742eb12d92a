#include "emu/direct.h"

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "emu/reduce.h"

namespace ddrr::emu {
namespace {

// Reductions land here first: small enough to stay in L1/L2 while it is copied to every
// destination, and it keeps in-place outputs from overwriting inputs mid-reduction.
constexpr size_t kScratchBytes = size_t{32} << 10;

// Once a collective writes more than the last-level cache holds (all ranks' outputs together),
// outputs bypass the cache: they would not stay there anyway, and ordinary stores first read
// every destination line (write allocate), a third more memory traffic than the copy itself.
// Below that, outputs stay cached for the peers and the next operation.
size_t StreamingBytes() {
  static const size_t bytes = [] {
    // sysfs gives the cache one core shares (sysconf's figure may add up every CCD's).
    size_t kib = 0;
    if (FILE* f = std::fopen("/sys/devices/system/cpu/cpu0/cache/index3/size", "r")) {
      if (std::fscanf(f, "%zuK", &kib) != 1) kib = 0;
      std::fclose(f);
    }
    return kib > 0 ? kib << 10 : size_t{32} << 20;
  }();
  return bytes;
}

// Copies with non-temporal stores where the CPU has them. Weakly ordered: FinishStreaming()
// must run before peers are told the data is there.
void StreamingCopy(char* dst, const char* src, size_t bytes) {
#if defined(__x86_64__)
  size_t head = (16 - (reinterpret_cast<uintptr_t>(dst) & 15)) & 15;
  head = std::min(head, bytes);
  std::memcpy(dst, src, head);
  dst += head, src += head, bytes -= head;
  size_t body = bytes & ~size_t{63};
  for (size_t i = 0; i < body; i += 64) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 16));
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 32));
    __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 48));
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i), a);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i + 16), b);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i + 32), c);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i + 48), d);
  }
  std::memcpy(dst + body, src + body, bytes - body);
#else
  std::memcpy(dst, src, bytes);
#endif
}

void FinishStreaming() {
#if defined(__x86_64__)
  _mm_sfence();
#endif
}

// How one share writes its outputs, decided once per share from its size.
struct Writer {
  bool streaming;
  void Copy(char* dst, const char* src, size_t bytes) const {
    if (bytes == 0 || dst == src) return;
    if (streaming) {
      StreamingCopy(dst, src, bytes);
    } else {
      std::memcpy(dst, src, bytes);
    }
  }
};

// Bytes the collective writes, all ranks' outputs together.
size_t OutputBytes(const CollArgs& a, int n) {
  bool root_only = a.kind == CollKind::kReduce || a.kind == CollKind::kGather;
  return RecvElems(a, n) * ElementSize(a.dtype) * (root_only ? 1 : n);
}

bool Overlap(const void* a, const void* b, size_t bytes) {
  auto x = reinterpret_cast<uintptr_t>(a), y = reinterpret_cast<uintptr_t>(b);
  return x < y + bytes && y < x + bytes;
}

// Reduces `elems` elements at `in_offset` (bytes) of every rank's send buffer and writes the
// result at `out_offset` of each buffer in `outs`.
void ReduceInto(const Writer& w, const CollArgs& a, int nranks, const uint64_t* scalars,
                const DirectBuffers& b, size_t in_offset, const std::vector<char*>& outs,
                size_t out_offset, size_t elems) {
  thread_local std::vector<char> scratch(kScratchBytes);
  thread_local std::vector<const void*> inputs;
  size_t esz = ElementSize(a.dtype);
  size_t piece = kScratchBytes / esz;
  inputs.resize(nranks);
  for (size_t done = 0; done < elems; done += piece) {
    size_t len = std::min(piece, elems - done);
    size_t at = done * esz;
    for (int q = 0; q < nranks; ++q) inputs[q] = b.send[q] + in_offset + at;
    // Cache-resident outputs: reduce straight into the first and copy it on while it is hot.
    // Not when that output overlaps an input (in place), nor when streaming, which must not
    // read the destination.
    char* first = outs[0] + out_offset + at;
    bool direct = !w.streaming;
    for (int q = 0; q < nranks && direct; ++q) {
      direct = !Overlap(first, inputs[q], len * esz);
    }
    const char* result = direct ? first : scratch.data();
    ReduceRanks(a.dtype, a.op, inputs.data(), scalars, nranks, const_cast<char*>(result), len);
    for (char* out : outs) w.Copy(out + out_offset + at, result, len * esz);
  }
}

}  // namespace

size_t SendElems(const CollArgs& a, int n) {
  switch (a.kind) {
    case CollKind::kReduceScatter:
    case CollKind::kAlltoAll:
    case CollKind::kScatter:
      return a.count * n;
    default:
      return a.count;
  }
}

size_t RecvElems(const CollArgs& a, int n) {
  switch (a.kind) {
    case CollKind::kAllGather:
    case CollKind::kAlltoAll:
    case CollKind::kGather:
      return a.count * n;
    default:
      return a.count;
  }
}

bool PeersReadSend(CollKind kind, int rank, int root) {
  switch (kind) {
    case CollKind::kAllReduce:
    case CollKind::kReduce:
    case CollKind::kReduceScatter:
      return true;
    case CollKind::kBroadcast:
    case CollKind::kScatter:
      return rank == root;
    case CollKind::kAllGather:
    case CollKind::kAlltoAll:
    case CollKind::kGather:
      return false;  // each rank pushes its own input
  }
  return false;
}

bool PeersWriteRecv(CollKind kind, int rank, int root) {
  switch (kind) {
    case CollKind::kAllReduce:
    case CollKind::kAllGather:
    case CollKind::kAlltoAll:
    case CollKind::kBroadcast:
      return true;
    case CollKind::kReduce:
    case CollKind::kGather:
      return rank == root;
    case CollKind::kReduceScatter:
    case CollKind::kScatter:
      return false;  // each rank fills its own output
  }
  return false;
}

bool DirectSafe(const CollArgs& a, int n) {
  if (a.kind != CollKind::kAlltoAll) return true;
  size_t bytes = a.count * n * ElementSize(a.dtype);
  auto s = reinterpret_cast<uintptr_t>(a.send), r = reinterpret_cast<uintptr_t>(a.recv);
  return s + bytes <= r || r + bytes <= s;
}

void RunDirectShare(const CollArgs& a, int me, int n, const uint64_t* scalars,
                    const DirectBuffers& b) {
  Writer w{OutputBytes(a, n) >= StreamingBytes()};
  size_t esz = ElementSize(a.dtype);
  size_t block = a.count * esz;  // one rank's block, for the kinds that have blocks
  // Reductions and broadcast split the count into n contiguous slices, one per rank.
  size_t lo = a.count * me / n, hi = a.count * (me + 1) / n;
  switch (a.kind) {
    case CollKind::kAllReduce:
      ReduceInto(w, a, n, scalars, b, lo * esz, b.recv, lo * esz, hi - lo);
      break;
    case CollKind::kReduce:
      ReduceInto(w, a, n, scalars, b, lo * esz, {b.recv[a.root]}, lo * esz, hi - lo);
      break;
    case CollKind::kReduceScatter:
      ReduceInto(w, a, n, scalars, b, me * block, {b.recv[me]}, 0, a.count);
      break;
    case CollKind::kBroadcast:
      for (int q = 0; q < n; ++q) {
        w.Copy(b.recv[q] + lo * esz, b.send[a.root] + lo * esz, (hi - lo) * esz);
      }
      break;
    case CollKind::kAllGather:
      for (int q = 0; q < n; ++q) w.Copy(b.recv[q] + me * block, b.send[me], block);
      break;
    case CollKind::kAlltoAll:
      for (int q = 0; q < n; ++q) w.Copy(b.recv[q] + me * block, b.send[me] + q * block, block);
      break;
    case CollKind::kGather:
      w.Copy(b.recv[a.root] + me * block, b.send[me], block);
      break;
    case CollKind::kScatter:
      w.Copy(b.recv[me], b.send[a.root] + me * block, block);
      break;
  }
  if (w.streaming) FinishStreaming();
}

}  // namespace ddrr::emu
