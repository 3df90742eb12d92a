// Entropy capture: the bytes of randomness the application receives go into the trace as Entropy
// events, so a replay can hand the same bytes back.
//
// Sources seen: getrandom, getentropy, syscall(SYS_getrandom), read() of a descriptor opened with
// open/open64/openat/openat64 (and their _FORTIFY_SOURCE variants) on /dev/urandom or /dev/random,
// std::random_device (libstdc++ _M_getval and _M_getval_pretr) and arc4random*.
// Not seen: calls glibc makes internally (fopen/fread/std::ifstream of /dev/urandom, getentropy's
// own getrandom), descriptors obtained by dup/dup2/fcntl(F_DUPFD) or opened by a relative path or
// numbered >= kMaxFd, raw syscall instructions, RDRAND executed by the application itself.
//
// These hooks run for every open/read/close of the process, possibly before libddrr's
// constructors, inside the dynamic loader, and inside the recorder's own start-up. So: all state
// here is constant-initialised; the fast path of read/close touches no thread-local; a
// thread-local "inside ddrr" flag turns every nested hook into pure pass-through; recording
// happens only once the recorder already runs (RunningRecorder never starts it: starting opens
// files). What the application sees is never changed: same result, same errno, same bytes.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "common/symbol_resolver.h"
#include "interpose/app_replay.h"
#include "interpose/dl_hooks.h"
#include "interpose/session.h"
#include "interpose/wrapper_support.h"
#include "trace/record_encoders.h"
#include "trace/wire_encoder.h"

namespace ddrr::interpose {
namespace {

// Values of EntropySource in proto/ddrr/trace.proto.
enum Source : int32_t {
  kGetrandom = 0,
  kGetentropy = 1,
  kDevUrandom = 2,
  kDevRandom = 3,
  kRandomDevice = 4,
  kSyscallGetrandom = 5,
  kArc4random = 6,
};

// initial-exec: libddrr is preloaded, so its TLS is static and reaching it never calls
// __tls_get_addr, which may allocate (and a hook may run inside malloc).
__attribute__((tls_model("initial-exec"))) thread_local bool t_inside = false;
__attribute__((tls_model("initial-exec"))) thread_local bool t_resolving = false;

// Raw system call, for the one case where the real function is not known yet and cannot be
// looked up: a hook re-entered from inside dlsym on the same thread.
long RawSyscall(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
  long ret;
#if defined(__x86_64__)
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  ret = x0;
#else
  (void)n, (void)a, (void)b, (void)c, (void)d, (void)e, (void)f;
  ret = -ENOSYS;
#endif
  if (ret < 0 && ret > -4096) {
    errno = static_cast<int>(-ret);
    return -1;
  }
  return ret;
}

// The next definition of `name` after libddrr (glibc, libstdc++), looked up once. nullptr while
// this thread is already looking one up (dlsym re-entering a hook) or if there is none.
void* NextOnce(std::atomic<void*>& slot, const char* name) {
  void* p = slot.load(std::memory_order_acquire);
  if (p || t_resolving) return p;
  t_resolving = true;
  const int saved = errno;
  // libstdc++ may be loaded RTLD_LOCAL by an extension module: loaded, but not after us in scope.
  const char* soname = strncmp(name, "_ZNSt", 5) == 0 ? "libstdc++.so.6" : nullptr;
  p = FindNextDefinition({name}, soname, reinterpret_cast<const void*>(&RawSyscall), RealDlsym);
  errno = saved;
  t_resolving = false;
  if (p) slot.store(p, std::memory_order_release);
  return p;
}

#define DDRR_NEXT(fn_type, name)                            \
  ([]() {                                                   \
    static std::atomic<void*> slot{nullptr};                \
    return reinterpret_cast<fn_type>(NextOnce(slot, name)); \
  }())

// The mode argument of an open-style call, present only when `flags` create a file; in the
// variadic hook itself, as va_start needs.
#define DDRR_OPEN_MODE(flags)      \
  ({                               \
    mode_t mode_ = 0;              \
    if (NeedsMode(flags)) {        \
      va_list ap_;                 \
      va_start(ap_, flags);        \
      mode_ = va_arg(ap_, mode_t); \
      va_end(ap_);                 \
    }                              \
    mode_;                         \
  })

// One hooked call on this thread: records only if it is the outermost ddrr hook of the thread
// and the recorder already runs; while it lives, every nested hook passes through.
class EntropyScope {
 public:
  EntropyScope() : outer_(!t_inside) {
    if (outer_) t_inside = true;
    recording_ = outer_ && !InsideInterceptedCall() && RunningRecorder() != nullptr;
    replaying_ = outer_ && !InsideInterceptedCall() && ReplayLoaded();
  }
  ~EntropyScope() {
    if (outer_) t_inside = false;
  }
  EntropyScope(const EntropyScope&) = delete;
  EntropyScope& operator=(const EntropyScope&) = delete;
  bool recording() const { return recording_; }
  // Application replay: the recorded bytes go to the program instead (ReplayEntropy).
  bool replaying() const { return replaying_; }

