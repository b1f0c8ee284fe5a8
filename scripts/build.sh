#!/usr/bin/env bash
# Configure and build one flavour of ustack.
# Usage: build.sh DIR [plain|sanitize] [extra cmake args...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
flavour=${2:-plain}
shift $(( $# >= 2 ? 2 : 1 ))
case "$flavour" in
plain) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
sanitize) args=(-DCMAKE_BUILD_TYPE=Debug -DUSTACK_SANITIZE=ON) ;;
*) echo "build.sh: unknown flavour $flavour" >&2; exit 2 ;;
esac
cmake -S "$top" -B "$dir" -DUSTACK_WERROR=ON "${args[@]}" "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
