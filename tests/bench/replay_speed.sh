#!/bin/sh
# tests/bench/replay_speed.sh — replay speed of the largest shipped trace:
# decoding alone, replay on an in-memory image, replay on an image file
# (in $BENCH_DIR, journaled ext4), with peak RSS.  Targets: >= 1,000,000
# events/s replayed in memory, >= 10,000,000 events/s decoded, peak RSS on
# an image file bounded by the cache size (64 MiB) + a small constant.
B=${BENCHBIN:?run through make bench}/replay_bench
T=$TOP/traces
big=$(ls -S "$T"/*.trace | head -1)
echo "trace: $big ($(du -h "$big" | cut -f1))"
dec=$("$B" decode "$big" 50) || { echo "decode failed"; exit 1; }
echo "$dec"
mem=$("$B" replay "$big" 2>&1) || { echo "in-memory replay failed: $mem"; exit 1; }
rm -f "$BENCH_DIR/replay-bench.lfs"
disk=$("$B" replay "$big" "$BENCH_DIR/replay-bench.lfs") || { echo "image replay failed"; exit 1; }
rm -f "$BENCH_DIR/replay-bench.lfs"
echo "$mem"; echo "$disk"
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
printf '\n%-26s %14s %12s %14s\n' "" "events/s" "target" "peak RSS MiB"
printf '%-26s %14s %12s %14s\n' "decode only" "$(get "$dec" events_per_sec)" ">= 10000000" "$(( $(get "$dec" peak_rss_kib) / 1024 ))"
printf '%-26s %14s %12s %14s\n' "replay, in-memory image" "$(get "$mem" events_per_sec)" ">= 1000000" "$(( $(get "$mem" peak_rss_kib) / 1024 ))"
printf '%-26s %14s %12s %14s\n' "replay, image file" "$(get "$disk" events_per_sec)" "" "$(( $(get "$disk" peak_rss_kib) / 1024 ))"
echo "(replay events/s = trace events / time of the replay pass; end to end incl. prescan and set-up:"
echo " in-memory $(get "$mem" total_events_per_sec), image file $(get "$disk" total_events_per_sec);"
echo " the in-memory image holds the $(get "$mem" app_written_mib) MiB the trace wrote, so its RSS includes them;"
echo " the image-file RSS is the one bounded by cache $(get "$disk" cache_mib) MiB + a constant)"
