# Thread identity in the capture: the syscall-exit program knows a traced
# thread by the address of its saved registers (its kernel stack) and
# takes its tid/tgid from a slot, which the thread gives back when it
# exits.  Threads come and go quickly here (their stacks are reused, also
# by an untraced process churning threads at the same time), and a
# non-leader thread execs (it takes the leader's tid): every traced call
# must be there with the right tid, and nothing of the untraced process.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/cli/trace_lib.inc"
trace_need_bpf || exit 0
cat >"$TMPDIR/thr.c" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
/* thr churn TAG N: N threads one after another, each openat("/.lfs-TAG-i")
 * (ENOENT) and prints "i tid"; thr exec: a second thread execs
 * /bin/cat /.lfs-after-exec */
static const char *tag;
static void *one(void *a)
{
	char p[64];
	snprintf(p, sizeof p, "/.lfs-%s-%ld", tag, (long)a);
	syscall(SYS_openat, AT_FDCWD, p, O_RDONLY, 0);
	printf("%ld %ld\n", (long)a, (long)syscall(SYS_gettid));
	return NULL;
}
static void *ex(void *a)
{
	(void)a;
	execl("/bin/cat", "cat", "/.lfs-after-exec", (char *)NULL);
	_exit(99);
}
int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "exec")) {
		pthread_t t;
		printf("%d\n", getpid());
		fflush(stdout);
		pthread_create(&t, NULL, ex, NULL);
		pause();
	}
	tag = argv[2];
	for (long i = 0; i < atol(argv[3]); i++) {
		pthread_t t;
		pthread_create(&t, NULL, one, (void *)i);
		pthread_join(t, NULL);
	}
	return 0;
}
EOF
cc -O2 -pthread -o "$TMPDIR/thr" "$TMPDIR/thr.c" || { fail trace_threads_build "cc failed"; exit 0; }
# the untraced churn runs before, during and after the capture
( "$TMPDIR/thr" churn untraced 3000 >/dev/null ) &
up=$!
"$LF" trace record -q -o "$TMPDIR/c.trace" -- "$TMPDIR/thr" churn traced 300 >"$TMPDIR/tids.txt" 2>"$TMPDIR/rec.err"
rc=$?
wait $up
[ $rc -eq 0 ] && pass trace_threads_record || fail trace_threads_record "exit $rc: $(cat "$TMPDIR/rec.err")"
"$LF" trace show --format json "$TMPDIR/c.trace" >"$TMPDIR/c.json"
if python3 - "$TMPDIR/c.json" "$TMPDIR/tids.txt" >"$TMPDIR/cmp" 2>&1 <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
want = {int(a): int(b) for a, b in (l.split() for l in open(sys.argv[2]))}
got = {}
for e in evs:
    p = e.get("path") or ""
    assert "untraced" not in p, ("event of the untraced process", e)
    if e["syscall"] == "openat" and p.startswith("/.lfs-traced-"):
        i = int(p.rsplit("-", 1)[1])
        assert i not in got, ("twice", e)
        got[i] = e["tid"]
assert len(want) == 300, len(want)
assert got == want, [(i, want[i], got.get(i)) for i in want if got.get(i) != want[i]][:5]
print("300 threads, each call with its tid")
PY
then pass "trace_threads_churn ($(tail -1 "$TMPDIR/cmp"))"; else fail trace_threads_churn "$(tail -3 "$TMPDIR/cmp" | tr '\n' ' ' | head -c 600)"; fi
# exec from a second thread: the process goes on as cat, under the leader's tid
"$LF" trace record -q -o "$TMPDIR/e.trace" -- "$TMPDIR/thr" exec >"$TMPDIR/pid.txt" 2>"$TMPDIR/rec2.err"
rc=$?
"$LF" trace show --format json "$TMPDIR/e.trace" >"$TMPDIR/e.json"
if python3 - "$TMPDIR/e.json" "$(cat "$TMPDIR/pid.txt")" >"$TMPDIR/cmp2" 2>&1 <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
pid = int(sys.argv[2])
ex = [e for e in evs if e["syscall"] == "proc_exec" and e["pid"] == pid and e.get("comm") == "cat"]
assert ex and ex[0]["tid"] == pid, ("exec", ex)
op = [e for e in evs if e["syscall"] == "openat" and e.get("path") == "/.lfs-after-exec"]
assert len(op) == 1 and op[0]["pid"] == pid and op[0]["tid"] == pid, op
ends = [e for e in evs if e["syscall"] == "proc_exit" and e["tid"] == pid and e["seq"] > op[0]["seq"]]
assert ends, "no exit after the exec"
print("exec'd thread traced as %d" % pid)
PY
then pass "trace_threads_exec ($(tail -1 "$TMPDIR/cmp2"))"; else fail trace_threads_exec "rc $rc: $(tail -3 "$TMPDIR/cmp2" | tr '\n' ' ' | head -c 600)"; fi
