// Helpers shared by the recorder tests: a recorder config for a scratch directory and reading a
// rank file back.
#pragma once

#include <string>
#include <vector>

#include "ddrr/trace.pb.h"
#include "record/recorder.h"
#include "trace/trace_reader.h"

namespace ddrr::record {

inline RecorderConfig TestConfig(const std::string& dir, uint32_t rank = 0) {
  RecorderConfig c;
  c.dir = dir;
  c.header.rank = rank;
  c.header.world_size = 1;
  c.header.run_id = "record-test";
  c.wal_bytes = 4 << 20;
  c.seal_interval_ms = 5;
  return c;
}

inline std::string KernelsBody(uint64_t stream, uint64_t count) {
  trace::WireEncoder e;
  trace::EncodeKernelLaunchesBody(e, stream, count);
  return {reinterpret_cast<const char*>(e.data()), e.size()};
}

struct ReadBack {
  std::vector<trace::Event> events;
  std::vector<trace::EventPosition> positions;
  bool has_footer = false;
  trace::Footer footer;
  size_t problems = 0;
};

inline ReadBack ReadRank(const std::string& path) {
  ReadBack out;
  auto r = trace::RankFileReader::Open(path);
  if (!r.ok()) return out;
  trace::Event ev;
  trace::EventPosition pos;
  while ((*r)->Next(&ev, &pos)) {
    out.events.push_back(ev);
    out.positions.push_back(pos);
  }
  if ((*r)->footer()) {
    out.has_footer = true;
    out.footer = *(*r)->footer();
  }
  out.problems = (*r)->problems().size();
  return out;
}

}  // namespace ddrr::record
