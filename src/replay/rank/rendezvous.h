// Rendezvous: how the ranks of a replay agree on fresh NCCL unique ids (recorded ids are never
// reused: they name bootstrap sockets of a job that is gone). The member that creates a
// communicator's ids (its comm rank 0) publishes them in a file of the replay's work directory;
// the others wait for that file. Ranks of one replay share a host, so a directory is enough.
#pragma once

#include <nccl.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace ddrr::replay {

class Rendezvous {
 public:
  Rendezvous(std::string dir, double timeout_seconds)
      : dir_(std::move(dir)), timeout_seconds_(timeout_seconds) {}

  // The `count` ids published under `name`. The creator makes them with ncclGetUniqueId and
  // publishes them, unless another creator got there first (then it takes theirs, so two ranks
  // that claim one comm rank still meet, as they did when recorded). Others wait up to the
  // timeout: Unavailable if nobody publishes (the creator never came, as in the recording).
  StatusOr<std::vector<ncclUniqueId>> Ids(const std::string& name, int count, bool creator);

 private:
  StatusOr<std::vector<ncclUniqueId>> Read(const std::string& path, int count) const;

  std::string dir_;
  double timeout_seconds_;
};

}  // namespace ddrr::replay