 private:
  bool outer_;
  bool recording_;
  bool replaying_;
};

// Appends one Entropy event; keeps errno as the real call left it.
void Record(Source source, const void* data, size_t n, uint32_t flags) {
  record::Recorder* r = RunningRecorder();
  if (!r) return;
  const int saved = errno;
  thread_local trace::WireEncoder e;
  e.Clear();
  trace::EncodeEntropyBody(e, source, std::string_view(static_cast<const char*>(data), n), flags);
  r->Append(ThreadIndex(), NowNs() - SessionStartNs(), e.view(), {});
  errno = saved;
}

// Descriptors opened on /dev/urandom or /dev/random. A plain array of atomics: no allocation, no
// lock, constant-initialised, usable before any constructor. Higher descriptors go unrecorded.
constexpr int kMaxFd = 1 << 16;
std::atomic<uint8_t> g_random_fd[kMaxFd];

bool IsRandomPath(const char* path) {
  return path && (strcmp(path, "/dev/urandom") == 0 || strcmp(path, "/dev/random") == 0);
}

// Every successful open sets its slot, so a number reused after a close we did not see (glibc's
// internal close) is forgotten rather than recorded. Leaves errno as the open left it.
int TrackOpen(int fd, const char* path) {
  if (fd >= 0 && fd < kMaxFd) {
    g_random_fd[fd].store(IsRandomPath(path) ? 1 : 0, std::memory_order_relaxed);
  }
  return fd;
}

bool MaybeRandomFd(int fd) {
  return fd >= 0 && fd < kMaxFd && g_random_fd[fd].load(std::memory_order_relaxed) != 0;
}

// Which device `fd` is now, by device number (1,9 urandom; 1,8 random): the path of the open is a
// hint, this is the proof (bind mounts, a stale slot). -1 if neither.
int DeviceSource(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 1) return -1;
  if (minor(st.st_rdev) == 9) return kDevUrandom;
  if (minor(st.st_rdev) == 8) return kDevRandom;
  return -1;
}

// Returns what the program gets: `got`, or in replay the number of recorded bytes put in `buf`.
ssize_t RecordRead(int fd, void* buf, ssize_t got) {
  if (got <= 0) return got;
  EntropyScope scope;
  if (!scope.recording() && !scope.replaying()) return got;
  const int saved = errno;
  const int source = DeviceSource(fd);
  errno = saved;
  if (source < 0) return got;
  size_t served = 0;
  if (scope.replaying() && ReplayEntropy(source, buf, static_cast<size_t>(got), &served))
    got = static_cast<ssize_t>(served);
  if (scope.recording()) Record(static_cast<Source>(source), buf, static_cast<size_t>(got), 0);
  return got;
}

// In replay, fills `buf` with the next recorded draw of `source` and records it; false when the
// program is not replayed (or the recording has no draw left: the real source is used).
bool Replayed(const EntropyScope& scope, Source source, void* buf, size_t len, size_t* served,
              uint32_t flags = 0) {
  if (!scope.replaying() || !ReplayEntropy(source, buf, len, served)) return false;
  if (scope.recording() && *served > 0) Record(source, buf, *served, flags);
  return true;
}

// open(2)'s optional third argument is read only when the flags say it is there, as glibc does.
bool NeedsMode(int flags) { return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE; }

using OpenFn = int (*)(const char*, int, ...);
using OpenatFn = int (*)(int, const char*, int, ...);
using Open2Fn = int (*)(const char*, int);
using Openat2Fn = int (*)(int, const char*, int);
using ReadFn = ssize_t (*)(int, void*, size_t);
using ReadChkFn = ssize_t (*)(int, void*, size_t, size_t);
using CloseFn = int (*)(int);
using GetrandomFn = ssize_t (*)(void*, size_t, unsigned int);
using GetentropyFn = int (*)(void*, size_t);
using SyscallFn = long (*)(long, ...);
using GetvalFn = unsigned int (*)(void*);
using Arc4Fn = uint32_t (*)();
using Arc4BufFn = void (*)(void*, size_t);
using Arc4UniformFn = uint32_t (*)(uint32_t);

int DoOpenat(OpenatFn real, int dirfd, const char* path, int flags, mode_t mode) {
  const int fd = real ? real(dirfd, path, flags, mode)
                      : static_cast<int>(RawSyscall(SYS_openat, dirfd, reinterpret_cast<long>(path),
                                                    flags, mode));
  // A relative path under another directory is not the device: only absolute paths count.
  return TrackOpen(fd, path);
}

// arc4random fallback when glibc has none (before 2.36) yet the hook was called: the kernel's
// bytes, which is what arc4random promises.
void FillRandom(void* buf, size_t n) {
  auto* p = static_cast<unsigned char*>(buf);
  while (n > 0) {
    const long got = RawSyscall(SYS_getrandom, reinterpret_cast<long>(p), static_cast<long>(n), 0);
    if (got <= 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += got;
    n -= static_cast<size_t>(got);
  }
}

// std::random_device's draw through `real`, recorded or replayed (both ABIs' hooks).
unsigned int RandomDeviceDraw(GetvalFn real, void* self) {
  EntropyScope scope;
  unsigned int v = 0;
  if (size_t served; Replayed(scope, kRandomDevice, &v, sizeof(v), &served)) return v;
  if (real) {
    v = real(self);
  } else {
    FillRandom(&v, sizeof(v));  // unreachable in practice: libstdc++ defines the caller's symbol
  }
  if (scope.recording()) Record(kRandomDevice, &v, sizeof(v), 0);
  return v;
}

}  // namespace
}  // namespace ddrr::interpose

