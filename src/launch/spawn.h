// Runs one command as a child of this process, for a launcher that wraps a whole job (`ddrr
// record -- torchrun ...`): the child inherits the environment, stdin/stdout/stderr and process
// group, and SIGINT, SIGTERM and SIGHUP sent to the launcher are passed on to it.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace ddrr::launch {

// Runs `argv` (argv[0] looked up on PATH) to completion and returns its exit status: its exit
// code, or 128 + the number of the signal that killed it; a program that cannot be executed
// exits 127 after one line on stderr. The forwarding handlers are installed only while the child
// runs; the previous ones are restored before returning. An error Status only when nothing was
// started (empty argv, fork failure). Must not run twice at once in one process.
StatusOr<int> RunChild(const std::vector<std::string>& argv);

}  // namespace ddrr::launch
