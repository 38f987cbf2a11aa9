#!/bin/sh
# Scale test of lib/kv: 1,000,000 keys x 100-byte values, overwritten 5
# times; reopening after round 5 must take about the time and memory it
# took after round 1 (cost does not grow with history).  Release build.
. "$TOP/tests/cli/lib.sh"
bin=$TOP/build/rel/tests/tools/kv_scale
n=${KV_SCALE_N:-1000000}
img=$TMPDIR/scale.img
[ -x "$bin" ] || { fail kv_scale "no $bin (make test-build)"; exit 0; }
"$bin" fill "$img" "$n" 1 >"$TMPDIR/f1" || { fail kv_scale "round 1: $(cat "$TMPDIR/f1")"; exit 0; }
r1=$("$bin" open "$img" "$n" 1) || { fail kv_scale "open after round 1: $r1"; exit 0; }
for r in 2 3 4 5; do
	"$bin" fill "$img" "$n" $r >"$TMPDIR/f$r" || { fail kv_scale "round $r"; exit 0; }
done
r5=$("$bin" open "$img" "$n" 5) || { fail kv_scale "open after round 5: $r5"; exit 0; }
echo "# after round 1: $r1 ($(cat "$TMPDIR/f1"))"
echo "# after round 5: $r5 ($(cat "$TMPDIR/f5"))"
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
t1=$(get "$r1" open_ms); t5=$(get "$r5" open_ms)
m1=$(get "$r1" rss_kb); m5=$(get "$r5" rss_kb)
f1=$(get "$r1" file_bytes); f5=$(get "$r5" file_bytes)
# "about the same": within 2x (+50 ms of noise) in time, 1.3x (+8 MiB) in RSS, 3x in file size
if awk -v a="$t1" -v b="$t5" 'BEGIN { exit !(b <= 2 * a + 50) }'; then pass kv_scale_reopen_time
else fail kv_scale_reopen_time "$t1 ms after round 1, $t5 ms after round 5"; fi
if awk -v a="$m1" -v b="$m5" 'BEGIN { exit !(b <= 1.3 * a + 8192) }'; then pass kv_scale_reopen_rss
else fail kv_scale_reopen_rss "$m1 kB after round 1, $m5 kB after round 5"; fi
if awk -v a="$f1" -v b="$f5" 'BEGIN { exit !(b <= 3 * a) }'; then pass kv_scale_file_size
else fail kv_scale_file_size "$f1 bytes after round 1, $f5 after round 5"; fi
