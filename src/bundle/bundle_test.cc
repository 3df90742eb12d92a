// Bundles: the rank-file copy (redacted header, payload frames left out, footer index rebased),
// a bundle's round trip through .tgz and .zip (the secret nowhere in it, the same findings), and
// hostile archives refused with nothing written outside the extraction folder.
#include "bundle/bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis/report.h"
#include "analysis/test_trace.h"
#include "trace/format.h"
#include "trace/record_encoders.h"
#include "trace/test_util.h"
#include "trace/trace_reader.h"
#include "trace/trace_writer.h"

namespace ddrr::bundle {
namespace {

namespace fs = std::filesystem;
using analysis::testing::ReadRun;
using analysis::testing::World;
using analysis::testing::WriteRun;

constexpr char kSecret[] = "hunter2-planted-secret";

std::string Slurp(const fs::path& p) { return trace::testing::ReadFile(p.string()); }

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ / "run");
    fs::create_directories(dir_ / "tmp");
  }

  // Three ranks, rank 2 one all-reduce short (a finding), a secret in every header.
  void WriteFaultyRun() {
    auto ranks = World(3, 0xc0, 0x5eed);
    for (uint32_t r = 0; r < 3; ++r) {
      ranks[r].SetEnv("NCCL_IB_AUTH_TOKEN", kSecret);
      ranks[r].SetEnv("NCCL_DEBUG", "INFO");
      ranks[r].SetHost("gpu-node-" + std::to_string(r));
      ranks[r].AllReduce(0xc0, 1024);
      if (r != 2) ranks[r].AllReduce(0xc0, 1024);
    }
    ASSERT_TRUE(WriteRun(ranks, (dir_ / "run").string()).ok());
  }

  std::vector<std::string> Findings(const std::string& run_dir) {
    auto checked = ReadRun(run_dir);
    EXPECT_TRUE(checked.ok());
    std::vector<std::string> out;
    if (checked.ok())
      for (const auto& f : checked->findings) out.push_back(analysis::FindingJson(f));
    return out;
  }

  trace::testing::TempDir tmp_;
  fs::path dir_ = tmp_.path();
};

// What a step window keeps: the setup, the window's events with their numbers, times and op
// numbers, the completion after the window of a call in it; not the completion inside the
// window of a call before it, nor the steps around it.
TEST_F(BundleTest, StepWindowKeepsTheSetupTheWindowAndItsCallsCompletions) {
  auto ranks = World(1, 0xc0, 0x5eed);
  analysis::testing::RankTrace& r = ranks[0];
  r.Mark(1);
  const uint64_t a = r.AllReduce(0xc0, 8);
  r.Mark(2);
  r.Completion(a);
  const uint64_t b = r.AllReduce(0xc0, 16);
  r.Mark(3);
  r.Completion(b);
  r.Completion(r.AllReduce(0xc0, 32));
  ASSERT_TRUE(WriteRun(ranks, (dir_ / "run").string()).ok());
  const std::string in = (dir_ / "run" / "rank-0.ddrr").string();
  const std::string out = (dir_ / "window.ddrr").string();
  report::Pseudonyms names;
  auto copied = CopyRankFileSteps(in, out, {}, false, names, {2, 2});
  ASSERT_TRUE(copied.ok()) << copied.status().message();

  struct Seen {
    std::string what;
    uint64_t time_ns, op_seq;
  };
  auto read = [](const std::string& path, trace::Footer* footer) {
    std::map<uint64_t, Seen> events;  // by seq
    auto reader = trace::RankFileReader::Open(path);
    EXPECT_TRUE(reader.ok());
    if (!reader.ok()) return events;
    trace::Event ev;
    trace::EventPosition pos;
    while ((*reader)->Next(&ev, &pos)) {
      std::string what = ev.has_mark() ? "mark " + std::to_string(ev.mark().step())
                         : ev.has_completion()
                             ? "completion of " + std::to_string(ev.completion().call_seq())
                         : ev.has_call() ? "call"
                                         : "other";
      events[pos.seq] = {what, pos.time_ns, ev.has_call() ? ev.call().op_seq() : 0};
    }
    EXPECT_TRUE((*reader)->problems().empty());
    if ((*reader)->footer()) *footer = *(*reader)->footer();
    return events;
  };
  trace::Footer original_footer, window_footer;
  const auto original = read(in, &original_footer);
  const auto window = read(out, &window_footer);
  EXPECT_EQ(copied->events_kept, window.size());
  EXPECT_EQ(copied->events_kept + copied->events_cut, original.size());
  EXPECT_EQ(copied->window_marks, 1u);
  std::vector<std::string> kept;
  for (const auto& [seq, e] : window) {
    ASSERT_TRUE(original.count(seq)) << seq;
    EXPECT_EQ(original.at(seq).what, e.what);
    EXPECT_EQ(original.at(seq).time_ns, e.time_ns);
    EXPECT_EQ(original.at(seq).op_seq, e.op_seq);
    if (seq > a - 2) kept.push_back(e.what);  // from the first mark on (a follows mark 1)
  }
  // Everything before the first mark is there (device, communicator).
  for (const auto& [seq, e] : original)
    if (seq < a - 1) EXPECT_TRUE(window.count(seq)) << e.what;
  EXPECT_EQ(kept,
            (std::vector<std::string>{"mark 2", "call", "completion of " + std::to_string(b)}));
  EXPECT_EQ(window_footer.end_reason(), original_footer.end_reason());
  EXPECT_NE(window_footer.end_reason(), trace::END_UNKNOWN);
}

