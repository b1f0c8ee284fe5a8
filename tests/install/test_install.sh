#!/usr/bin/env bash
# Install ustack into a temporary prefix and build a small outside project against it, both ways:
# find_package(ustack) with CMake (shared and static targets), and pkg-config (shared and static).
# Usage: test_install.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
cc=${CC:-cc}

cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DUSTACK_BUILD_TESTS=OFF \
	-DUSTACK_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
cmake --build "$work/build" -j2 >/dev/null
cmake --install "$work/build" >/dev/null
libdir=$(find "$work/prefix" -name ustack.pc -printf '%h\n' | head -n 1)
test -n "$libdir" || { echo "FAIL: ustack.pc not installed"; exit 1; }
test -f "$work/prefix/include/ustack/ustack.h" || { echo "FAIL: headers not installed"; exit 1; }

echo "== CMake: find_package(ustack)"
cmake -S "$src/tests/install/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
LD_LIBRARY_PATH="$libdir/.." "$work/consumer/consumer_shared"
"$work/consumer/consumer_static"
# Read the dynamic section into a variable first: with pipefail, `grep -q` closing the pipe early
# can kill the writer with SIGPIPE and fail the pipeline although the match was found.
needed=$(readelf -d "$work/consumer/consumer_shared")
case $needed in
*"Shared library: [libustack.so"*) ;;
*) echo "FAIL: consumer_shared does not link libustack.so"; exit 1 ;;
esac

echo "== pkg-config ustack"
export PKG_CONFIG_PATH="$libdir"
# shellcheck disable=SC2046
"$cc" -o "$work/pc_shared" "$src/tests/install/consumer/consumer.c" $(pkg-config --cflags --libs ustack) \
	-Wl,-rpath,"$(pkg-config --variable=libdir ustack)"
"$work/pc_shared"
# shellcheck disable=SC2046
"$cc" -o "$work/pc_static" "$src/tests/install/consumer/consumer.c" $(pkg-config --cflags ustack) \
	"$(pkg-config --variable=libdir ustack)/libustack.a" $(pkg-config --libs --static ustack | sed 's/-lustack//')
"$work/pc_static"
echo "PASS: installed package found and linked by CMake and pkg-config"
