// The dlsym hook: programs that dlopen NCCL, the CUDA runtime or cuRAND and look their functions
// up with dlsym(handle, ...) (XLA's nccl_stub.cc, vLLM's pynccl through ctypes, xgboost) get
// libddrr's wrappers, so their calls are recorded like linked ones.
//
// dlsym(handle or RTLD_DEFAULT, name), where libddrr wraps `name` (it exports it: nccl*, cuda*,
// curand*) and the real lookup found a definition in the library the wrapper forwards to: the
// wrapper. Everything else, RTLD_NEXT included, is the real dlsym's answer, with dlerror() as it
// left it. A definition in another copy of the library (two NCCLs loaded) is handed back as
// found, unrecorded, with one warning: the wrapper would forward to the wrong copy.
//
// Why a jump and no emulation of the caller: glibc resolves RTLD_NEXT and RTLD_DEFAULT relative
// to the object that called dlsym, which it takes from its return address. Called from here, they
// would resolve for libddrr: a second interposer's dlsym(RTLD_NEXT, f) would find its own f and
// recurse. Re-implementing the search is not faithful either: RTLD_NEXT from an object dlopened
// RTLD_LOCAL searches that object's dependency group (glibc 2.36 finds libc's getpid there,
// though libc comes before the object in link-map order), RTLD_DEFAULT adds the caller's local
// scope, and neither list is public. So the exported entry is a few instructions of assembly
// that ask ddrr_dlsym_route what to do and then either return its answer or jump, without a
// call, to the real dlsym: glibc sees the application's return address and answers exactly as
// without ddrr.
//
// No dlopen hook: a handle is only useful through dlsym, hooked here; PLT calls from dlopened
// libraries bind to libddrr first in the global scope; and the wrappers find a library opened
// RTLD_LOCAL, even by path, through dlopen(soname, RTLD_NOLOAD) on their first call. Not covered:
// dlvsym, cuGetProcAddress/cudaGetDriverEntryPoint, libraries opened with RTLD_DEEPBIND (their
// own calls bind inside their group).
//
// The hook may run before any constructor and inside a malloc hook: the pass-through path (every
// name that is not nccl*/cuda*/curand*, and RTLD_NEXT) touches one atomic and allocates nothing.
#include "interpose/dl_hooks.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdint>
#include <cstring>

#include "common/log.h"
#include "interpose/wrapper_support.h"

namespace ddrr::interpose {

#if defined(__x86_64__)

namespace {

using DlsymFn = void* (*)(void*, const char*);

std::atomic<DlsymFn> g_real{nullptr};
// initial-exec: libddrr is preloaded, so reaching its TLS never calls __tls_get_addr.
__attribute__((tls_model("initial-exec"))) thread_local bool t_finding_real = false;

// glibc 2.34 moved dlsym into libc under a new default version; older ones have the base version
// only (where both exist they are one function). A failed first lookup allocates its error
// message; if a malloc hook calls dlsym from there, the nested lookup takes the base version.
DlsymFn FindReal() {
  void* p = nullptr;
  if (!t_finding_real) {
    t_finding_real = true;
    p = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    t_finding_real = false;
  }
  if (p == nullptr) p = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
  return reinterpret_cast<DlsymFn>(p);
}

DlsymFn Real() {
  DlsymFn fn = g_real.load(std::memory_order_acquire);
  if (fn != nullptr) return fn;
  fn = FindReal();
  if (fn != nullptr) {
    g_real.store(fn, std::memory_order_release);
  } else {
    DDRR_WARN_ONCE("cannot find the real dlsym; dlsym returns NULL");
  }
  return fn;
}

// A name libddrr may wrap; whether it does is a lookup away (it exports exactly what it wraps).
bool MayBeWrapped(const char* name) {
  return name != nullptr && (strncmp(name, "nccl", 4) == 0 || strncmp(name, "cuda", 4) == 0 ||
                             strncmp(name, "curand", 6) == 0);
}

Library LibraryOf(const char* name) {
  if (name[0] == 'n') return Library::kNccl;
  return strncmp(name, "curand", 6) == 0 ? Library::kCurand : Library::kCudart;
}

// dlsym(handle, name) for a name libddrr wraps with `wrapper`.
void* LookUpInHandle(DlsymFn real, void* handle, const char* name, void* wrapper) {
  void* found = real(handle, name);
  if (found == nullptr || InLibddrr(found)) return found;  // dlerror as the real call left it
  const void* target = Resolve(LibraryOf(name), name);
  const bool same_library = target != nullptr && SameObject(target, found);
  if (!same_library) {
    DDRR_WARN_ONCE(
        "dlsym(%s) found it in a library that ddrr does not forward to (a second copy?); "
        "calls through that handle are not recorded",
        name);
  }
  // Resolve's lookups may have failed on the way; after a successful dlsym, dlerror() is NULL.
  // This lookup cannot fail (libddrr exports dlsym) and clears it.
  real(RTLD_DEFAULT, "dlsym");
  return same_library ? wrapper : found;
}

}  // namespace

void* RealDlsym(void* handle, const char* name) {
  const DlsymFn real = Real();
  return real != nullptr ? real(handle, name) : nullptr;
}

// What the assembly entry does next: return `value` (is_result != 0), or jump to it: the real
// dlsym, with the caller's arguments and return address.
struct DlsymRoute {
  void* value;
  uintptr_t is_result;
};

extern "C" __attribute__((visibility("hidden"))) DlsymRoute ddrr_dlsym_route(void* handle,
                                                                             const char* name) {
  const DlsymFn real = Real();
  if (real == nullptr) return {nullptr, 1};
  void* const pass = reinterpret_cast<void*>(real);
  if (handle == RTLD_NEXT || !MayBeWrapped(name)) return {pass, 0};
  // libddrr is in the global scope, which RTLD_DEFAULT searches first for every caller: this
  // finds the wrapper exactly when libddrr wraps the name and the program defines none itself.
  void* wrapper = real(RTLD_DEFAULT, name);
  if (wrapper == nullptr || !InLibddrr(wrapper)) return {pass, 0};
  if (handle == RTLD_DEFAULT) return {wrapper, 1};
  return {LookUpInHandle(real, handle, name, wrapper), 1};
}

#else  // no hook on this architecture: plain dlsym is the real one

void* RealDlsym(void* handle, const char* name) { return dlsym(handle, name); }

#endif

}  // namespace ddrr::interpose

#if defined(__x86_64__)
// The exported dlsym (see the top of the file). The route is called with the two arguments
// saved (and the stack 16-byte aligned); its result comes back in rax (value) and rdx
// (is_result). endbr64 is a no-op without CET and keeps the entry valid with it.
asm(R"(
    .text
    .globl dlsym
    .type dlsym, @function
    .p2align 4
dlsym:
    .cfi_startproc
    endbr64
    pushq %rdi
    .cfi_adjust_cfa_offset 8
    pushq %rsi
    .cfi_adjust_cfa_offset 8
    subq $8, %rsp
    .cfi_adjust_cfa_offset 8
    call ddrr_dlsym_route
    addq $8, %rsp
    .cfi_adjust_cfa_offset -8
    popq %rsi
    .cfi_adjust_cfa_offset -8
    popq %rdi
    .cfi_adjust_cfa_offset -8
    testq %rdx, %rdx
    jnz 1f
    jmpq *%rax
1:
    ret
    .cfi_endproc
    .size dlsym, .-dlsym
)");
#endif
