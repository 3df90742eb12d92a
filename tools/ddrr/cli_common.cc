#include "cli_common.h"

#include <errno.h>  // program_invocation_name
#include <stdlib.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <set>
#include <sstream>

#ifdef DDRR_HAVE_RECORDER
#include "record/salvage.h"
#endif
#ifdef DDRR_HAVE_BUNDLE
#include "bundle/bundle.h"
#endif

namespace ddrr::cli {

namespace {

constexpr size_t kHelpWidth = 100;

// Wraps each line of `text` at word boundaries to `width` columns; a line that starts with a
// space (an example command) is kept whole.
std::string Wrap(const std::string& text, size_t width) {
  std::string out;
  std::istringstream lines(text);
  std::string line;
  for (bool first = true; std::getline(lines, line); first = false) {
    if (!first) out += '\n';
    if (line.size() <= width || line[0] == ' ') {
      out += line;
      continue;
    }
    std::istringstream words(line);
    std::string word;
    size_t column = 0;
    while (words >> word) {
      if (column > 0 && column + 1 + word.size() > width) {
        out += '\n';
        column = 0;
      } else if (column > 0) {
        out += ' ';
        ++column;
      }
      out += word;
      column += word.size();
    }
  }
  return out;
}

// "  NAME  DESCRIPTION": the description from `column` on, below NAME when fewer than two spaces
// would part them (help2man splits an option from its description there).
std::string Row(const std::string& name, const std::string& description, size_t column) {
  std::string row = "  " + name;
  if (row.size() + 2 > column)
    row += "\n" + std::string(column, ' ');
  else
    row += std::string(column - row.size(), ' ');
  for (const char c : description) {
    row += c;
    if (c == '\n') row += std::string(column, ' ');
  }
  return row + "\n";
}

}  // namespace

std::string HelpFormatter::make_option(const CLI::Option* opt, bool is_positional) const {
  return Row(make_option_name(opt, is_positional) + make_option_opts(opt), make_option_desc(opt),
             get_column_width());
}

std::string HelpFormatter::make_option_opts(const CLI::Option* opt) const {
  std::string opts;
  if (opt->get_type_size() != 0) {  // not a flag
    opts += " " + opt->get_type_name();
    if (opt->get_expected_max() == CLI::detail::expected_max_vector_size) opts += " ...";
    if (opt->get_required())
      opts += " REQUIRED";
    else if (!opt->get_default_str().empty())
      opts += " [default: " + opt->get_default_str() + "]";
  }
  if (!opt->get_envname().empty()) opts += " [env: " + opt->get_envname() + "]";
  return opts;
}

std::string HelpFormatter::make_option_desc(const CLI::Option* opt) const {
  return Wrap(opt->get_description(), kHelpWidth - get_column_width());
}

std::string HelpFormatter::make_description(const CLI::App* app) const {
  const std::string description = CLI::Formatter::make_description(app);
  return description.empty() ? "" : Wrap(description, kHelpWidth) + "\n\n";
}

std::string HelpFormatter::make_subcommand(const CLI::App* sub) const {
  const std::string& description = sub->get_description();
  return Row(sub->get_name(), description.substr(0, description.find('\n')), get_column_width());
}

std::string HelpFormatter::make_footer(const CLI::App* app) const {
  if (app->get_footer().empty()) return "";
  return Wrap(app->get_footer(), kHelpWidth) + "\n";
}

namespace {

// The footer of `ddrr CMD --help`: the paragraphs `help` has, a blank line between two.
std::string Footer(const CommandHelp& help) {
  std::vector<std::string> paragraphs;
  if (help.exit_status) paragraphs.push_back(std::string("Exit status: ") + help.exit_status);
  if (help.environment) paragraphs.push_back(std::string("Environment: ") + help.environment);
  if (!help.examples.empty()) {
    std::string examples = help.examples.size() == 1 ? "Example:" : "Examples:";
    for (const std::string& example : help.examples) {
      if (&example != &help.examples.front()) examples += '\n';  // a blank line between two
      std::istringstream lines(example);
      for (std::string line; std::getline(lines, line);)
        examples.append("\n").append(line.empty() ? "" : "  ").append(line);
    }
    paragraphs.push_back(examples);
  }
  std::string footer;
  for (const std::string& p : paragraphs) footer += (footer.empty() ? "" : "\n\n") + p;
  return footer;
}

}  // namespace

CLI::App* Command::Register(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(help_.name, help_.description);
  AddOptions(*sub);
  sub->footer(Footer(help_));
  return sub;
}

void AddRunArgument(CLI::App& sub, std::string* run_path, const char* description) {
  sub.add_option("RUN", *run_path, description)->required();
}

void AddRankOption(CLI::App& sub, std::optional<int64_t>* rank) {
  sub.add_option("--rank", *rank, "Only this rank")
      ->check(CLI::NonNegativeNumber)
      ->default_str("every rank");
}

const char* Argv0() { return program_invocation_name; }

int Fail(const std::string& message) {
  fprintf(stderr, "ddrr: error: %s\n", message.c_str());
  return kExitUsage;
}

int Fail(const Status& status) { return Fail(status.message()); }

int SalvageSpools(const std::string& run_path) {
#ifdef DDRR_HAVE_RECORDER
  return record::SalvageRun(run_path, [](const std::string& spool, const StatusOr<uint64_t>& n) {
    if (n.ok())
      fprintf(stderr, "ddrr: salvaged %s: %llu events recovered from the spool\n", spool.c_str(),
              static_cast<unsigned long long>(n.value()));
    else if (n.status().code() == StatusCode::kUnavailable) {  // a live rank: read as it stands
      static std::set<std::string> said;  // once per spool (ddrr watch reads the run again)
      if (said.insert(spool).second)
        fprintf(stderr, "ddrr: note: %s: its rank is still running; read up to its last event\n",
                spool.c_str());
    } else
      fprintf(stderr, "ddrr: note: %s\n", n.status().message().c_str());
  });
#else
  return 0;
#endif
}

namespace {

int& views_made() {  // one view folder per run a command opens (diff opens two)
  static int n = 0;
  return n;
}

bool LooksLikeBundle(const std::string& path) {
#ifdef DDRR_HAVE_BUNDLE
  return bundle::LooksLikeArchive(path);
#else
  (void)path;
  return false;
#endif
}

}  // namespace

StatusOr<std::string> RunDirectory(const std::string& run_path) {
#ifdef DDRR_HAVE_BUNDLE
  // A bundle is read from a private copy, removed when the command exits.
  if (bundle::LooksLikeArchive(run_path)) {
    static std::vector<std::unique_ptr<bundle::ExtractedBundle>> opened;
    auto b = bundle::ExtractedBundle::Open(run_path);
    if (!b.ok()) return b.status();
    opened.push_back(std::move(*b));
    return opened.back()->run_dir();
  }
#endif
  SalvageSpools(run_path);  // a killed rank's spool becomes a complete rank file first
#ifdef DDRR_HAVE_RECORDER
  // Ranks still running are read from snapshots of their spools, in a folder removed at exit.
  struct Scratch {
    std::string dir;
    ~Scratch() {
      std::error_code ec;
      if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
  };
  static Scratch scratch;
  if (scratch.dir.empty()) {
    const char* tmp = getenv("TMPDIR");
    std::string t = std::string(tmp && *tmp ? tmp : "/tmp") + "/ddrr-read-XXXXXX";
    if (mkdtemp(t.data()) == nullptr) return Status::IoError("cannot create a temporary folder");
    scratch.dir = t;
  }
  return record::LiveView(run_path, scratch.dir + "/" + std::to_string(++views_made()));
#else
  return run_path;
#endif
}

StatusOr<trace::Run> OpenRun(const std::string& run_path) {
  auto dir = RunDirectory(run_path);
  if (!dir.ok()) return dir.status();
  auto run = trace::Run::Open(*dir);
  if (run.ok() && *dir != run_path && !LooksLikeBundle(run_path)) {
    // Snapshots of live ranks stand in for their files: messages name the run's own files.
    for (trace::RankEntry& e : run->ranks())
      e.path =
          (std::filesystem::path(run_path) / std::filesystem::path(e.path).filename()).string();
  }
  return run;
}

int RequireReadable(const trace::Run& run, const std::string& run_path) {
  for (const auto& e : run.ranks())
    if (e.reader) return kExitOk;
  for (const auto& p : run.Problems()) fprintf(stderr, "ddrr: note: %s\n", p.ToString().c_str());
  return Fail("no readable rank file in " + run_path + ", record a run with `ddrr record`");
}

int OpenReadableRun(const std::string& run_path, std::optional<trace::Run>* run) {
  auto opened = OpenRun(run_path);
  if (!opened.ok()) return Fail(opened.status());
  run->emplace(std::move(*opened));
  return RequireReadable(**run, run_path);
}

int OpenModeledRun(const std::string& run_path, std::optional<trace::Run>* run,
                   std::unique_ptr<analysis::RunModel>* model) {
  if (int rc = OpenReadableRun(run_path, run)) return rc;
  auto modeled = analysis::ModelRun(**run);
  if (!modeled.ok()) return Fail(modeled.status());
  *model = std::move(*modeled);
  return kExitOk;
}

trace::RankEntry* RequireRank(trace::Run& run, int64_t rank, const std::string& run_path,
                              bool need_reader) {
  trace::RankEntry* entry = run.FindRank(rank);
  if (entry && (!need_reader || entry->reader)) return entry;
  Fail(run_path + ": no readable trace for rank " + std::to_string(rank) + "; `ddrr info " +
       run_path + "` lists the ranks");
  return nullptr;
}

std::string LocalTimeNow(const char* format) {
  char text[64];
  const std::time_t now = std::time(nullptr);
  return std::strftime(text, sizeof(text), format, std::localtime(&now)) ? text : "";
}

}  // namespace ddrr::cli
