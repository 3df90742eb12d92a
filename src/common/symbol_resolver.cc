#include "common/symbol_resolver.h"

#include <dlfcn.h>

namespace ddrr {

bool SameObject(const void* a, const void* b) {
  Dl_info ia{}, ib{};
  return dladdr(a, &ia) && dladdr(b, &ib) && ia.dli_fbase == ib.dli_fbase;
}

void* FindNextDefinition(std::initializer_list<const char*> names, const char* soname,
                         const void* self, LookupFn lookup) {
  const auto first_outside = [&](void* handle) -> void* {
    for (const char* name : names) {
      void* p = lookup(handle, name);
      if (p != nullptr && !SameObject(p, self)) return p;
    }
    return nullptr;
  };
  if (void* p = first_outside(RTLD_NEXT)) return p;
  if (soname == nullptr) return nullptr;
  void* handle = dlopen(soname, RTLD_NOLOAD | RTLD_LAZY);
  if (handle == nullptr) return nullptr;
  void* p = first_outside(handle);
  dlclose(handle);
  return p;
}

}  // namespace ddrr
