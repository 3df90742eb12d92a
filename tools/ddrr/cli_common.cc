#include "cli_common.h"

#include <errno.h>  // program_invocation_name
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <set>
#include <sstream>
#include <utility>

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
  std::vector<std::string> live;
  const int salvaged =
      record::SalvageRun(run_path, [&](const std::string& spool, const StatusOr<uint64_t>& n) {
        if (n.ok())
          fprintf(stderr, "ddrr: salvaged %s: %llu events recovered from the spool\n",
                  spool.c_str(), static_cast<unsigned long long>(n.value()));
        else if (n.status().code() == StatusCode::kUnavailable)  // a live rank: read as it stands
          live.push_back(spool);
        else
          fprintf(stderr, "ddrr: note: %s\n", n.status().message().c_str());
      });
  NoteLiveSpools(live);
  return salvaged;
#else
  (void)run_path;
  return 0;
#endif
}

void NoteLiveSpools(std::vector<std::string> spools) {
  static std::set<std::string> said;  // once per spool (ddrr watch reads the run again)
  std::erase_if(spools, [](const std::string& s) { return !said.insert(s).second; });
  if (spools.empty()) return;
  std::sort(spools.begin(), spools.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;  // rank-2 before rank-10
  });
  // One line however many ranks: the folder once, then the spools' names.
  const std::string folder = std::filesystem::path(spools.front()).parent_path().string();
  std::string names;
  for (const std::string& s : spools) {
    const std::filesystem::path p(s);
    names += (names.empty() ? "" : ", ") + (p.parent_path() == folder ? p.filename().string() : s);
    if (names.size() > 200 && &s != &spools.back()) {
      names += " and " + std::to_string(&spools.back() - &s) + " more";
      break;
    }
  }
  fprintf(stderr, "ddrr: note: %s%s%s: %s still running; read up to %s last event\n",
          folder.empty() ? "" : folder.c_str(), folder.empty() ? "" : "/",
          spools.size() == 1 ? names.c_str() : ("{" + names + "}").c_str(),
          spools.size() == 1 ? "its rank is" : "their ranks are",
          spools.size() == 1 ? "its" : "their");
}

namespace {

bool LooksLikeBundle(const std::string& path) {
#ifdef DDRR_HAVE_BUNDLE
  return bundle::LooksLikeArchive(path);
#else
  (void)path;
  return false;
#endif
}

// The files and folders of live views, removed when the command ends: at exit, or on a signal
// that ends it (Ctrl-C, kill, a closed pipe), where only unlink and rmdir are called. A list
// that only grows until ReleaseViews(), so that a handler can walk it at any moment.
struct ViewPath {
  std::string path;
  bool folder;
  ViewPath* next;
};
std::atomic<ViewPath*> g_views{nullptr};

void RemoveViews() noexcept {
  for (ViewPath* v = g_views.load(); v; v = v->next)
    if (!v->folder) ::unlink(v->path.c_str());
  for (ViewPath* v = g_views.load(); v; v = v->next)
    if (v->folder) ::rmdir(v->path.c_str());
}

void RemoveViewsAndDie(int sig) {
  RemoveViews();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

struct RemoveViewsAtExit {
  ~RemoveViewsAtExit() { RemoveViews(); }
};

// Adds `path` to what goes when the command ends; the first time, sets the signal handlers.
void RemoveAtEnd(std::string path, bool folder) {
  static RemoveViewsAtExit at_exit;
  static bool handlers = false;
  if (!handlers) {
    handlers = true;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
      struct sigaction old {};
      if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_DFL)
        ::signal(sig, RemoveViewsAndDie);  // a handler someone else set is left alone
    }
  }
  g_views.store(new ViewPath{std::move(path), folder, g_views.load()});
}

// Holds `folder` (a view LiveView made) until the command ends or ReleaseViews().
void HoldView(const std::string& folder) {
  RemoveAtEnd(folder, true);
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(folder, ec))
    RemoveAtEnd(e.path(), false);
}

std::string TempRoot() {
  const char* tmp = getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

}  // namespace

void RemoveIfKilled(const std::string& file) { RemoveAtEnd(file, false); }

void ReleaseViews() {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  RemoveViews();
  for (ViewPath* v = g_views.exchange(nullptr); v;) delete std::exchange(v, v->next);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

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
  // Ranks still running are read from snapshots of their spools.
  auto view = record::LiveView(run_path, TempRoot());
  if (!view.ok()) return view.status();
  NoteLiveSpools(view->live);
  if (!view->folder.empty()) HoldView(view->folder);
  return view->path;
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
    namespace fs = std::filesystem;
    auto own = [&](const std::string& path) {
      return run->single_file() ? run_path
                                : (fs::path(run_path) / fs::path(path).filename()).string();
    };
    run->set_path(run_path);
    for (trace::RankEntry& e : run->ranks()) {
      if (!e.path.empty()) e.path = own(e.path);
      if (!e.spool_path.empty()) e.spool_path = own(e.spool_path);
    }
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
