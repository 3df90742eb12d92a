# `cmake --install`, the CMake package, ddrr.pc, the man page, the bash completion and the .deb
# (cpack -G DEB). What goes where: docs/INSTALL.md; the directories: DdrrInstallDirs.cmake.
include(CMakePackageConfigHelpers)

set(DDRR_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/ddrr)
set(DDRR_INSTALL_PYTHONDIR lib/python3/dist-packages CACHE STRING
    "Where the Python package python/ddrr is installed, relative to the prefix (Debian's python3 \
searches /usr/lib/python3/dist-packages)")

# Installed programs run without LD_LIBRARY_PATH: ddrr finds the install's lib/ from its own
# directory; ddrr-replay-rank, linked against the CUDA runtime and NCCL, keeps the toolkit
# directory it was linked with, as in the build tree (`ddrr replay --host` puts the host runtime
# ahead of it).
set_target_properties(ddrr PROPERTIES INSTALL_RPATH "$ORIGIN/${DDRR_LIB_FROM_BIN}")
install(TARGETS ddrr RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET ddrr-replay-rank)
  set_target_properties(ddrr-replay-rank PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
  install(TARGETS ddrr-replay-rank RUNTIME DESTINATION ${DDRR_INSTALL_PRIVATE_LIBEXECDIR})
endif()

# libddrr.so is the recorder to preload and the library behind include/ddrr/ddrr.h (ddrr::ddrr).
if(TARGET ddrr_preload)
  set_target_properties(ddrr_preload PROPERTIES EXPORT_NAME ddrr)
  install(TARGETS ddrr_preload EXPORT ddrrTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT ddrrTargets NAMESPACE ddrr:: DESTINATION ${DDRR_INSTALL_CMAKEDIR})
  configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/ddrrConfig.cmake.in
                                ${PROJECT_BINARY_DIR}/package/ddrrConfig.cmake
                                INSTALL_DESTINATION ${DDRR_INSTALL_CMAKEDIR})
  # 0.x: a minor version may change the C API.
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/ddrrConfigVersion.cmake
                                   COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/package/ddrrConfig.cmake
                ${PROJECT_BINARY_DIR}/package/ddrrConfigVersion.cmake
          DESTINATION ${DDRR_INSTALL_CMAKEDIR})
  # ddrr.pc names the prefix it is installed under (the .deb's differs from the configured one),
  # so it is written at install time.
  set(_pc ${CMAKE_INSTALL_LIBDIR}/pkgconfig/ddrr.pc)
  install(CODE "
    set(_pc \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${_pc}\")
    message(STATUS \"Installing: \${_pc}\")
    set(DDRR_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    set(DDRR_PC_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
    set(DDRR_PC_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
    set(DDRR_PC_VERSION \"${PROJECT_VERSION}\")
    configure_file(\"${CMAKE_CURRENT_LIST_DIR}/ddrr.pc.in\" \"\${_pc}\" @ONLY)
    list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${_pc}\")")
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ddrr DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
if(TARGET ddrr_gpushare)
  install(TARGETS ddrr_gpushare LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()

# The host runtime and emu keep the sonames of NVIDIA's libraries, so they live in ddrr's own
# directory, never on the loader's default path.
foreach(_lib ddrr_hostrt_cudart ddrr_hostrt_curand ddrr_hostrt_nccl)
  if(TARGET ${_lib})
    install(TARGETS ${_lib} LIBRARY DESTINATION ${DDRR_INSTALL_PRIVATE_LIBDIR}/hostrt)
  endif()
endforeach()
if(TARGET ddrr_emu_nccl)
  install(TARGETS ddrr_emu_nccl LIBRARY DESTINATION ${DDRR_INSTALL_PRIVATE_LIBDIR}/emu)
endif()

# The Python package, when the tree has one.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/python/ddrr DESTINATION ${DDRR_INSTALL_PYTHONDIR}
        OPTIONAL PATTERN __pycache__ EXCLUDE)

# Generated from the CLI itself at build time: the man page (help2man over --help), the bash
# completion (from --command-table).
set(_completion ${PROJECT_BINARY_DIR}/share/bash-completion/completions/ddrr)
add_custom_command(
  OUTPUT ${_completion}
  COMMAND ${CMAKE_COMMAND} -DDDRR=$<TARGET_FILE:ddrr> -DOUTPUT=${_completion}
          -DTEMPLATE=${CMAKE_CURRENT_LIST_DIR}/ddrr-completion.bash.in
          -P ${CMAKE_CURRENT_LIST_DIR}/DdrrCompletion.cmake
  DEPENDS ddrr ${CMAKE_CURRENT_LIST_DIR}/DdrrCompletion.cmake
          ${CMAKE_CURRENT_LIST_DIR}/DdrrCommandTable.cmake
          ${CMAKE_CURRENT_LIST_DIR}/ddrr-completion.bash.in
  COMMENT "Generating the bash completion of ddrr from ddrr --command-table"
  VERBATIM)
set(_generated ${_completion})
install(FILES ${_completion} DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions)

# Compressed, as Debian ships manual pages (man reads both).
find_program(HELP2MAN help2man)
find_program(GZIP gzip)
if(HELP2MAN AND GZIP)
  set(_man ${PROJECT_BINARY_DIR}/share/man/man1/ddrr.1.gz)
  add_custom_command(
    OUTPUT ${_man}
    COMMAND ${CMAKE_COMMAND} -DDDRR=$<TARGET_FILE:ddrr> -DHELP2MAN=${HELP2MAN} -DGZIP=${GZIP}
            -DOUTPUT=${_man} -P ${CMAKE_CURRENT_LIST_DIR}/DdrrManPage.cmake
    DEPENDS ddrr ${CMAKE_CURRENT_LIST_DIR}/DdrrManPage.cmake
            ${CMAKE_CURRENT_LIST_DIR}/DdrrCommandTable.cmake
    COMMENT "Generating ddrr.1 from ddrr --help (help2man)"
    VERBATIM)
  list(APPEND _generated ${_man})
  install(FILES ${_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "ddrr: help2man or gzip not found, so no man page (scripts/setup-deps "
                 "installs help2man)")
endif()
add_custom_target(ddrr_docs ALL DEPENDS ${_generated})

include(DdrrPackage)