using namespace ddrr::interpose;  // NOLINT(build/namespaces): hooks must be global C symbols

extern "C" {

DDRR_EXPORT ssize_t getrandom(void* buf, size_t len, unsigned int flags) {
  auto real = DDRR_NEXT(GetrandomFn, "getrandom");
  EntropyScope scope;
  if (size_t served; Replayed(scope, kGetrandom, buf, len, &served, flags))
    return static_cast<ssize_t>(served);
  const ssize_t got =
      real ? real(buf, len, flags)
           : RawSyscall(SYS_getrandom, reinterpret_cast<long>(buf), static_cast<long>(len), flags);
  if (scope.recording() && got > 0) Record(kGetrandom, buf, static_cast<size_t>(got), flags);
  return got;
}

DDRR_EXPORT int getentropy(void* buf, size_t len) {
  auto real = DDRR_NEXT(GetentropyFn, "getentropy");
  EntropyScope scope;
  if (size_t served; len > 0 && Replayed(scope, kGetentropy, buf, len, &served)) return 0;
  int rc;
  if (real) {
    rc = real(buf, len);
  } else if (len > 256) {
    errno = EIO;
    rc = -1;
  } else {
    rc = RawSyscall(SYS_getrandom, reinterpret_cast<long>(buf), static_cast<long>(len), 0) ==
                 static_cast<long>(len)
             ? 0
             : -1;
  }
  if (scope.recording() && rc == 0 && len > 0) Record(kGetentropy, buf, len, 0);
  return rc;
}

DDRR_EXPORT long syscall(long number, ...) noexcept {
  // Six register arguments whatever the number: the kernel ABI takes at most six, and reading
  // unused ones is harmless on the register-passing ABIs glibc's own syscall() relies on too.
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& v : a) v = va_arg(ap, long);
  va_end(ap);
  auto real = DDRR_NEXT(SyscallFn, "syscall");
  if (number != SYS_getrandom) {
    return real ? real(number, a[0], a[1], a[2], a[3], a[4], a[5])
                : RawSyscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  }
  EntropyScope scope;
  if (size_t served; Replayed(scope, kSyscallGetrandom, reinterpret_cast<void*>(a[0]),
                              static_cast<size_t>(a[1]), &served, static_cast<uint32_t>(a[2])))
    return static_cast<long>(served);
  const long got = real ? real(number, a[0], a[1], a[2], a[3], a[4], a[5])
                        : RawSyscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  if (scope.recording() && got > 0) {
    Record(kSyscallGetrandom, reinterpret_cast<const void*>(a[0]), static_cast<size_t>(got),
           static_cast<uint32_t>(a[2]));
  }
  return got;
}

