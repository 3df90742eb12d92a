// The real libcudart exports a second name for many entry points: `_ptsz` (stream-ordered calls)
// and `_ptds` (synchronous calls), used by programs compiled with per-thread default streams.
// Here both names share one definition. Difference from the real runtime: in a `_ptsz` call the
// handle 0 means the per-thread stream, here the legacy stream; the two differ only in that the
// per-thread stream can be captured.
#pragma once

// Must appear in the file that defines `name`.
#define DDRR_HOSTRT_ALIAS(name, suffix) \
  extern "C" decltype(name) name##suffix __attribute__((alias(#name)));

#define DDRR_HOSTRT_PTSZ(name) DDRR_HOSTRT_ALIAS(name, _ptsz)
#define DDRR_HOSTRT_PTDS(name) DDRR_HOSTRT_ALIAS(name, _ptds)
