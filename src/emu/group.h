// Group semantics: operations issued between GroupStart and the outermost GroupEnd are
// deferred, then progressed together by a non-blocking engine on the calling thread; a call
// outside a group is a group of one.
#pragma once

#include <memory>
#include <vector>

#include "emu/op.h"
#include "emu/result.h"

namespace ddrr::emu {

Result GroupStart();
Result GroupEnd();
int GroupDepth();
// Queues `op` in the current group, or runs it to completion when no group is open.
Result Submit(std::unique_ptr<Op> op);
// An argument error inside a group: the call fails now and GroupEnd fails too.
void NoteGroupError(const Result& error);
// Runs `ops` until all are done or one fails; on failure the others are abandoned and their
// communicators marked failed.
Result RunToCompletion(std::vector<std::unique_ptr<Op>> ops);

}  // namespace ddrr::emu
