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
# lost events are counted and said, never silent: a 4 KiB ring cannot hold
# dd's stream; events + lost must account for every sequence number
"$LF" trace record -o "$TMPDIR/l.trace" --buffer 4K -- dd if=/dev/zero of="$TMPDIR/z" bs=512 count=100000 2>"$TMPDIR/l.err" >/dev/null
if grep -q "events lost; use a larger --buffer" "$TMPDIR/l.err" &&
   "$LF" trace show --format json "$TMPDIR/l.trace" | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin]
lost = sum(e.get("count", 0) for e in ev if e["syscall"] == "lost")
seqs = [e["seq"] for e in ev if e["syscall"] not in ("lost", "cwd_snap")]
assert lost > 0, "nothing lost with a 4K ring?"
# every kernel sequence number is either delivered or counted lost
assert max(seqs) - min(seqs) + 1 <= len(seqs) + lost + 2, (max(seqs), min(seqs), len(seqs), lost)
assert len(set(seqs)) == len(seqs), "duplicate sequence numbers"
'; then pass trace_lost_counted; else fail trace_lost_counted "$(cat "$TMPDIR/l.err")"; fi
# under sudo the command runs as the invoking user
u=$(SUDO_UID=65534 SUDO_GID=65534 "$LF" trace record -q -o "$TMPDIR/u.trace" -- id -u)
[ "$u" = 65534 ] && pass trace_sudo_runs_as_user || fail trace_sudo_runs_as_user "ran as uid $u"
