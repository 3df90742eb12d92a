// Starting a multi-process NCCL job without MPI: who am I (rank, world size, local rank),
// which device do I use, and how does every rank get the ncclUniqueId that rank 0 created.
//
// The id travels through a file: rank 0 writes it to a temporary name and renames it into place
// (atomic, so readers never see half an id), the other ranks poll for it. The directory is
//   $DDRR_SAMPLE_BOOTSTRAP_DIR                        if set (must be shared by all ranks), else
//   /tmp/ddrr-samples-<uid>/<job key>                 where the job key is
//     $DDRR_SAMPLE_JOB, else "<MASTER_ADDR>-<MASTER_PORT>" if MASTER_PORT is set, else
//     "ppid-<parent pid>" (ranks started by one launcher or one shell share their parent).
#ifndef DDRR_SAMPLES_COMMON_BOOTSTRAP_H_
#define DDRR_SAMPLES_COMMON_BOOTSTRAP_H_

#include <nccl.h>

#include <functional>
#include <string>

#include "support/check.h"

namespace ddrr_samples {

struct JobInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string source;  // which variables the rank came from, for the startup line
};

// Reads the launcher's variables: RANK/WORLD_SIZE, else OMPI_COMM_WORLD_RANK/SIZE, else
// PMI_RANK/PMI_SIZE, else SLURM_PROCID/SLURM_NTASKS, else a single-rank job. LOCAL_RANK (or the
// MPI/Slurm equivalents) defaults to the rank. Exits 2 on values that make no sense.
JobInfo DetectJob();

// Calls cudaSetDevice(local_rank % device count) and returns the device. With
// `duplicate_device` (the same-device fault) it picks the device some other local rank uses
// instead: device 0, or device 1 % count when this rank is local rank 0 itself.
int SelectDevice(const JobInfo& job, bool duplicate_device);

// Rank 0 creates an id with `create` and publishes it as "nccl-id-<name>"; the other ranks wait
// for that file (timeout $DDRR_SAMPLE_BOOTSTRAP_TIMEOUT seconds, default 120) and read it. Use a
// different `name` for each independently created communicator.
ncclUniqueId ShareUniqueId(const JobInfo& job, const std::string& name,
                           const std::function<ncclUniqueId()>& create);

// The same with the linked ncclGetUniqueId. Inline, so that only the samples calling it need
// libnccl (dlopen_nccl passes the one it looked up).
inline ncclUniqueId ShareUniqueId(const JobInfo& job, const std::string& name) {
  return ShareUniqueId(job, name, [] {
    ncclUniqueId id;
    NCCL_CHECK(ncclGetUniqueId(&id));
    return id;
  });
}

// Rank 0 removes the published file. Call once every rank is known to have read it (after the
// first collective on the communicator completed), so the next run with the same job key can
// never pick up a stale id. With DDRR_SAMPLE_KEEP_ID=1 the file stays and never counts as stale:
// a rank re-run alone against a recording (ddrr replay --ranks R -- PROG) reads the id its job
// used, as a program's own rendezvous file written during the recording is still there.
void RetireUniqueId(const JobInfo& job, const std::string& name);

// The directory described above (exposed for messages and tests).
std::string BootstrapDir();

}  // namespace ddrr_samples

#endif  // DDRR_SAMPLES_COMMON_BOOTSTRAP_H_
