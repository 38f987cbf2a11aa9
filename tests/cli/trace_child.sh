# Trace tests/tools/trace_child.c (a known sequence of file syscalls, a
# fork and a thread) and check the recorded events one by one against the
# sequence the program reports; then show/stat/export/json on that trace.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/cli/trace_lib.inc"
trace_need_bpf || exit 0
# built here without sanitizers: ASan would add its own syscalls
cc -O2 -pthread -o "$TMPDIR/child" "$TOP/tests/tools/trace_child.c" || { fail trace_child_build "cc failed"; exit 0; }
mkdir -p "$TMPDIR/w"
"$LF" trace record -q -o "$TMPDIR/t.trace" -- "$TMPDIR/child" "$TMPDIR/w" >"$TMPDIR/expect.txt" 2>"$TMPDIR/rec.err"
rc=$?
if [ $rc -eq 0 ]; then pass trace_record_child; else fail trace_record_child "exit $rc: $(head -c 300 "$TMPDIR/rec.err")"; fi
"$LF" trace show --format json "$TMPDIR/t.trace" >"$TMPDIR/ev.json" 2>"$TMPDIR/show.err" || fail trace_show_json "$(cat "$TMPDIR/show.err")"
if python3 "$TOP/tests/cli/trace_compare.py" "$TMPDIR/ev.json" "$TMPDIR/expect.txt" >"$TMPDIR/cmp.out" 2>&1; then
	pass "trace_child_sequence ($(grep -c . "$TMPDIR/expect.txt") calls)"
else
	fail trace_child_sequence "$(head -c 1500 "$TMPDIR/cmp.out")"
fi
# text show has strace shape and resolved paths
"$LF" trace show "$TMPDIR/t.trace" >"$TMPDIR/show.txt"
if grep -q "renameat(.*\"b.txt\" <$TMPDIR/w/d/b.txt>" "$TMPDIR/show.txt"; then pass trace_show_text_resolved
else fail trace_show_text_resolved "$(grep renameat "$TMPDIR/show.txt")"; fi
"$LF" trace show --pid 999999999 "$TMPDIR/t.trace" >"$TMPDIR/none.txt"
if [ ! -s "$TMPDIR/none.txt" ]; then pass trace_show_pid_filter; else fail trace_show_pid_filter "events shown"; fi
n=$("$LF" trace show --syscall renameat2,linkat "$TMPDIR/t.trace" | wc -l)
if [ "$n" -eq 2 ]; then pass trace_show_syscall_filter; else fail trace_show_syscall_filter "got $n lines"; fi
# stat: counts agree with the json listing; exit status recorded
"$LF" trace stat --json "$TMPDIR/t.trace" >"$TMPDIR/stat.json"
if python3 - "$TMPDIR/stat.json" "$TMPDIR/ev.json" <<'PY'
import json, sys, collections
st = json.load(open(sys.argv[1]))
evs = [json.loads(l) for l in open(sys.argv[2])]
c = collections.Counter(e["syscall"] for e in evs)
assert st["events"] == len(evs), (st["events"], len(evs))
for k, v in c.items():
    assert st["syscalls"][k]["count"] == v, (k, v, st["syscalls"][k])
assert st["lost"] == 0 and st["complete"] and not st["truncated"]
assert st["syscalls"]["unlink"]["errors"] == 1, st["syscalls"]["unlink"]
assert len(st["processes"]) == 2, st["processes"]
PY
then pass trace_stat_counts; else fail trace_stat_counts "stat disagrees with show"; fi
# fio iolog v3 export
"$LF" trace export --format fio-iolog "$TMPDIR/t.trace" >"$TMPDIR/io.log"
if head -1 "$TMPDIR/io.log" | grep -qx "fio version 3 iolog" &&
   grep -q " $TMPDIR/w/log write 5 5\$" "$TMPDIR/io.log" &&
   grep -q " $TMPDIR/w/a.txt write 0 12\$" "$TMPDIR/io.log"; then pass trace_export_fio
else fail trace_export_fio "$(head -20 "$TMPDIR/io.log")"; fi
expect_exit 2 trace_export_needs_format "$LF" trace export "$TMPDIR/t.trace"
expect_exit 1 trace_show_missing_file "$LF" trace show "$TMPDIR/nope.trace"
expect_exit 2 trace_record_usage "$LF" trace record -o "$TMPDIR/x.trace"
# the command's exit status comes back, and a missing command is an error
"$LF" trace record -q -o "$TMPDIR/f.trace" -- sh -c 'exit 7'
rc=$?; [ $rc -eq 7 ] && pass trace_record_exit_status || fail trace_record_exit_status "exit $rc"
"$LF" trace record -q -o "$TMPDIR/f.trace" -- "$TMPDIR/no-such-cmd" 2>"$TMPDIR/e"
rc=$?; [ $rc -eq 127 ] && pass trace_record_missing_cmd || fail trace_record_missing_cmd "exit $rc $(cat "$TMPDIR/e")"
