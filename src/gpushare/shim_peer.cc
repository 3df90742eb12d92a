// Peer access and peer copies. Two virtual devices on one GPU share its memory: access is
// always possible, enabling or disabling it does nothing, and a peer copy between them is a copy
// within the GPU. Pairs on different GPUs map to the real pair; since several virtual pairs then
// share one real pair, the shim counts who enabled it, so that the second virtual pair's enable
// succeeds (the runtime would say "already enabled") and the real access stays on until the last
// virtual pair disables it.
#include <cuda_runtime_api.h>

#include <set>
#include <utility>

#include "common/mutex.h"
#include "gpushare/shim_state.h"

using ddrr::Mutex;
using ddrr::MutexLock;
using ddrr::gpushare::CurrentVirtualDevice;
using ddrr::gpushare::IsVirtualDevice;
using ddrr::gpushare::Map;
using ddrr::gpushare::ShareOneGpu;

namespace {

using Pair = std::pair<int, int>;  // (current device, peer device)

Mutex g_peers_mu;
std::set<Pair> g_enabled GUARDED_BY(g_peers_mu);  // virtual pairs on different GPUs

Pair RealPair(const Pair& p) { return {Map().RealOf(p.first), Map().RealOf(p.second)}; }

// Another enabled virtual pair uses the same real pair.
bool RealPairHeldByOther(const Pair& pair) EXCLUSIVE_LOCKS_REQUIRED(g_peers_mu) {
  for (const Pair& other : g_enabled) {
    if (other != pair && RealPair(other) == RealPair(pair)) return true;
  }
  return false;
}

}  // namespace

// The library is built with hidden visibility; only these are exported (and the version
// script keeps them to cuda*).
#pragma GCC visibility push(default)
extern "C" {

cudaError_t cudaDeviceCanAccessPeer(int* can_access, int device, int peer_device) {
  DDRR_GPUSHARE_NEXT(cudaDeviceCanAccessPeer);
  if (can_access != nullptr && ShareOneGpu(device, peer_device)) {
    *can_access = 1;
    return cudaSuccess;
  }
  return next(can_access, Map().RealOf(device), Map().RealOf(peer_device));
}

cudaError_t cudaDeviceEnablePeerAccess(int peer_device, unsigned int flags) {
  DDRR_GPUSHARE_NEXT(cudaDeviceEnablePeerAccess);
  int current = -1;
  if (CurrentVirtualDevice(&current) == cudaSuccess && ShareOneGpu(current, peer_device)) {
    return cudaSuccess;
  }
  if (current < 0 || !IsVirtualDevice(peer_device)) return next(Map().RealOf(peer_device), flags);
  const Pair pair{current, peer_device};
  MutexLock lock(&g_peers_mu);
  cudaError_t err = next(Map().RealOf(peer_device), flags);
  if (err == cudaErrorPeerAccessAlreadyEnabled && !g_enabled.count(pair) &&
      RealPairHeldByOther(pair)) {
    static const auto get_last_error =
        reinterpret_cast<decltype(&cudaGetLastError)>(ddrr::gpushare::FindNext("cudaGetLastError"));
    if (get_last_error != nullptr) get_last_error();  // enabled for this pair's first time
    err = cudaSuccess;
  }
  if (err == cudaSuccess) g_enabled.insert(pair);
  return err;
}

cudaError_t cudaDeviceDisablePeerAccess(int peer_device) {
  DDRR_GPUSHARE_NEXT(cudaDeviceDisablePeerAccess);
  int current = -1;
  if (CurrentVirtualDevice(&current) == cudaSuccess && ShareOneGpu(current, peer_device)) {
    return cudaSuccess;
  }
  if (current < 0 || !IsVirtualDevice(peer_device)) return next(Map().RealOf(peer_device));
  const Pair pair{current, peer_device};
  MutexLock lock(&g_peers_mu);
  if (g_enabled.erase(pair) > 0 && RealPairHeldByOther(pair)) return cudaSuccess;
  return next(Map().RealOf(peer_device));
}

cudaError_t cudaDeviceGetP2PAttribute(int* value, cudaDeviceP2PAttr attr, int src_device,
                                      int dst_device) {
  DDRR_GPUSHARE_NEXT(cudaDeviceGetP2PAttribute);
  if (value != nullptr && ShareOneGpu(src_device, dst_device)) {
    switch (attr) {
      case cudaDevP2PAttrPerformanceRank:
        *value = 0;  // the best rank there is: the same memory
        return cudaSuccess;
      case cudaDevP2PAttrAccessSupported:
      case cudaDevP2PAttrNativeAtomicSupported:
      case cudaDevP2PAttrCudaArrayAccessSupported:
        *value = 1;
        return cudaSuccess;
      case cudaDevP2PAttrOnlyPartialNativeAtomicSupported:
        *value = 0;  // all of them are native
        return cudaSuccess;
      default:
        break;  // an attribute this shim does not know: the runtime's own answer
    }
  }
  return next(value, attr, Map().RealOf(src_device), Map().RealOf(dst_device));
}

cudaError_t cudaMemcpyPeer(void* dst, int dst_device, const void* src, int src_device,
                           size_t count) {
  DDRR_GPUSHARE_NEXT(cudaMemcpyPeer);
  return next(dst, Map().RealOf(dst_device), src, Map().RealOf(src_device), count);
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device,
                                size_t count, cudaStream_t stream) {
  DDRR_GPUSHARE_NEXT(cudaMemcpyPeerAsync);
  return next(dst, Map().RealOf(dst_device), src, Map().RealOf(src_device), count, stream);
}

cudaError_t cudaMemcpy3DPeer(const cudaMemcpy3DPeerParms* params) {
  DDRR_GPUSHARE_NEXT(cudaMemcpy3DPeer);
  if (params == nullptr) return next(params);
  cudaMemcpy3DPeerParms real = *params;
  real.srcDevice = Map().RealOf(params->srcDevice);
  real.dstDevice = Map().RealOf(params->dstDevice);
  return next(&real);
}

cudaError_t cudaMemcpy3DPeerAsync(const cudaMemcpy3DPeerParms* params, cudaStream_t stream) {
  DDRR_GPUSHARE_NEXT(cudaMemcpy3DPeerAsync);
  if (params == nullptr) return next(params, stream);
  cudaMemcpy3DPeerParms real = *params;
  real.srcDevice = Map().RealOf(params->srcDevice);
  real.dstDevice = Map().RealOf(params->dstDevice);
  return next(&real, stream);
}

}  // extern "C"
#pragma GCC visibility pop