TEST_F(BundleTest, RankCopyRedactsDropsPayloadsAndRebasesTheIndex) {
  trace::HeaderInfo h;
  h.rank = 0;
  h.world_size = 1;
  h.host = "node-a";
  h.argv = {"/home/alice/train.py", "--lr", "0.1"};
  h.env = {{"HF_TOKEN", kSecret}, {"NCCL_DEBUG", "INFO"}};
  h.capture.level = 2;
  trace::WriterOptions wo;
  wo.frame_raw_bytes = 64;  // many small frames
  const std::string in = (dir_ / "run" / "rank-0.ddrr").string();
  {
    auto w = trace::TraceWriter::Create(in, h, wo);
    ASSERT_TRUE(w.ok());
    for (uint64_t seq = 1; seq <= 200; ++seq) {
      trace::WireEncoder e;
      trace::EncodeMarkBody(e, "step", static_cast<int64_t>(seq));
      ASSERT_TRUE((*w)->Append(seq, 0, seq * 1000, e.view()).ok());
      if (seq % 50 == 0) {
        ASSERT_TRUE((*w)->AppendPayload(seq, std::string(4096, 'p')).ok());
        ASSERT_TRUE((*w)->Flush().ok());
      }
    }
    trace::FooterInfo f;
    f.end_reason = trace::kEndExit;
    ASSERT_TRUE((*w)->Close(f).ok());
  }
  report::Pseudonyms names;
  RedactOptions redact;
  redact.hosts = redact.paths = redact.cmdline = true;
  const std::string out = (dir_ / "copy.ddrr").string();
  auto copied = CopyRankFile(in, out, redact, /*keep_payloads=*/false, names);
  ASSERT_TRUE(copied.ok()) << copied.status().message();
  EXPECT_EQ(copied->payload_frames_dropped, 4u);
  EXPECT_EQ(copied->redacted_env, std::set<std::string>{"HF_TOKEN"});
  EXPECT_EQ(Slurp(out).find(kSecret), std::string::npos);
  EXPECT_EQ(Slurp(out).find("alice"), std::string::npos);

  auto r = trace::RankFileReader::Open(out);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ((*r)->header().env().at("HF_TOKEN"), "<redacted>");
  EXPECT_EQ((*r)->header().env().at("NCCL_DEBUG"), "INFO");
  EXPECT_EQ((*r)->header().host(), "host-1");
  EXPECT_EQ((*r)->header().argv(0), "path-1");
  EXPECT_EQ((*r)->header().argv(1), "arg-1");
  ASSERT_NE((*r)->footer(), nullptr);
  EXPECT_EQ((*r)->payload_frames(), 0u);
  EXPECT_FALSE((*r)->Payload(50).ok());
  // Every event is there, and seeking through the rebased index lands on the right one.
  trace::Event ev;
  trace::EventPosition pos;
  uint64_t n = 0;
  while ((*r)->Next(&ev, &pos)) ++n;
  EXPECT_EQ(n, 200u);
  EXPECT_TRUE((*r)->problems().empty()) << (*r)->problems()[0].ToString();
  (*r)->SeekToSeq(137);
  ASSERT_TRUE((*r)->Next(&ev, &pos));
  EXPECT_EQ(pos.seq, 137u);
  EXPECT_EQ(ev.mark().step(), 137);

  auto kept = CopyRankFile(in, (dir_ / "kept.ddrr").string(), {}, /*keep_payloads=*/true, names);
  ASSERT_TRUE(kept.ok());
  auto rk = trace::RankFileReader::Open((dir_ / "kept.ddrr").string());
  ASSERT_TRUE(rk.ok());
  auto payload = (*rk)->Payload(100);
  ASSERT_TRUE(payload.ok()) << payload.status().message();
  EXPECT_EQ(*payload, std::string(4096, 'p'));
}

