#!/bin/sh
# tests/bench/run.sh — run every tests/bench/*.sh (or those matching $1).
# Benchmarks compare lightfs with the tools users would pick instead, side by
# side in one run, and print ratios.  Work happens on a fresh journaled ext4
# loop mount (BENCH_DIR) because /tmp here is ext4 without a journal.
top=$(cd "$(dirname "$0")/../.." && pwd)
export TOP="$top" LIGHTFS="$top/build/rel/lightfs" BENCHBIN="$top/build/rel/bench"
# one benchmark run at a time on this machine: two would share the loop
# mount (one unmounting it under the other) and skew each other's figures
exec 9>/var/tmp/lightfs-bench.lock
if ! flock -n 9; then
	echo "bench: another 'make bench' is running (lock /var/tmp/lightfs-bench.lock); waiting for it"
	flock 9
fi
if [ -z "${BENCH_DIR:-}" ]; then
	img=/var/tmp/lightfs-bench.ext4
	mnt=/var/tmp/lightfs-bench
	umount "$mnt" 2>/dev/null
	rm -f "$img"; truncate -s 12G "$img"
	mkfs.ext4 -q -F -O has_journal "$img" && mkdir -p "$mnt" && mount -o loop "$img" "$mnt" \
		&& BENCH_DIR=$mnt || { echo "bench: could not loop-mount ext4; using /var/tmp"; BENCH_DIR=/var/tmp/lfsb; mkdir -p $BENCH_DIR; }
	cleanup() { cd /; umount "$mnt" 2>/dev/null; rm -f "$img"; }
	trap cleanup EXIT INT TERM
fi
export BENCH_DIR
echo "bench dir: $BENCH_DIR ($(findmnt -no FSTYPE,OPTIONS --target "$BENCH_DIR" 2>/dev/null))"
for b in "$top"/tests/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	[ -n "${1:-}" ] && case "$(basename "$b")" in *"$1"*) ;; *) continue ;; esac
	echo; echo "=== $(basename "$b" .sh)"
	(cd "$BENCH_DIR" && sh "$b") || echo "bench $(basename "$b"): FAILED"
done
