// "The real function" for ddrr's preload libraries (libddrr.so, libddrr_gpushare.so): the
// definition the library would reach if it did not define the name itself.
#pragma once

#include <initializer_list>

namespace ddrr {

using LookupFn = void* (*)(void* handle, const char* name);

// True when `a` and `b` lie in one loaded object.
bool SameObject(const void* a, const void* b);

// The first of `names` defined after the object holding `self` in lookup order (RTLD_NEXT),
// else in the already loaded `soname` (a library dlopened RTLD_LOCAL is loaded but outside the
// global scope); never a definition inside `self`'s own object, which would recurse. Null when
// there is none; a null `soname` looks at RTLD_NEXT only. `lookup` is dlsym, or the real dlsym for
// an object that wraps dlsym; either way RTLD_NEXT is taken relative to the object this code is
// linked into.
void* FindNextDefinition(std::initializer_list<const char*> names, const char* soname,
                         const void* self, LookupFn lookup);

}  // namespace ddrr