TEST_F(BundleTest, RoundTripThroughTgzAndZip) {
  WriteFaultyRun();
  const auto original = Findings((dir_ / "run").string());
  ASSERT_FALSE(original.empty());
  auto run = trace::Run::Open((dir_ / "run").string());
  ASSERT_TRUE(run.ok());
  for (const char* name : {"bug.tgz", "bug.zip"}) {
    BundleOptions o;
    o.out_path = (dir_ / name).string();
    o.ddrr_version = "test";
    o.temp_dir = (dir_ / "tmp").string();
    auto s = CreateBundle(*run, o);
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_EQ(s->rank_files, 3u);
    EXPECT_EQ(s->redacted_env, std::set<std::string>{"NCCL_IB_AUTH_TOKEN"});
    EXPECT_EQ(s->archive_bytes, fs::file_size(o.out_path));
    EXPECT_TRUE(fs::is_empty(dir_ / "tmp")) << "staging left behind";

    auto b = ExtractedBundle::Open(o.out_path, (dir_ / "tmp").string());
    ASSERT_TRUE(b.ok()) << b.status().message();
    const fs::path top = fs::path((*b)->run_dir()).parent_path();
    EXPECT_EQ(top.filename(), "bug");
    for (const char* f : {"report.md", "manifest.json", "timeline.perfetto-trace"})
      EXPECT_TRUE(fs::exists(top / f)) << f;
    // The secret is in no file; the manifest's hashes are the files'.
    const std::string manifest = Slurp(top / "manifest.json");
    for (const auto& e : fs::recursive_directory_iterator(top)) {
      if (!e.is_regular_file()) continue;
      EXPECT_EQ(Slurp(e.path()).find(kSecret), std::string::npos) << e.path();
      if (e.path().filename() == "manifest.json") continue;
      auto sha = Sha256OfFile(e.path().string());
      ASSERT_TRUE(sha.ok());
      EXPECT_NE(manifest.find(*sha), std::string::npos) << e.path();
    }
    EXPECT_NE(manifest.find("\"env\": [\"NCCL_IB_AUTH_TOKEN\"]"), std::string::npos) << manifest;
    EXPECT_NE(Slurp(top / "report.md").find("## Findings of `ddrr check`"), std::string::npos);
    EXPECT_EQ(Findings((*b)->run_dir()), original);
    const std::string root = top.parent_path().parent_path().string();
    b->reset();
    EXPECT_FALSE(fs::exists(root)) << "extraction left behind";
  }
}

TEST_F(BundleTest, DamagedRankFileKeepsItsDamage) {
  // Rank 1's file is damaged in the middle: the bundle copies what is there, and the bundled run
  // reads as the run does (the same findings, the same damage skipped).
  auto ranks = World(2, 0xc0, 0x5eed);
  for (uint32_t r = 0; r < 2; ++r) {
    ranks[r].SetFrameBytes(256);
    for (int i = 0; i < 60; ++i) ranks[r].Completion(ranks[r].AllReduce(0xc0, 1024));
  }
  ASSERT_TRUE(WriteRun(ranks, (dir_ / "run").string()).ok());
  const std::string victim = (dir_ / "run" / "rank-1.ddrr").string();
  std::string bytes = Slurp(victim);
  bytes[bytes.size() / 2] ^= 0x5a;
  trace::testing::WriteFile(victim, bytes);
  const auto original = Findings((dir_ / "run").string());
  auto run = trace::Run::Open((dir_ / "run").string());
  ASSERT_TRUE(run.ok());
  BundleOptions o;
  o.out_path = (dir_ / "damaged.tgz").string();
  o.temp_dir = (dir_ / "tmp").string();
  auto s = CreateBundle(*run, o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->rank_files, 2u);
  auto b = ExtractedBundle::Open(o.out_path, o.temp_dir);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(Findings((*b)->run_dir()), original);
  auto problems = [](const std::string& dir) {
    auto r = trace::RankFileReader::Open(dir + "/rank-1.ddrr");
    if (!r.ok()) {
      ADD_FAILURE() << r.status().ToString();
      return std::make_pair(uint64_t{0}, size_t{0});
    }
    trace::Event ev;
    trace::EventPosition pos;
    uint64_t events = 0;
    while ((*r)->Next(&ev, &pos)) ++events;
    return std::make_pair(events, (*r)->problems().size());
  };
  const auto before = problems((dir_ / "run").string());
  EXPECT_GT(before.second, 0u) << "the damage was not noticed";
  EXPECT_EQ(problems((*b)->run_dir()), before);
}

