// The CLI's commands and their options as a table, for tools generated at build time from the
// CLI itself (the bash completion, the man page's command sections): `ddrr --command-table`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace ddrr::cli {

// One line per command, the top level first: the command as typed ("ddrr", "ddrr record"), a tab,
// then its options separated by spaces, long names and short ones, each followed by "=" when it
// takes a value. Hidden options and commands are left out.
std::string CommandTable(const CLI::App& app);

// Adds the hidden --command-table flag to `app`: it prints CommandTable(app) and ends the parse
// with CLI::Success (exit 0).
void AddCommandTableFlag(CLI::App& app);

}  // namespace ddrr::cli
