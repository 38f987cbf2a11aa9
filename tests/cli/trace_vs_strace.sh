# Trace `cp -r` and `tar xf` with lightfs and strace -c AT THE SAME TIME
# (lightfs records strace and its tracee) and check that lightfs saw exactly
# as many calls of each traced syscall as strace counted, with 0 lost.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/cli/trace_lib.inc"
trace_need_bpf || exit 0
command -v strace >/dev/null || { skip trace_vs_strace "strace not installed"; exit 0; }
SET=open,openat,openat2,creat,close,close_range,read,write,pread64,pwrite64,readv,writev,preadv,pwritev,preadv2,pwritev2,lseek,fsync,fdatasync,sync_file_range,sync,syncfs,ftruncate,truncate,fallocate,unlink,unlinkat,rename,renameat,renameat2,mkdir,mkdirat,rmdir,link,linkat,symlink,symlinkat,dup,dup2,dup3,fcntl,chdir,fchdir,sendfile,copy_file_range,splice,execve,execveat,clone,clone3,fork,vfork
src=/usr/include/linux
[ -d "$src" ] || src=/usr/include
compare() {   # NAME TRACE STRACE_C_OUTPUT
	"$LF" trace show --format json "$2" >"$TMPDIR/$1.json" || { fail "$1" "show failed"; return; }
	if python3 - "$TMPDIR/$1.json" "$3" "$2" >"$TMPDIR/$1.cmp" 2>&1 <<'PY'
import json, sys, collections
evs = [json.loads(l) for l in open(sys.argv[1])]
root = evs[0]["pid"]                       # cwd_snap of the root (strace)
started = set()                            # tracee processes after their exec
ours = collections.Counter()
for e in evs:
    if e["pid"] == root:
        continue
    if e["syscall"] == "proc_exec":
        started.add(e["pid"])
    if e["syscall"] == "proc_fork" and e["pid"] in started:
        started.add(e["child_pid"])
    if e["pid"] not in started or e["syscall"].startswith(("proc_", "cwd_", "fd_", "lost")):
        continue
    if e["syscall"] in ("exit", "exit_group", "mmap", "munmap"):
        continue
    ours[e["syscall"]] += 1
theirs = collections.Counter()
for line in open(sys.argv[2]):
    t = line.split()
    if len(t) >= 5 and t[0][0].isdigit() and t[-1] != "total":
        theirs[t[-1]] = int(t[3])
bad = [(k, ours[k], theirs[k]) for k in set(ours) | set(theirs) if ours[k] != theirs[k]]
print("lightfs:", dict(ours))
print("strace: ", dict(theirs))
if bad:
    print("differ (syscall, lightfs, strace):", bad)
    sys.exit(1)
print("agree on %d calls" % sum(ours.values()))
PY
	then pass "$1 ($(tail -1 "$TMPDIR/$1.cmp"))"; else fail "$1" "$(tail -3 "$TMPDIR/$1.cmp" | tr '\n' ' ')"; fi
	lost=$("$LF" trace stat --json "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["lost"])')
	[ "$lost" = 0 ] && pass "$1_no_loss" || fail "$1_no_loss" "$lost events lost"
}
"$LF" trace record -q -o "$TMPDIR/cp.trace" -- strace -f -qq -c -o "$TMPDIR/cp.sc" -e trace=$SET -- cp -r "$src" "$TMPDIR/cpdst" \
	|| fail trace_cp_record "record failed"
compare trace_cp_r_vs_strace "$TMPDIR/cp.trace" "$TMPDIR/cp.sc"
tar cf "$TMPDIR/src.tar" -C "$(dirname "$src")" "$(basename "$src")"
mkdir -p "$TMPDIR/x"
"$LF" trace record -q -o "$TMPDIR/tar.trace" -- strace -f -qq -c -o "$TMPDIR/tar.sc" -e trace=$SET -- tar xf "$TMPDIR/src.tar" -C "$TMPDIR/x" \
	|| fail trace_tar_record "record failed"
compare trace_tar_xf_vs_strace "$TMPDIR/tar.trace" "$TMPDIR/tar.sc"
