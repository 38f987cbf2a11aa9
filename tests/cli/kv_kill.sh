#!/bin/sh
# kill -9 of a KV writer at random times: each time the image reopens, holds
# every batch acknowledged durable and no part of an uncommitted batch.
. "$TOP/tests/cli/lib.sh"
img=$TMPDIR/kill.img
rounds=${KV_KILL_ROUNDS:-8}
i=0
while [ $i -lt $rounds ]; do
	i=$((i + 1))
	rm -f "$img" "$img.compact~"
	"$TOOLS/kv_writer" write "$img" >"$TMPDIR/acks" 2>"$TMPDIR/werr" &
	pid=$!
	# 0.2 .. 1.4 s
	sleep "$(awk -v s="$$$i" 'BEGIN { srand(s); printf "%.2f", 0.2 + rand() * 1.2 }')"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	acked=$(tail -n 1 "$TMPDIR/acks"); acked=${acked:-0}
	if out=$("$TOOLS/kv_writer" check "$img" "$acked" 2>&1); then
		pass "kv_kill_$i (acked $acked, image at batch $out)"
	else
		fail "kv_kill_$i" "acked $acked: $out $(head -c 200 "$TMPDIR/werr")"
	fi
done
# while a writer is alive, a second writer is refused at once with its pid
"$TOOLS/kv_writer" write "$TMPDIR/live.img" >/dev/null 2>&1 &
pid=$!
sleep 0.5
expect_exit 3 kv_kill_locked "$LF" kv "$TMPDIR/live.img" put x y
expect_err kv_kill_locked_msg "image is in use by pid $pid"
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
exit 0
