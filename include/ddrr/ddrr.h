/* ddrr C API: what a recorded program may call. All functions are safe to call whether or not
 * the program runs under libddrr.so: link with -lddrr, or look them up with dlsym(RTLD_DEFAULT)
 * and skip them when absent. No function blocks on I/O. */
#ifndef DDRR_DDRR_H_
#define DDRR_DDRR_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Non-zero when this process is being recorded. */
int ddrr_enabled(void);

/* Marks a point of the run, e.g. the start of training step `step`. Marks with step numbers give
 * a consistent cut across ranks for diagnosis and replay. `label` is copied. */
void ddrr_mark(const char* label, int64_t step);

/* Records an opaque RNG state (e.g. torch.cuda.get_rng_state()) under `name`. */
void ddrr_record_rng(const char* name, const void* bytes, size_t len);

/* Under `ddrr replay --restore-rng`: copies into `bytes` the state the recording had under `name`
 * at the matching ddrr_record_rng call (make that call first) and returns its length; copies
 * nothing when `capacity` is smaller. Returns 0 when the process is not replayed that way: the
 * program keeps its own state. */
size_t ddrr_restore_rng(const char* name, void* bytes, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif /* DDRR_DDRR_H_ */
