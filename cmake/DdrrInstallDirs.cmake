# Where `cmake --install` and the .deb put ddrr's files (docs/INSTALL.md): the programs a user
# runs in bin/, the libraries a user names (LD_PRELOAD, -lddrr) in lib/, the host runtime and emu
# in ddrr's own lib/ddrr/, ddrr-replay-rank in libexec/ddrr/. The same layout, seen from bin/,
# is what an installed ddrr looks for (src/launch/installed.cc) and what its RPATH names.
include(GNUInstallDirs)
set(DDRR_INSTALL_PRIVATE_LIBDIR ${CMAKE_INSTALL_LIBDIR}/ddrr)
set(DDRR_INSTALL_PRIVATE_LIBEXECDIR ${CMAKE_INSTALL_LIBEXECDIR}/ddrr)

# DDRR_<NAME>_FROM_BIN: the install directory `dir` as a path from bin/ (e.g. "../lib").
foreach(_name LIB PRIVATE_LIB PRIVATE_LIBEXEC)
  if(_name STREQUAL "LIB")
    set(_dir ${CMAKE_INSTALL_LIBDIR})
  else()
    set(_dir ${DDRR_INSTALL_${_name}DIR})
  endif()
  if(NOT IS_ABSOLUTE "${_dir}")
    set(_dir ${CMAKE_INSTALL_PREFIX}/${_dir})
  endif()
  file(RELATIVE_PATH DDRR_${_name}_FROM_BIN ${CMAKE_INSTALL_FULL_BINDIR} ${_dir})
endforeach()
