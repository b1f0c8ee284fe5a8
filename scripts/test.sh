#!/usr/bin/env bash
# The whole test suite: install what is needed, then build and run every test twice - a plain
# (optimised, warnings as errors) build and an AddressSanitizer + UndefinedBehaviorSanitizer debug
# build - and fuzz the receive path for FUZZ_SECONDS (default 60). Fails on any test failure, any
# sanitizer report, any leak and any fuzzer crash.
#
# Usage: scripts/test.sh [ctest args...]      e.g. scripts/test.sh -L unit, scripts/test.sh -R skb
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash scripts/setup.sh

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
status=0
for flavour in plain sanitize; do
	dir="build-test-$flavour"
	echo "=== $flavour build ($dir)"
	bash scripts/build.sh "$dir" "$flavour"
	log="$top/$dir/ctest.log"
	if ! (cd "$dir" && ctest --output-on-failure --timeout 600 "$@" 2>&1 | tee "$log"; exit "${PIPESTATUS[0]}"); then
		echo "=== $flavour: tests FAILED"
		status=1
	fi
	if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$log"; then
		echo "=== $flavour: sanitizer report in the test output"
		status=1
	fi
done
echo "=== fuzz: the receive path under libFuzzer, ${FUZZ_SECONDS:-60} s"
if ! bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}"; then
	echo "=== fuzz FAILED"
	status=1
fi
if [ $status -eq 0 ]; then
	echo "=== all tests passed in both builds, and the fuzzer found nothing"
fi
exit $status
