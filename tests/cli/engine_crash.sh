#!/bin/sh
# kill -9 of a process writing through the engine (page cache, writeback
# txns, io channel) at random moments: after each kill the image opens, every
# byte an fsync acknowledged is there, and the file is an exact prefix of
# what was written (nothing half-written or out of order).  ENGINE_CRASH_SEED
# replays a run; ENGINE_CRASH_ROUNDS sets the number of kills.
. "$TOP/tests/cli/lib.sh"
seed=${ENGINE_CRASH_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
rounds=${ENGINE_CRASH_ROUNDS:-6}
echo "# engine_crash: seed $seed (ENGINE_CRASH_SEED=$seed to replay)"
img=$TMPDIR/crash.lfs
i=0
while [ $i -lt $rounds ]; do
	i=$((i + 1))
	s=$((seed + i))
	rm -f "$img"
	if [ $((i % 2)) = 1 ]; then
		# the writer kills itself right after its N-th fsync returned
		n=$(awk -v s="$s" 'BEGIN { srand(s); printf "%d", 1 + rand() * 60 }')
		"$TOOLS/engine_crash" write "$img" "$s" "$n" >"$TMPDIR/acks" 2>"$TMPDIR/werr"
	else
		"$TOOLS/engine_crash" write "$img" "$s" >"$TMPDIR/acks" 2>"$TMPDIR/werr" &
		pid=$!
		# 0.3 .. 1.5 s into the run
		sleep "$(awk -v s="$s" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 1.2 }')"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
	fi
	acked=$(tail -n 1 "$TMPDIR/acks"); acked=${acked:-0}
	if grep -q '^engine_crash:\|ERROR\|runtime error' "$TMPDIR/werr"; then
		fail "engine_crash_$i" "writer failed (seed $s): $(head -c 300 "$TMPDIR/werr")"
		continue
	fi
	if [ ! -s "$TMPDIR/acks" ]; then
		# killed before the first fsync came back: the image may be empty
		pass "engine_crash_$i (killed before the first fsync, seed $s)"
		continue
	fi
	if out=$("$TOOLS/engine_crash" check "$img" "$s" "$acked" 2>&1); then
		pass "engine_crash_$i (seed $s: $acked bytes acknowledged, $out on the image)"
	else
		fail "engine_crash_$i" "seed $s, acked $acked: $out"
	fi
done
exit 0
