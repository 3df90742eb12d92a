#include "command_table.h"

#include <cstdio>

namespace ddrr::cli {
namespace {

void AppendOptions(const CLI::App& app, std::string* out) {
  const char* separator = "";
  for (const CLI::Option* option : app.get_options()) {
    if (!option->nonpositional() || option->get_group().empty()) continue;
    const char* value = option->get_expected_min() > 0 ? "=" : "";
    for (const std::string& name : option->get_lnames()) {
      out->append(separator).append("--").append(name).append(value);
      separator = " ";
    }
    for (const std::string& name : option->get_snames()) {
      out->append(separator).append("-").append(name).append(value);
      separator = " ";
    }
  }
}

void AppendCommands(const CLI::App& app, const std::string& path, std::string* out) {
  out->append(path).append("\t");
  AppendOptions(app, out);
  out->append("\n");
  const auto visible = [](const CLI::App* sub) { return !sub->get_group().empty(); };
  for (const CLI::App* sub : app.get_subcommands(visible)) {
    AppendCommands(*sub, path + " " + sub->get_name(), out);
  }
}

}  // namespace

std::string CommandTable(const CLI::App& app) {
  std::string table;
  AppendCommands(app, "ddrr", &table);
  return table;
}

void AddCommandTableFlag(CLI::App& app) {
  app.add_flag_callback(
         "--command-table",
         [&app] {
           std::fputs(CommandTable(app).c_str(), stdout);
           throw CLI::Success();
         },
         "Print the commands and their options, one command a line (for build tools)")
      ->group("");
}

}  // namespace ddrr::cli
