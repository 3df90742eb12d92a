# The .deb: `cpack -G DEB` in the build directory packages what `cmake --install` installs, under
# /usr. Its dependencies come from the files themselves (dpkg-shlibdeps).
set(DDRR_PACKAGE_MAINTAINER "ddrr developers" CACHE STRING
    "The Maintainer field of the .deb (name <email>)")
set(CPACK_PACKAGE_NAME ddrr)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR ddrr)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "multi-device record and replay for NCCL/CUDA distributed training")
set(CPACK_PACKAGE_DESCRIPTION
    "ddrr records what every rank of a distributed training job does at the NCCL, CUDA and RNG \
boundary (libddrr.so, preloaded by `ddrr record`), and reads the recording back offline: info, \
dump, check, diff, replay, export, report, bundle. Its host runtime runs unmodified CUDA/NCCL \
programs without a GPU.")
set(CPACK_PACKAGE_CONTACT "${DDRR_PACKAGE_MAINTAINER}")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
include(CPack)
