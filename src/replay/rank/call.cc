#include "replay/rank/call.h"

#include "replay/rank/replayer.h"
#include "trace/event_printer.h"

namespace ddrr::replay {
namespace {

std::string Hex(uint64_t v) { return trace::EventPrinter::Hex(v); }

}  // namespace

void Call::MarkUnresolved(const std::string& what) {
  if (unresolved_.empty()) unresolved_ = what;
}

ncclComm_t Call::Comm(uint64_t recorded) {
  if (recorded == 0) return nullptr;  // the program passed NULL: NCCL says what it said then
  if (auto c = replayer_.FindComm(recorded)) return c->live;
  MarkUnresolved(api_.comm_key() && !replayer_.CommReplayed(api_.comm_key())
                     ? "its communicator is not replayed"
                     : "communicator " + Hex(recorded) + " was never created in this replay");
  return nullptr;
}

cudaStream_t Call::Stream(uint64_t recorded) {
  if (auto s = replayer_.Stream(recorded)) return *s;
  MarkUnresolved("cannot create a stream for recorded stream " + Hex(recorded));
  return nullptr;
}

cudaEvent_t Call::Event(uint64_t recorded) {
  if (auto e = replayer_.Event(recorded)) return *e;
  MarkUnresolved("cannot create an event for recorded event " + Hex(recorded));
  return nullptr;
}

void* Call::Registration(uint64_t recorded) {
  if (recorded == 0) return nullptr;
  if (auto r = replayer_.Registration(recorded)) return *r;
  MarkUnresolved("registration " + Hex(recorded) + " was never made in this replay");
  return nullptr;
}

ncclWindow_t Call::Window(uint64_t recorded) {
  if (recorded == 0) return nullptr;
  if (auto w = replayer_.Window(recorded)) return *w;
  MarkUnresolved("window " + Hex(recorded) + " was never registered in this replay");
  return nullptr;
}

ncclRedOp_t Call::RedOp(int64_t recorded) {
  if (auto op = replayer_.RedOp(recorded)) return *op;
  MarkUnresolved("reduction op " + std::to_string(recorded) + " was never created in this replay");
  return ncclSum;
}

void* Call::Pointer(uint64_t recorded) {
  if (auto p = replayer_.Translate(recorded)) return *p;
  MarkUnresolved("address " + Hex(recorded) + " lies in no replayed allocation");
  return nullptr;
}

ncclConfig_t* Call::Config(const trace::NcclConfig* recorded) {
  if (recorded == nullptr) return nullptr;
  config_ = NCCL_CONFIG_INITIALIZER;
  const trace::NcclConfig& r = *recorded;
  if (r.has_blocking()) config_.blocking = r.blocking();
  if (r.has_cga_cluster_size()) config_.cgaClusterSize = r.cga_cluster_size();
  if (r.has_min_ctas()) config_.minCTAs = r.min_ctas();
  if (r.has_max_ctas()) config_.maxCTAs = r.max_ctas();
  if (r.has_net_name()) config_.netName = replayer_.Keep(r.net_name());
  if (r.has_split_share()) config_.splitShare = r.split_share();
  if (r.has_traffic_class()) config_.trafficClass = r.traffic_class();
  if (r.has_comm_name()) config_.commName = replayer_.Keep(r.comm_name());
  if (r.has_collnet_enable()) config_.collnetEnable = r.collnet_enable();
  if (r.has_cta_policy()) config_.CTAPolicy = r.cta_policy();
  if (r.has_shrink_share()) config_.shrinkShare = r.shrink_share();
  if (r.has_nvls_ctas()) config_.nvlsCTAs = r.nvls_ctas();
  if (r.has_n_channels_per_net_peer()) config_.nChannelsPerNetPeer = r.n_channels_per_net_peer();
  if (r.has_nvlink_centric_sched()) config_.nvlinkCentricSched = r.nvlink_centric_sched();
  return &config_;
}

void Call::BindStream(uint64_t recorded, cudaStream_t live) {
  replayer_.BindStream(recorded, live);
}
void Call::BindEvent(uint64_t recorded, cudaEvent_t live) { replayer_.BindEvent(recorded, live); }
void Call::BindRegistration(uint64_t recorded, void* live) {
  replayer_.BindRegistration(recorded, live);
}
void Call::BindWindow(uint64_t recorded, ncclWindow_t live) {
  replayer_.BindWindow(recorded, live);
}

}  // namespace ddrr::replay
