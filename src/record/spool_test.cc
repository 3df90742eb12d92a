#include "record/spool.h"

#include <gtest/gtest.h>

#include <cstring>

#include "trace/test_util.h"

namespace ddrr::record {
namespace {

using trace::testing::TempDir;

TEST(SpoolTest, ReserveCommitWalkAcrossTheWrap) {
  TempDir dir;
  auto s = Spool::Create(dir.File("rank-0.spool"), 0, 4096, "preamble");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Spool& spool = **s;
  EXPECT_EQ(spool.preamble(), "preamble");
  uint64_t pos = 0, seq = 1;
  // 100 rounds of 3 records of 200 bytes each push the ring around many times.
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 3; ++i) {
      RecordHeader* r = spool.ReserveLocked(0, 200 - 64, true);
      ASSERT_NE(r, nullptr);
      EXPECT_EQ(r->seq, seq++);
      r->body_len = 200 - 64;
      r->label_len = 0;
      r->flags = 0;
      Spool::Commit(r);
    }
    const uint64_t head = spool.header().head.load();
    int seen = 0;
    while (pos < head) {
      const RecordHeader* rec = nullptr;
      uint64_t next = 0;
      const Spool::Slot slot = spool.At(pos, &rec, &next);
      ASSERT_NE(slot, Spool::Slot::kMalformed) << pos;
      ASSERT_NE(slot, Spool::Slot::kNotCommitted) << pos;
      if (slot == Spool::Slot::kRecord) ++seen;
      pos = next;
    }
    EXPECT_EQ(seen, 3);
    spool.Release(pos);
  }
  EXPECT_EQ(spool.header().dropped.load(), 0u);
}

TEST(SpoolTest, FullRingDropsAndCounts) {
  TempDir dir;
  auto s = Spool::Create(dir.File("rank-0.spool"), 0, 4096, "p");
  ASSERT_TRUE(s.ok());
  int ok = 0;
  for (int i = 0; i < 100; ++i) ok += (*s)->ReserveLocked(0, 100, true) != nullptr;
  EXPECT_EQ(ok, 4096 / 168);
  EXPECT_EQ((*s)->header().dropped.load(), static_cast<uint64_t>(100 - ok));
  EXPECT_EQ((*s)->ReserveLocked(0, 3000, true), nullptr);  // over half the ring: never fits
}

TEST(SpoolTest, OpenReadOnlyRefusesGarbage) {
  TempDir dir;
  trace::testing::WriteFile(dir.File("short.spool"), "xyz");
  auto a = Spool::OpenReadOnly(dir.File("short.spool"));
  EXPECT_EQ(a.status().code(), StatusCode::kCorruption);
  EXPECT_NE(a.status().message().find("too short"), std::string::npos);
  trace::testing::WriteFile(dir.File("junk.spool"), std::string(10000, 'j'));
  auto b = Spool::OpenReadOnly(dir.File("junk.spool"));
  EXPECT_EQ(b.status().code(), StatusCode::kCorruption);
  EXPECT_NE(b.status().message().find("bad magic"), std::string::npos);
  EXPECT_EQ(Spool::OpenReadOnly(dir.File("none.spool")).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ddrr::record