DDRR_EXPORT int open(const char* path, int flags, ...) {
  const mode_t mode = DDRR_OPEN_MODE(flags);
  auto real = DDRR_NEXT(OpenFn, "open");
  if (!real) return DoOpenat(nullptr, AT_FDCWD, path, flags, mode);
  return TrackOpen(real(path, flags, mode), path);
}

DDRR_EXPORT int open64(const char* path, int flags, ...) {
  const mode_t mode = DDRR_OPEN_MODE(flags);
  auto real = DDRR_NEXT(OpenFn, "open64");
  if (!real) return DoOpenat(nullptr, AT_FDCWD, path, flags | O_LARGEFILE, mode);
  return TrackOpen(real(path, flags, mode), path);
}

DDRR_EXPORT int openat(int dirfd, const char* path, int flags, ...) {
  const mode_t mode = DDRR_OPEN_MODE(flags);
  return DoOpenat(DDRR_NEXT(OpenatFn, "openat"), dirfd, path, flags, mode);
}

DDRR_EXPORT int openat64(int dirfd, const char* path, int flags, ...) {
  const mode_t mode = DDRR_OPEN_MODE(flags);
  return DoOpenat(DDRR_NEXT(OpenatFn, "openat64"), dirfd, path, flags | O_LARGEFILE, mode);
}

// _FORTIFY_SOURCE builds call these when the flags are not a compile-time constant.
DDRR_EXPORT int __open_2(const char* path, int flags) {
  auto real = DDRR_NEXT(Open2Fn, "__open_2");
  if (!real) return DoOpenat(nullptr, AT_FDCWD, path, flags, 0);
  return TrackOpen(real(path, flags), path);
}

DDRR_EXPORT int __open64_2(const char* path, int flags) {
  auto real = DDRR_NEXT(Open2Fn, "__open64_2");
  if (!real) return DoOpenat(nullptr, AT_FDCWD, path, flags | O_LARGEFILE, 0);
  return TrackOpen(real(path, flags), path);
}

DDRR_EXPORT int __openat_2(int dirfd, const char* path, int flags) {
  auto real = DDRR_NEXT(Openat2Fn, "__openat_2");
  if (!real) return DoOpenat(nullptr, dirfd, path, flags, 0);
  return TrackOpen(real(dirfd, path, flags), path);
}

