#!/bin/sh
# tests/run.sh — run every test and end with `N passed, N failed[, N skipped]`.
#
# A test is a unit-test binary (build/asan/tests/test_*) or a shell script
# (tests/cli/*.sh).  Tests print `PASS name`, `FAIL name: why`, `SKIP name:
# why` lines; a test that exits non-zero without a FAIL line counts as one
# failure, one that prints nothing and exits 0 as one pass.
#   sh tests/run.sh            all tests
#   sh tests/run.sh kv         only tests whose name contains "kv"
# Two tests run at a time (JOBS=N to change).  Logs: build/test-logs/.
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
filter=${1:-}
jobs=${JOBS:-2}
logs=build/test-logs
if [ -z "${LFS_RUN_ONE:-}" ]; then   # not in the per-test re-invocations below
	rm -rf "$logs"
	mkdir -p "$logs"
fi
export LIGHTFS="$top/build/asan/lightfs"
export LIGHTFS_REL="$top/build/rel/lightfs"
export TOOLS="$top/build/asan/tests/tools"
export TOP="$top"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

list=$logs/.list
if [ -z "${LFS_RUN_ONE:-}" ]; then   # (re-invocations must not rewrite it while xargs reads it)
: >"$list"
for t in build/asan/tests/test_*; do
	[ -x "$t" ] && [ -f "$t" ] && echo "$t" >>"$list"
done
for t in tests/cli/*.sh; do
	[ -f "$t" ] && [ "$(basename "$t")" != lib.sh ] && echo "$t" >>"$list"
done
if [ -n "$filter" ]; then
	grep -- "$filter" "$list" >"$list.f"; mv "$list.f" "$list"
fi
fi

run_one() {
	t=$1
	name=$(basename "$t" .sh)
	log=$top/$logs/$name.log
	tmp=$(mktemp -d /tmp/lfs-test.XXXXXX)
	start=$(date +%s)
	case $t in
	*.sh) (cd "$tmp" && TMPDIR=$tmp timeout 900 sh "$top/$t") >"$log" 2>&1 ;;
	*)    (cd "$tmp" && TMPDIR=$tmp timeout 900 "$top/$t") >"$log" 2>&1 ;;
	esac
	rc=$?
	end=$(date +%s)
	rm -rf "$tmp"
	echo "# exit $rc after $((end - start))s" >>"$log"
	np=$(grep -c '^PASS ' "$log"); nf=$(grep -c '^FAIL ' "$log"); ns=$(grep -c '^SKIP ' "$log")
	if [ "$rc" -ne 0 ] && [ "$nf" -eq 0 ]; then
		echo "FAIL $name: exited $rc" >>"$log"; nf=1
	fi
	[ "$rc" -eq 0 ] && [ $((np + nf + ns)) -eq 0 ] && { echo "PASS $name" >>"$log"; np=1; }
	printf '%-28s %3d passed %3d failed %3d skipped  (%ss)\n' "$name" "$np" "$nf" "$ns" "$((end - start))"
}
# POSIX sh has no export -f: re-invoke ourselves for each item.
if [ "${LFS_RUN_ONE:-}" ]; then run_one "$LFS_RUN_ONE"; exit 0; fi
xargs -P "$jobs" -I{} env LFS_RUN_ONE={} sh "$top/tests/run.sh" <"$list"

cat "$logs"/*.log | grep -E '^(FAIL|SKIP) ' | sed 's/^/  /'
passed=$(cat "$logs"/*.log | grep -c '^PASS ')
failed=$(cat "$logs"/*.log | grep -c '^FAIL ')
skipped=$(cat "$logs"/*.log | grep -c '^SKIP ')
if [ "$failed" -gt 0 ]; then
	echo "Failing logs are in $logs/ (tail of each below)"
	for l in $(grep -l '^FAIL ' "$logs"/*.log); do echo "--- $l"; tail -n 15 "$l"; done
fi
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
