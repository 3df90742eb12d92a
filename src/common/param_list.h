// Every DDRR_* environment variable (and the NCCL_* ones emu reads), in one list: the readers
// (common/params.h), the programs that set them for others (`ddrr record`, `ddrr run`,
// `ddrr replay`) and the README's table (`ddrr help env --markdown`) all come from it.
//
// X(Id, "NAME", type, default, min, max, what, read_by, effect)
//   type     kText (any string), kInt, kReal, kFlag (0/1, no/yes, off/on, false/true) or kChoice
//   default  the value used when the variable is unset; for kText and for numbers a consumer
//            computes, a description in backquotes
//   min, max the accepted range of kInt and kReal values
//   what     kInt/kReal: the noun of the warning ("is not <what> in [min, max]");
//            kChoice: the accepted values, separated by '|'
// Keep one line per variable in the README's words; the order is the README's.
#pragma once

// clang-format off
#define DDRR_PARAM_LIST(X)                                                                         \
  X(Debug, "DDRR_DEBUG", kChoice, "WARN", 0, 0, "NONE|VERSION|WARN|INFO|TRACE", "all",             \
    "log level of ddrr's own messages")                                                            \
  X(DebugSubsys, "DDRR_DEBUG_SUBSYS", kText, "`ALL`", 0, 0, "", "all",                             \
    "comma list of subsystems to log (`INIT,TRACE,RECORD,EMU,HOSTRT,REPLAY,ANALYSIS,ALL`), "       \
    "`^` to exclude")                                                                              \
  X(DebugFile, "DDRR_DEBUG_FILE", kText, "stderr", 0, 0, "", "all",                                \
    "write logs to this file instead of stderr (`%h` host, `%p` pid)")                             \
  X(Out, "DDRR_OUT", kText, "ddrr-run", 0, 0, "", "recorder",                                      \
    "run directory (`ddrr record -o` sets it)")                                                    \
  X(Level, "DDRR_LEVEL", kChoice, "metadata", 0, 0, "metadata|digests|payloads", "recorder",       \
    "what each call keeps beside its arguments (`ddrr record --level`)")                           \
  X(PayloadSteps, "DDRR_PAYLOAD_STEPS", kText, "`all steps`", 0, 0, "", "recorder",                \
    "`A-B`, payloads only while the last `ddrr_mark` step is in [A, B] (`--payload-steps`)")       \
  X(PayloadMb, "DDRR_PAYLOAD_MB", kInt, "1024", 1, 1048576, "a size in MiB", "recorder",           \
    "payload byte budget per rank in MiB (`--payload-mb`)")                                        \
  X(StagingMb, "DDRR_STAGING_MB", kInt, "256", 1, 1048576, "a size in MiB", "recorder",            \
    "pinned host memory for buffers on their way to the digester, in MiB")                         \
  X(Kernels, "DDRR_KERNELS", kChoice, "count", 0, 0, "count|full", "recorder",                     \
    "`full` records every kernel launch as a call (`--kernels`)")                                  \
  X(RunId, "DDRR_RUN_ID", kText, "`none`", 0, 0, "", "recorder",                                   \
    "identifies the run in every rank's header (`ddrr record` keeps the one in its "               \
    "environment, else sets a random one: give each node's `ddrr record` the same to record one "  \
    "job node by node)")                                                                           \
  X(SpoolMb, "DDRR_SPOOL_MB", kInt, "64", 1, 65536, "a size in MiB", "recorder",                   \
    "size of each rank's write-ahead log in MiB; when it is full, events are dropped and "         \
    "counted, never waited for")                                                                   \
  X(SealIdleMs, "DDRR_SEAL_IDLE_MS", kInt, "50", 1, 60000, "a time in ms", "recorder",             \
    "the longest a recorded event waits in the spool before the rank file has it, busy or idle "   \
    "(readers that cannot see the spool, on another host, see the job this current); also how "    \
    "often a rank's last sign of life is noted")                                                   \
  X(Disable, "DDRR_DISABLE", kFlag, "0", 0, 0, "", "recorder",                                     \
    "`1` turns recording off (pure pass-through)")                                                 \
  X(Completions, "DDRR_COMPLETIONS", kFlag, "1", 0, 0, "", "recorder",                             \
    "`0` turns completion tracking off (calls are still recorded; saves one `cudaEventRecord` "    \
    "and ~90 ns per collective, docs/PERFORMANCE.md)")                                             \
  X(Lib, "DDRR_LIB", kText,                                                                        \
    "`<ddrr>/../lib/libddrr.so`; installed layout: [docs/INSTALL.md](docs/INSTALL.md)", 0, 0, "",  \
    "`ddrr record`", "path of `libddrr.so`")                                                       \
  X(HostDevices, "DDRR_HOST_DEVICES", kInt, "8", 0, 1024, "a count", "host runtime",               \
    "number of devices it reports (when it is unset, `ddrr replay --host` sets it to the "         \
    "devices the replay needs, at least 8)")                                                       \
  X(ReplayDriver, "DDRR_REPLAY_DRIVER", kText,                                                     \
    "`<prefix>/libexec/ddrr/` installed, beside `ddrr` in the build tree", 0, 0, "",               \
    "`ddrr replay`", "path of `ddrr-replay-rank`")                                                 \
  X(ReplayOf, "DDRR_REPLAY_OF", kText, "`none`", 0, 0, "", "recorder",                             \
    "set by `ddrr replay` for its ranks: the recorded run's id, kept in the replay's rank "        \
    "headers (so `ddrr diff` knows a replay)")                                                     \
  X(AppReplayOf, "DDRR_APP_REPLAY_OF", kText, "`none`", 0, 0, "", "recorder",                      \
    "set by `ddrr replay ... -- PROG` for the program: the recorded run's id "                     \
    "([docs/REPLAY.md](docs/REPLAY.md#application-replay))")                                       \
  X(ReplayDir, "DDRR_REPLAY_DIR", kText, "`none`", 0, 0, "", "recorder",                           \
    "set by `ddrr replay ... -- PROG`: where `libddrr.so` finds each rank's replay script and "    \
    "writes what it saw")                                                                          \
  X(ReplayProgress, "DDRR_REPLAY_PROGRESS", kText, "`none`", 0, 0, "", "recorder",                 \
    "set by `ddrr replay ... -- PROG`: the progress table")                                        \
  X(ReplayOnDivergence, "DDRR_REPLAY_ON_DIVERGENCE", kChoice, "stop", 0, 0, "stop|report|ignore",  \
    "recorder", "set by `ddrr replay ... -- PROG`: the divergence policy (`--on-divergence`)")     \
  X(ReplayRestoreRng, "DDRR_REPLAY_RESTORE_RNG", kFlag, "0", 0, 0, "", "recorder",                 \
    "set by `ddrr replay ... -- PROG`: `1` restores the recorded RNG states (`--restore-rng`)")    \
  X(HostrtDir, "DDRR_HOSTRT_DIR", kText,                                                           \
    "`<ddrr>/../lib/hostrt`; installed, `<prefix>/lib/ddrr/hostrt`", 0, 0, "",                     \
    "`ddrr run --host`", "directory of the host runtime libraries")                                \
  X(RanksPerGpu, "DDRR_RANKS_PER_GPU", kInt, "`none`", 1, 1024, "a number of ranks",               \
    "`libddrr_gpushare.so`",                                                                       \
    "K, virtual devices per real one (`ddrr run --ranks-per-gpu` sets it); unset or invalid: "     \
    "one warning, no sharing")                                                                     \
  X(EmuDir, "DDRR_EMU_DIR", kText, "`<ddrr>/../lib/emu`; installed, `<prefix>/lib/ddrr/emu`",      \
    0, 0, "", "`ddrr run --ranks-per-gpu`",                                                        \
    "without `--host`: directory holding only emu's `libnccl.so.2`")                               \
  X(GpushareLib, "DDRR_GPUSHARE_LIB", kText, "`<ddrr>/../lib/libddrr_gpushare.so`", 0, 0, "",      \
    "`ddrr run --ranks-per-gpu`", "path of `libddrr_gpushare.so`")                                 \
  X(RunGrace, "DDRR_RUN_GRACE", kReal, "10", 0, 1e9, "a number of seconds", "`ddrr run`",          \
    "seconds the other ranks get after one fails, before SIGTERM")                                 \
  X(EmuTimeout, "DDRR_EMU_TIMEOUT", kReal, "300", 1e-3, 1e9, "a number of seconds", "emu",         \
    "seconds a rank waits for its peers before failing with the missing ranks named")              \
  X(NcclDebug, "NCCL_DEBUG", kText, "`unset: nothing`", 0, 0, "", "emu",                           \
    "as in NCCL, `INFO` prints NCCL's own init, destroy and collective lines and `WARN` a line "   \
    "per failure, to stdout: the log `ddrr import` reads")                                         \
  X(NcclDebugSubsys, "NCCL_DEBUG_SUBSYS", kText, "`INIT`", 0, 0, "", "emu",                        \
    "subsystems of emu's NCCL log, `INIT` and `COLL`; `^X` excludes")                              \
  X(NcclDebugFile, "NCCL_DEBUG_FILE", kText, "`stdout`", 0, 0, "", "emu",                          \
    "emu's NCCL log to this file instead (`%h` host, `%p` pid)")                                   \
  X(EmuStrictDevices, "DDRR_EMU_STRICT_DEVICES", kFlag, "0", 0, 0, "", "emu",                      \
    "`1` refuses two ranks of one communicator on one device, as real NCCL does")                  \
  X(EmuDirect, "DDRR_EMU_DIRECT", kFlag, "1", 0, 0, "", "emu",                                     \
    "`0` turns direct collectives off, so every collective stages through the shared segment "     \
    "(a comm goes direct only if all its ranks allow it)")                                         \
  X(EmuDirectMinBytes, "DDRR_EMU_DIRECT_MIN_BYTES", kInt, "65536", 0, 1e18, "a number of bytes",   \
    "emu", "collectives with fewer bytes per rank always stage")                                   \
  X(EmuChunkBytes, "DDRR_EMU_CHUNK_BYTES", kInt, "`32 MiB / ranks, within 256 KiB..4 MiB`", 1,     \
    1e12, "a number of bytes", "emu", "staging bytes per rank per chunk")                          \
  X(SampleBootstrapDir, "DDRR_SAMPLE_BOOTSTRAP_DIR", kText, "`none`", 0, 0, "", "samples",         \
    "where rank 0 publishes the NCCL unique id (samples/README.md)")                               \
  X(SampleJob, "DDRR_SAMPLE_JOB", kText, "`none`", 0, 0, "", "samples", "a job key")               \
  X(SampleBootstrapTimeout, "DDRR_SAMPLE_BOOTSTRAP_TIMEOUT", kInt, "120", 0, 1073741824,           \
    "a number of seconds", "samples", "how long the other ranks wait for the unique id")           \
  X(SampleWaitReport, "DDRR_SAMPLE_WAIT_REPORT", kInt, "30", 0, 1073741824,                        \
    "a number of seconds", "samples", "how often a waiting rank reports (0 disables it)")          \
  X(SampleKeepId, "DDRR_SAMPLE_KEEP_ID", kFlag, "0", 0, 0, "", "samples",                          \
    "`1` keeps the published id (a rank replayed alone reads it)")                                 \
  X(SampleCheckpointDir, "DDRR_SAMPLE_CHECKPOINT_DIR", kText, "`none`", 0, 0, "", "samples",       \
    "where `sgd_allreduce --checkpoint-at` writes")                                                \
  X(SampleNcclLib, "DDRR_SAMPLE_NCCL_LIB", kText, "`libnccl.so.2`", 0, 0, "", "samples",           \
    "the NCCL library `dlopen_nccl` loads")                                                        \
  X(FuzzSeconds, "DDRR_FUZZ_SECONDS", kInt, "30", 0, 1e9, "a number of seconds", "`scripts/test`", \
    "seconds of reader fuzzing (0 skips)")                                                         \
  X(Build, "DDRR_BUILD", kText, "build", 0, 0, "", "`scripts/gpu-check`", "the build directory")   \
  X(BenchRuntime, "DDRR_BENCH_RUNTIME", kChoice, "host", 0, 0, "host|real",                        \
    "`bench/interpose_overhead.sh`, `bench/data_capture_cost.sh`",                                 \
    "`real` uses the CUDA runtime and NCCL the loader finds (GPU machines); `host`, ddrr's host "  \
    "runtime")
// clang-format on
