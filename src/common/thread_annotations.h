// Clang thread-safety annotations: state a mutex guards says so (GUARDED_BY), functions that
// expect a lock held say so (EXCLUSIVE_LOCKS_REQUIRED), and `clang++ -Wthread-safety` checks
// every access at compile time (scripts/lint). Other compilers see nothing.
#pragma once

#if defined(__clang__)
#define DDRR_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define DDRR_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) DDRR_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY DDRR_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) DDRR_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) DDRR_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_AFTER(...) DDRR_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define ACQUIRED_BEFORE(...) DDRR_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define EXCLUSIVE_LOCKS_REQUIRED(...) DDRR_THREAD_ANNOTATION(exclusive_locks_required(__VA_ARGS__))
#define LOCKS_EXCLUDED(...) DDRR_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define EXCLUSIVE_LOCK_FUNCTION(...) DDRR_THREAD_ANNOTATION(exclusive_lock_function(__VA_ARGS__))
#define UNLOCK_FUNCTION(...) DDRR_THREAD_ANNOTATION(unlock_function(__VA_ARGS__))
#define LOCK_RETURNED(x) DDRR_THREAD_ANNOTATION(lock_returned(x))
#define ASSERT_EXCLUSIVE_LOCK(...) DDRR_THREAD_ANNOTATION(assert_exclusive_lock(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS DDRR_THREAD_ANNOTATION(no_thread_safety_analysis)
