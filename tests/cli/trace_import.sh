# One run of tests/tools/trace_child.c captured twice at once: by lightfs
# (eBPF) and by `strace -f -ttt -T -y -yy` under it.  `trace import` of the
# strace log must give the same events, call by call, per thread.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/cli/trace_lib.inc"
trace_need_bpf || exit 0
command -v strace >/dev/null || { skip trace_import "strace not installed"; exit 0; }
cc -O2 -pthread -o "$TMPDIR/child" "$TOP/tests/tools/trace_child.c" || { fail trace_import_build "cc failed"; exit 0; }
mkdir -p "$TMPDIR/w"
"$LF" trace record -q -o "$TMPDIR/bpf.trace" -- strace -f -ttt -T -y -yy -o "$TMPDIR/s.log" "$TMPDIR/child" "$TMPDIR/w" >/dev/null \
	|| fail trace_import_record "record failed"
grep -q 'resumed>' "$TMPDIR/s.log" && pass trace_import_has_resumed || skip trace_import_has_resumed "this run had no unfinished/resumed pair"
ok trace_import_run "$LF" trace import --from strace "$TMPDIR/s.log" -o "$TMPDIR/st.trace"
"$LF" trace show --format json "$TMPDIR/bpf.trace" >"$TMPDIR/bpf.json"
"$LF" trace show --format json "$TMPDIR/st.trace" >"$TMPDIR/st.json"
if python3 - "$TMPDIR/bpf.json" "$TMPDIR/st.json" >"$TMPDIR/cmp" 2>&1 <<'PY'
import json, sys, collections
bpf = [json.loads(l) for l in open(sys.argv[1])]
st = [json.loads(l) for l in open(sys.argv[2])]
root = bpf[0]["pid"]                         # strace itself
started = set()
def seqs(evs, ebpf):
    out = collections.defaultdict(list)
    for e in evs:
        if ebpf:
            if e["pid"] == root:
                continue
            if e["syscall"] == "proc_exec":
                started.add(e["pid"])
            if e["syscall"] == "proc_fork" and e["pid"] in started:
                started.add(e["child_pid"])
            if e["pid"] not in started:
                continue
        if e["syscall"].startswith(("proc_", "cwd_", "fd_", "lost")) or e["syscall"] == "munmap":
            continue
        out[e["tid"]].append(e)
    return out
A, B = seqs(bpf, True), seqs(st, False)
keys = ["syscall", "pid", "ret", "fd", "fd2", "dirfd", "dirfd2", "path", "path2", "flags", "mode",
        "count", "offset", "offset2", "whence", "cmd", "exit_code", "path_abs", "path2_abs"]
bad = 0
n = 0
if set(A) != set(B):
    print("threads differ:", sorted(A), sorted(B)); sys.exit(1)
for tid in A:
    a, b = A[tid], B[tid]
    if len(a) != len(b):
        print("tid %d: %d events vs %d imported" % (tid, len(a), len(b)))
        bad += 1
    for x, y in zip(a, b):
        n += 1
        for k in keys:
            if k in ("path_abs", "path2_abs") and (k not in x or k not in y):
                continue
            if x.get(k) != y.get(k):
                print("tid %d %s: %s ebpf=%r strace=%r\n  %s\n  %s" % (tid, x["syscall"], k, x.get(k), y.get(k), x, y))
                bad += 1
                break
        if bad > 5:
            sys.exit(1)
print("%d events identical in %d threads" % (n, len(A)))
sys.exit(1 if bad else 0)
PY
then pass "trace_import_equals_ebpf ($(tail -1 "$TMPDIR/cmp"))"; else fail trace_import_equals_ebpf "$(head -c 1500 "$TMPDIR/cmp")"; fi
# unfinished at the end of a cut log are kept, marked unfinished
printf '100 1700000000.000001 openat(AT_FDCWD</t>, "a", O_RDONLY <unfinished ...>\n101 1700000000.000002 read(3</t/x>, "ab", 2) = 2 <0.000003>\n' >"$TMPDIR/cut.log"
"$LF" trace import "$TMPDIR/cut.log" -o "$TMPDIR/cut.trace" 2>/dev/null
out=$("$LF" trace show --format json "$TMPDIR/cut.trace" | python3 -c '
import json,sys
e=[json.loads(l) for l in sys.stdin]
print(len(e), e[0]["syscall"], e[0].get("dur_ns"), e[1]["syscall"], e[1].get("path_abs"), e[1]["eflags"] & 64)')
[ "$out" = "2 read 3000 openat /t/a 64" ] && pass trace_import_unfinished || fail trace_import_unfinished "$out"
# show --format strace is plain strace syntax: importing it gives the same
# calls (count, errors, bytes per syscall) as the trace it came from
"$LF" trace show --format strace "$TMPDIR/bpf.trace" >"$TMPDIR/again.log"
"$LF" trace import "$TMPDIR/again.log" -o "$TMPDIR/again.trace" 2>/dev/null
"$LF" trace stat "$TMPDIR/bpf.trace" | sed -n '/^syscall/,/^$/p' | grep -v -e '^proc_' -e '^cwd_snap' >"$TMPDIR/s1"
"$LF" trace stat "$TMPDIR/again.trace" | sed -n '/^syscall/,/^$/p' | grep -v -e '^proc_' -e '^cwd_snap' >"$TMPDIR/s2"
if [ "$(wc -l <"$TMPDIR/s1")" -gt 10 ] && cmp -s "$TMPDIR/s1" "$TMPDIR/s2"; then pass trace_show_strace_roundtrip
else fail trace_show_strace_roundtrip "$(diff "$TMPDIR/s1" "$TMPDIR/s2" | head -5)"; fi
