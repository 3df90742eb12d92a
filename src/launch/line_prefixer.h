// Splits one byte stream (a rank's stdout or stderr) into lines and prefixes each with a tag
// such as "[rank 3] ". Partial lines wait for their newline, so a rank's own lines are never
// cut or reordered, whatever the chunks read from its pipe.
#pragma once

#include <string>
#include <string_view>

namespace ddrr::launch {

class LinePrefixer {
 public:
  explicit LinePrefixer(std::string prefix) : prefix_(std::move(prefix)) {}

  // Consumes `data` and returns the complete lines it finishes, each prefixed and ending in '\n'.
  std::string Feed(std::string_view data);

  // At end of stream: the unfinished last line, prefixed and given a '\n'; empty if none.
  std::string Flush();

 private:
  std::string prefix_;
  std::string pending_;  // bytes after the last newline seen
};

}  // namespace ddrr::launch
