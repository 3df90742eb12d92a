#!/usr/bin/env bash
# install_test.sh CASE BUILD_DIR VERSION LIBDIR — ddrr installed from BUILD_DIR (LIBDIR: the
# install's library directory, relative to the prefix).
set -uo pipefail
case_name=$1 build=$2 version=$3 libdir=$4
source "$(dirname "$0")/../lib.sh"
consumer_src=$(cd "$(dirname "$0")/consumer" && pwd)
prefix=$work/prefix
install_prefix() {
  cmake --install "$build" --prefix "$prefix" >"$work/out" 2>&1 || fail "cmake --install failed"
}
# Nothing may come from the build tree or the caller's library path.
installed() { env -u LD_LIBRARY_PATH -u DDRR_LIB -u DDRR_HOSTRT_DIR -u DDRR_EMU_DIR \
  -u DDRR_GPUSHARE_LIB -u DDRR_REPLAY_DRIVER "$@"; }

case $case_name in
  layout)
    install_prefix
    for f in bin/ddrr "$libdir"/libddrr.so "$libdir"/libddrr_gpushare.so \
      "$libdir"/ddrr/hostrt/libcudart.so.13 "$libdir"/ddrr/hostrt/libcurand.so.10 \
      "$libdir"/ddrr/hostrt/libnccl.so.2 "$libdir"/ddrr/emu/libnccl.so.2 \
      libexec/ddrr/ddrr-replay-rank include/ddrr/ddrr.h "$libdir"/cmake/ddrr/ddrrConfig.cmake \
      "$libdir"/cmake/ddrr/ddrrConfigVersion.cmake "$libdir"/pkgconfig/ddrr.pc \
      share/bash-completion/completions/ddrr; do
      [ -e "$prefix/$f" ] || fail "not installed: $f"
    done
    # emu's directory holds its libnccl.so.2 alone: it goes first on LD_LIBRARY_PATH.
    [ -z "$(ls "$prefix/$libdir/ddrr/emu" | grep -v '^libnccl\.so')" ] || fail "emu dir not alone"
    [ "$(installed "$prefix/bin/ddrr" --version)" = "ddrr $version" ] || fail "ddrr --version"
    [[ $(readelf -d "$prefix/bin/ddrr") == *"PATH)"*"[\$ORIGIN/"* ]] || fail "no \$ORIGIN RPATH"
    if command -v help2man >/dev/null; then
      zcat "$prefix/share/man/man1/ddrr.1.gz" >"$work/ddrr.1" || fail "no ddrr.1.gz"
      grep -q '^\.SS "ddrr record"' "$work/ddrr.1" || fail "ddrr.1 lacks the record command"
    fi
    # The completion knows every command and their options, from the CLI itself.
    out=$(bash -c 'source "$1"
      complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _ddrr
        echo "${COMPREPLY[*]}"; }
      complete_words ddrr re; complete_words ddrr record --ou; complete_words ddrr run --host -- sgd
      complete_words ddrr check -o; complete_words ddrr record -o dir --lev' \
      _ "$prefix/share/bash-completion/completions/ddrr")
    [ "$out" = "$(printf 'record report replay\n--output\n\n\n--level')" ] \
      || fail "completion gave: $out" ;;
  record_check_replay)
    # The installed ddrr finds libddrr.so, the host runtime and ddrr-replay-rank in the prefix.
    install_prefix
    ddrr=$prefix/bin/ddrr
    installed "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 2 -- \
      "$build/bin/samples/sgd_allreduce" --steps 3 >"$work/out" 2>&1 || fail "record exited $?"
    grep -q 'ddrr: recorded 2 rank file(s)' "$work/out" || fail "not recorded"
    installed "$ddrr" check "$work/run" >"$work/out" 2>&1 || fail "check exited $?"
    grep -q 'no findings in 2 rank file(s)' "$work/out" || fail "check found problems"
    installed "$ddrr" replay "$work/run" --host --timeout 20 >"$work/out" 2>&1 \
      || fail "replay exited $?"
    grep -q '^reproduced' "$work/out" || fail "replay did not reproduce" ;;
  find_package)
    install_prefix
    cmake -S "$consumer_src" -B "$work/refused" -DCMAKE_PREFIX_PATH="$prefix" \
      -DDDRR_VERSION=$((${version%%.*} + 1)).0 >"$work/out" 2>&1 \
      && fail "find_package(ddrr) accepted the next major version"
    grep -q 'ddrrConfig.cmake, version: '"$version" "$work/out" || fail "refused for another reason"
    cmake -S "$consumer_src" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
      -DDDRR_VERSION="$version" >"$work/out" 2>&1 \
      || fail "find_package(ddrr $version) consumer did not configure"
    cmake --build "$work/consumer" >"$work/out" 2>&1 || fail "consumer did not build"
    consumer=$work/consumer/consumer ;;&
  pkg_config)
    install_prefix
    flags=$(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" pkg-config --cflags --libs ddrr) \
      || fail "pkg-config ddrr failed"
    [ "$(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" pkg-config --modversion ddrr)" = "$version" ] \
      || fail "pkg-config version"
    # shellcheck disable=SC2086
    cc -o "$work/consumer" "$consumer_src/consumer.c" $flags -Wl,-rpath,"$prefix/$libdir" \
      >"$work/out" 2>&1 || fail "cc with pkg-config flags failed"
    consumer=$work/consumer ;;&
  find_package | pkg_config)
    # The consumer runs on the installed libddrr.so: unrecorded, then recorded with its mark.
    [ "$(cd "$work" && DDRR_DISABLE=1 installed "$consumer")" = "ddrr_enabled=0" ] \
      || fail "unrecorded consumer"
    [[ $(ldd "$consumer") == *"=> $prefix/$libdir/libddrr.so "* ]] || fail "not the installed library"
    RANK=0 WORLD_SIZE=1 installed "$prefix/bin/ddrr" record -o "$work/run" -- "$consumer" \
      >"$work/out" 2>&1 || fail "record of the consumer exited $?"
    grep -q "ddrr_enabled=1" "$work/out" || fail "the consumer was not recorded"
    "$prefix/bin/ddrr" dump "$work/run" >"$work/out" 2>&1 || fail "dump exited $?"
    grep -q 'mark "consumer" step 7' "$work/out" || fail "mark not recorded" ;;
  deb)
    cpack -G DEB -B "$work/deb" --config "$build/CPackConfig.cmake" >"$work/out" 2>&1 \
      || fail "cpack -G DEB failed"
    deb=$(ls "$work"/deb/ddrr_*.deb) || fail "no .deb"
    dpkg-deb -f "$deb" Package Version >"$work/out" || fail "unreadable .deb"
    [ "$(cat "$work/out")" = "$(printf 'Package: ddrr\nVersion: %s' "$version")" ] \
      || fail "package fields: $(cat "$work/out")"
    depends=$(dpkg-deb -f "$deb" Depends)
    for lib in libprotobuf libzstd libarchive libnettle libstdc++; do
      [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
    done
    [[ $depends != *cuda* && $depends != *nccl* ]] || fail "Depends names CUDA/NCCL: $depends"
    dpkg-deb -c "$deb" >"$work/contents" || fail "unreadable .deb"
    grep -q ' \./usr/bin/ddrr$' "$work/contents" || fail "no /usr/bin/ddrr in the .deb"
    # Installing touches the system: only as root, one at a time, and not over another ddrr.
    if [ "$(id -u)" -ne 0 ] || ! command -v dpkg >/dev/null; then
      echo "SKIP: dpkg -i needs root and dpkg"; exit 77
    fi
    exec 9>/tmp/ddrr-deb-install-test.lock
    flock -n 9 || { echo "SKIP: another ddrr .deb install test is running"; exit 77; }
    status() { dpkg-query -W -f '${db:Status-Status}' ddrr 2>/dev/null; }
    if [ -n "$(status)" ] && [ "$(status)" != not-installed ] || [ -e /usr/bin/ddrr ]; then
      echo "SKIP: a ddrr package or /usr/bin/ddrr is already installed"; exit 77
    fi
    dpkg -i "$deb" >"$work/out" 2>&1 || {
      grep -q 'lock' "$work/out" && { echo "SKIP: dpkg is busy"; exit 77; }
      fail "dpkg -i failed"
    }
    trap 'dpkg --purge ddrr >/dev/null 2>&1; rm -rf "$work"' EXIT
    [ "$(installed /usr/bin/ddrr --version)" = "ddrr $version" ] || fail "/usr/bin/ddrr --version"
    installed /usr/bin/ddrr run --host -n 2 -- "$build/bin/samples/sgd_allreduce" --steps 2 \
      >"$work/out" 2>&1 || fail "/usr/bin/ddrr run --host exited $?"
    dpkg --purge ddrr >"$work/out" 2>&1 || fail "dpkg --purge failed"
    [ ! -e /usr/bin/ddrr ] && [ -z "$(status)" ] || fail "ddrr still installed after dpkg --purge" ;;
  *) fail "unknown case" ;;
esac
exit 0
