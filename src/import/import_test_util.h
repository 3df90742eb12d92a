// Test helpers shared by the importers' tests: check an imported run as `ddrr check` does and
// assert its first finding.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analysis/test_trace.h"
#include "import/import.h"

namespace ddrr::import {

inline std::vector<analysis::Finding> CheckDir(const std::string& dir) {
  auto checked = analysis::testing::ReadRun(dir);
  EXPECT_TRUE(checked.ok()) << checked.status().ToString();
  return checked.ok() ? std::move(checked->findings) : std::vector<analysis::Finding>{};
}

// Use under ASSERT_NO_FATAL_FAILURE: later lines may read f[0].
inline void ExpectFirst(const std::vector<analysis::Finding>& f, analysis::FindingKind kind,
                        const std::vector<int64_t>& ranks, uint64_t op_seq) {
  ASSERT_FALSE(f.empty());
  EXPECT_STREQ(analysis::KindName(f[0].kind), analysis::KindName(kind)) << f[0].message;
  EXPECT_EQ(f[0].ranks, ranks) << f[0].message;
  EXPECT_EQ(f[0].op_seq, op_seq) << f[0].message;
}

inline bool Noted(const ImportResult& r, const std::string& text) {
  for (const std::string& n : r.notes)
    if (n.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace ddrr::import
