// What ddrr keeps out of what it hands to others (ddrr report, ddrr bundle): environment values
// whose names look like secrets, and, on request, host names, user paths and command-line
// arguments replaced by stable pseudonyms (the same host is the same pseudonym everywhere).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace ddrr::report {

// Whether an environment variable's name looks like it holds a secret: it contains (any case)
// TOKEN, SECRET, KEY, PASSWORD, PASSWD, CREDENTIAL, AUTH, PRIVATE or BEARER.
bool IsSecretName(std::string_view name);

// What an environment value is replaced with.
inline constexpr std::string_view kRedacted = "<redacted>";

// Stable pseudonyms: the n-th distinct host is "host-n", the n-th distinct user path
// "path-n", the n-th distinct argument "arg-n". One instance is shared by every file of a
// bundle, so a name maps to the same pseudonym in all of them.
class Pseudonyms {
 public:
  std::string Host(const std::string& host) { return Name(hosts_, "host-", host); }
  std::string Path(const std::string& path) { return Name(paths_, "path-", path); }
  std::string Arg(const std::string& arg) { return Name(args_, "arg-", arg); }
  // Replaces every user path (a word starting with /home/, /Users/, /root or ~/ , up to the
  // next space, quote or colon) in `text` with its pseudonym.
  std::string Paths(const std::string& text);

 private:
  static std::string Name(std::map<std::string, std::string>& names, const char* prefix,
                          const std::string& value);
  std::map<std::string, std::string> hosts_, paths_, args_;
};

}  // namespace ddrr::report