DDRR_EXPORT int __openat64_2(int dirfd, const char* path, int flags) {
  auto real = DDRR_NEXT(Openat2Fn, "__openat64_2");
  if (!real) return DoOpenat(nullptr, dirfd, path, flags | O_LARGEFILE, 0);
  return TrackOpen(real(dirfd, path, flags), path);
}

DDRR_EXPORT ssize_t read(int fd, void* buf, size_t count) {
  auto real = DDRR_NEXT(ReadFn, "read");
  const ssize_t got =
      real ? real(fd, buf, count)
           : RawSyscall(SYS_read, fd, reinterpret_cast<long>(buf), static_cast<long>(count));
  return MaybeRandomFd(fd) ? RecordRead(fd, buf, got) : got;
}

DDRR_EXPORT ssize_t __read_chk(int fd, void* buf, size_t count, size_t buflen) {
  auto real = DDRR_NEXT(ReadChkFn, "__read_chk");
  if (!real) return read(fd, buf, count);
  const ssize_t got = real(fd, buf, count, buflen);
  return MaybeRandomFd(fd) ? RecordRead(fd, buf, got) : got;
}

DDRR_EXPORT int close(int fd) {
  // Forget before closing: after the close another thread may get this number for a new open.
  if (fd >= 0 && fd < kMaxFd) g_random_fd[fd].store(0, std::memory_order_relaxed);
  auto real = DDRR_NEXT(CloseFn, "close");
  return real ? real(fd) : static_cast<int>(RawSyscall(SYS_close, fd));
}

// unsigned int std::random_device::_M_getval(): the draw behind operator(). On x86 it may be
// RDRAND, invisible to every other hook here.
DDRR_EXPORT unsigned int _ZNSt13random_device9_M_getvalEv(void* self) {
  return RandomDeviceDraw(DDRR_NEXT(GetvalFn, "_ZNSt13random_device9_M_getvalEv"), self);
}

// The pre-C++11-ABI twin, used by objects built against old libstdc++ headers.
DDRR_EXPORT unsigned int _ZNSt13random_device13_M_getval_pretrEv(void* self) {
  return RandomDeviceDraw(DDRR_NEXT(GetvalFn, "_ZNSt13random_device13_M_getval_pretrEv"), self);
}

DDRR_EXPORT uint32_t arc4random() noexcept {
  auto real = DDRR_NEXT(Arc4Fn, "arc4random");
  EntropyScope scope;
  uint32_t v = 0;
  if (size_t served; Replayed(scope, kArc4random, &v, sizeof(v), &served)) return v;
  if (real) {
    v = real();
  } else {
    FillRandom(&v, sizeof(v));
  }
  if (scope.recording()) Record(kArc4random, &v, sizeof(v), 0);
  return v;
}

DDRR_EXPORT void arc4random_buf(void* buf, size_t n) noexcept {
  auto real = DDRR_NEXT(Arc4BufFn, "arc4random_buf");
  EntropyScope scope;
  if (size_t served; n > 0 && Replayed(scope, kArc4random, buf, n, &served)) return;
  if (real) {
    real(buf, n);
  } else {
    FillRandom(buf, n);
  }
  if (scope.recording() && n > 0) Record(kArc4random, buf, n, 0);
}

// Records the value returned, not the draws behind it: a replay hands back the result.
DDRR_EXPORT uint32_t arc4random_uniform(uint32_t upper_bound) noexcept {
  auto real = DDRR_NEXT(Arc4UniformFn, "arc4random_uniform");
  EntropyScope scope;
  uint32_t v = 0;
  if (size_t served; Replayed(scope, kArc4random, &v, sizeof(v), &served)) return v;
  if (real) {
    v = real(upper_bound);
  } else if (upper_bound > 1) {
    uint32_t r;
    FillRandom(&r, sizeof(r));
    v = r % upper_bound;  // slight bias; only without glibc's arc4random, which never calls here
  }
  if (scope.recording()) Record(kArc4random, &v, sizeof(v), 0);
  return v;
}

}  // extern "C"
