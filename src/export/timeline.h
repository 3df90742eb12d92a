// The timeline of a run for trace viewers (ddrr export, docs/EXPORT.md): one process track per
// rank; a thread track per recorded thread with every API call as a slice; a track per stream
// with each collective or send/recv from the moment the stream could start it (its issue, or the
// previous op's completion on that stream) to its completion, ops of one group as one slice;
// flows linking the same collective of one communicator across ranks, and each send to its
// receive; marks and recorder notes as instants; kernel launches per stream and bytes per
// communicator as counters; findings of `ddrr check` as instants on the ranks they blame.
//
// Ranks are read one after another and written as they are read: memory holds one rank's
// in-flight ops, not the run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/finding.h"
#include "analysis/run_model.h"
#include "common/status.h"
#include "export/timeline_sink.h"
#include "trace/run.h"

namespace ddrr::timeline {

struct TimelineStats {
  uint64_t ranks = 0;
  uint64_t tracks = 0;
  uint64_t slices = 0;
  uint64_t flow_slices = 0;  // slices that carry a flow id
  uint64_t instants = 0;
  uint64_t counters = 0;
  uint64_t bytes = 0;  // written to the sink
};

// Writes the timeline of `run`, already scanned into `model` (its readable ranks, in order),
// with `findings` from analysis::CheckModel. The run's readers are rewound and read again.
StatusOr<TimelineStats> WriteTimeline(trace::Run& run, const analysis::RunModel& model,
                                      const std::vector<analysis::Finding>& findings,
                                      TimelineSink& sink);

// Models and checks `run`, then writes its timeline to `out_path` in `format`. Fails when the
// file cannot be written (the message names it) or the run cannot be scanned.
StatusOr<TimelineStats> ExportTimeline(trace::Run& run, Format format, const std::string& out_path,
                                       const std::string& temp_dir = "");

// Where ExportTimeline writes a file output until it is complete (then renamed to `out_path`).
std::string PartialPath(const std::string& out_path);

// "perfetto" / "json"; false for anything else.
bool ParseFormat(const std::string& name, Format* format);

}  // namespace ddrr::timeline
