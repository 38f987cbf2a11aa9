# A recorder killed with SIGKILL leaves a readable prefix: show and stat
# read the events up to the last flush and say the trace is truncated; a
# file cut in the middle reads the same way; Ctrl-C (SIGINT) ends cleanly.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/cli/trace_lib.inc"
trace_need_bpf || exit 0
"$LF" trace record -q -o "$TMPDIR/k.trace" -- dd if=/dev/zero of="$TMPDIR/z" bs=512 count=100000000 2>/dev/null &
rp=$!
sleep 2.5
cp=$(cat /proc/$rp/task/$rp/children 2>/dev/null)
kill -9 $rp
wait $rp 2>/dev/null
[ -n "$cp" ] && kill -9 $cp 2>/dev/null
n=$("$LF" trace show "$TMPDIR/k.trace" 2>"$TMPDIR/show.err" | wc -l)
if [ "$n" -gt 1000 ] && grep -q truncated "$TMPDIR/show.err"; then pass "trace_killed_recorder_prefix ($n events)"
else fail trace_killed_recorder_prefix "$n events; $(cat "$TMPDIR/show.err")"; fi
"$LF" trace stat --json "$TMPDIR/k.trace" >"$TMPDIR/k.json"
if python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["truncated"] and not s["complete"] and s["events"] > 1000, s' "$TMPDIR/k.json"
then pass trace_killed_stat; else fail trace_killed_stat "$(head -c 300 "$TMPDIR/k.json")"; fi
# cut a complete trace in half
"$LF" trace record -q -o "$TMPDIR/c.trace" -- dd if=/dev/zero of="$TMPDIR/z" bs=512 count=200000 2>/dev/null
total=$("$LF" trace show "$TMPDIR/c.trace" | wc -l)
sz=$(stat -c %s "$TMPDIR/c.trace")
head -c $((sz / 2)) "$TMPDIR/c.trace" >"$TMPDIR/half.trace"
half=$("$LF" trace show "$TMPDIR/half.trace" 2>/dev/null | wc -l)
if [ "$half" -gt 0 ] && [ "$half" -lt "$total" ]; then pass "trace_cut_file_prefix ($half of $total)"
else fail trace_cut_file_prefix "$half of $total"; fi
# SIGINT: the recorder stops, writes a complete trace, exits 130
"$LF" trace record -q -o "$TMPDIR/i.trace" -- sleep 2 &
rp=$!
sleep 1
kill -INT $rp
wait $rp; rc=$?
st=$("$LF" trace stat --json "$TMPDIR/i.trace" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["complete"], s["truncated"])')
[ $rc -eq 130 ] && [ "$st" = "True False" ] && pass trace_sigint_clean || fail trace_sigint_clean "exit $rc, $st"
true
