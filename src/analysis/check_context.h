// CheckContext: what every check reads (the ranks' scans, the communicator model, the op store)
// and the helpers that turn members and records into a finding's sides, so each check file
// holds only its own rule.
#pragma once

#include <string>
#include <vector>

#include "analysis/comm_model.h"
#include "analysis/finding.h"
#include "analysis/op_store.h"
#include "analysis/rank_scan.h"

namespace ddrr::analysis {

struct CheckContext {
  const std::vector<RankScan>& scans;
  const CommModel& model;
  OpStore& store;
  // Every rank of the world left a readable file: a member absent from a communicator is then
  // really absent, not just unrecorded.
  bool world_complete = false;
  int64_t world_size = 0;
  std::vector<Finding>& out;
  std::vector<std::string>& notes;  // things the reader should know that are not findings
};

// Communicator fields of a finding (key, size, parent).
void SetComm(Finding& f, const Comm& c);

// One member's side: its call (or none), its comm rank and the last op it reached.
RankCall SideOf(const Comm& c, const Member& m, const OpRecord* rec, std::string note);
// The side of a rank with a call quoted from its scan (failures, setup).
RankCall SideOf(const RankScan& s, int32_t member, const CallSummary* call, std::string note);

// The member's side quoting the call that created its communicator handle.
RankCall CreationSide(const Comm& c, const Member& m, std::string note);

// 16 hex digits, as communicator keys and digests are printed.
std::string Hex16(uint64_t v);

// Ascending, without duplicates.
void SortUnique(std::vector<int64_t>& ranks);

// "12.3 ms", "850 us", "2.10 s"
std::string DurationText(int64_t ns);

}  // namespace ddrr::analysis