TEST_F(BundleTest, KnownSha256) {
  const fs::path p = dir_ / "abc";
  std::ofstream(p) << "abc";
  auto sha = Sha256OfFile(p.string());
  ASSERT_TRUE(sha.ok());
  EXPECT_EQ(*sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(BundleTest, RanksAndBadNames) {
  WriteFaultyRun();
  auto run = trace::Run::Open((dir_ / "run").string());
  ASSERT_TRUE(run.ok());
  BundleOptions o;
  o.temp_dir = (dir_ / "tmp").string();
  o.out_path = (dir_ / "bug.tar.zst").string();
  auto bad = CreateBundle(*run, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(".tgz, .tar.gz or .zip"), std::string::npos);
  o.out_path = (dir_ / "two.tar.gz").string();
  o.ranks = {0, 2};
  o.timeline = false;
  auto s = CreateBundle(*run, o);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->rank_files, 2u);
  EXPECT_EQ(s->files.size(), 3u);  // two rank files and report.md; the manifest is not listed
  o.ranks = {7};
  EXPECT_FALSE(CreateBundle(*run, o).ok());
}

// Writes a .tgz with one entry as `make` sets it up.
template <typename Make>
void HostileTgz(const std::string& path, Make&& make) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  archive_entry* e = archive_entry_new();
  archive_entry_set_perm(e, 0644);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, 4);
  make(e);
  ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
  if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) == 4)
    archive_write_data(a, "evil", 4);
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
}

TEST_F(BundleTest, HostileArchivesAreRefused) {
  struct Case {
    const char* what;
    std::function<void(archive_entry*)> make;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"dotdot", [](archive_entry* e) { archive_entry_set_pathname(e, "b/../../escaped"); },
       "climbs out"},
      {"absolute",
       [this](archive_entry* e) {
         archive_entry_set_pathname(e, (dir_ / "escaped").string().c_str());
       },
       "absolute path"},
      {"symlink",
       [](archive_entry* e) {
         archive_entry_set_pathname(e, "b/link");
         archive_entry_set_filetype(e, AE_IFLNK);
         archive_entry_set_size(e, 0);
         archive_entry_set_symlink(e, "/etc");
       },
       "is a link"},
      {"device",
       [](archive_entry* e) {
         archive_entry_set_pathname(e, "b/dev");
         archive_entry_set_filetype(e, AE_IFCHR);
         archive_entry_set_size(e, 0);
       },
       "not a regular file"},
  };
  for (const Case& c : cases) {
    const std::string path = (dir_ / (std::string(c.what) + ".tgz")).string();
    HostileTgz(path, c.make);
    const std::string dest = (dir_ / "tmp" / c.what).string();
    Status st = SafeExtract(path, dest);
    ASSERT_FALSE(st.ok()) << c.what;
    EXPECT_NE(st.message().find(c.says), std::string::npos) << st.message();
    EXPECT_FALSE(fs::exists(dest)) << c.what;
    EXPECT_FALSE(fs::exists(dir_ / "escaped")) << c.what;
  }
  // Over the size limit (a small limit stands in for a huge member).
  const std::string big = (dir_ / "big.tgz").string();
  HostileTgz(big, [](archive_entry* e) { archive_entry_set_pathname(e, "b/rank-0.ddrr"); });
  ExtractLimits small;
  small.max_entry_bytes = 3;
  Status st = SafeExtract(big, (dir_ / "tmp" / "big").string(), small);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("over the limit"), std::string::npos) << st.message();
  // Not an archive at all.
  std::ofstream(dir_ / "junk.tgz") << "not an archive";
  EXPECT_FALSE(ExtractedBundle::Open((dir_ / "junk.tgz").string(), (dir_ / "tmp").string()).ok());
}

}  // namespace
}  // namespace ddrr::bundle
