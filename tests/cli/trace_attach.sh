# `trace record -p PID` on a running process that already holds open files:
# the fds are snapshotted (path, position, flags, size) and the operations
# on them after attaching are captured and attributed to those files.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/cli/trace_lib.inc"
trace_need_bpf || exit 0
d=$TMPDIR/h
mkdir -p "$d"
head -c 5000 /dev/urandom >"$d/data"
"$TOOLS/trace_holder" "$d" &
hp=$!
i=0; while [ ! -e "$d/ready" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
"$LF" trace record -q -o "$TMPDIR/p.trace" -p $hp 2>"$TMPDIR/rec.err" &
rp=$!
sleep 1
touch "$d/stop"
wait $rp; rc=$?
wait $hp
[ $rc -eq 0 ] && pass trace_attach_record || fail trace_attach_record "exit $rc: $(cat "$TMPDIR/rec.err")"
"$LF" trace show --format json "$TMPDIR/p.trace" >"$TMPDIR/p.json"
if python3 - "$TMPDIR/p.json" "$d" >"$TMPDIR/cmp" 2>&1 <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
d = sys.argv[2]
snaps = {e["path"]: e for e in evs if e["syscall"] == "fd_snap"}
cwd = [e for e in evs if e["syscall"] == "cwd_snap"]
assert cwd and cwd[0]["path"] == d, cwd
data, log = snaps[d + "/data"], snaps[d + "/log"]
assert data["offset"] >= 100 and data["size"] == 5000, data
assert (data.get("flags", 0) & 3) == 0, data
assert log.get("flags", 0) & 0o2000, log          # O_APPEND
reads = [e for e in evs if e["syscall"] == "read" and e["fd"] == data["fd"]]
writes = [e for e in evs if e["syscall"] == "write" and e["fd"] == log["fd"]]
assert len(reads) >= 5 and len(writes) >= 5, (len(reads), len(writes))
assert all(w["ret"] == 5 for w in writes)
exits = [e for e in evs if e["syscall"] == "proc_exit"]
assert exits, "no exit seen"
print("%d reads, %d appends after attach" % (len(reads), len(writes)))
PY
then pass "trace_attach_snapshot ($(tail -1 "$TMPDIR/cmp"))"; else fail trace_attach_snapshot "$(tail -5 "$TMPDIR/cmp" | tr '\n' ' ')"; fi
"$LF" trace export --format fio-iolog "$TMPDIR/p.trace" >"$TMPDIR/io.log"
if grep -q " $d/data read " "$TMPDIR/io.log" && grep -q " $d/log write " "$TMPDIR/io.log"; then
	pass trace_attach_export_names_files
else
	fail trace_attach_export_names_files "$(head -5 "$TMPDIR/io.log")"
fi
expect_exit 1 trace_attach_no_such_pid "$LF" trace record -q -o "$TMPDIR/n.trace" -p 999999
