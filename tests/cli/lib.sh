# tests/cli/lib.sh — sourced by every shell test (tests/cli/*.sh).
#   . "$TOP/tests/cli/lib.sh"
#   ok  NAME  [cmd...]           PASS if the command exits 0
#   expect_exit N NAME cmd...    PASS if it exits N
#   expect_out NAME EXPECTED cmd...   stdout must equal EXPECTED exactly
#   pass NAME / fail NAME WHY / skip NAME WHY
# $LIGHTFS is the ASan build of the binary; $TMPDIR is private to the test.
set -u
LF=${LIGHTFS:?run through make test}
: "${TMPDIR:=/tmp}"
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }
ok() { n=$1; shift; if "$@" >"$TMPDIR/.out" 2>"$TMPDIR/.err"; then pass "$n"; else
	fail "$n" "exit $? from: $* ($(head -c 300 "$TMPDIR/.err"))"; fi; }
expect_exit() { want=$1; n=$2; shift 2; "$@" >"$TMPDIR/.out" 2>"$TMPDIR/.err"; got=$?
	if [ "$got" -eq "$want" ]; then pass "$n"; else
	fail "$n" "exit $got, want $want from: $* ($(head -c 300 "$TMPDIR/.err"))"; fi; }
expect_out() { n=$1; want=$2; shift 2; got=$("$@" 2>"$TMPDIR/.err"); rc=$?
	if [ "$rc" -eq 0 ] && [ "$got" = "$want" ]; then pass "$n"; else
	fail "$n" "exit $rc; got [$got] want [$want] ($(head -c 300 "$TMPDIR/.err"))"; fi; }
# stderr of the last ok/expect_* contains TEXT
expect_err() { n=$1; want=$2; if grep -qF -- "$want" "$TMPDIR/.err"; then pass "$n"; else
	fail "$n" "stderr lacks [$want]: $(head -c 300 "$TMPDIR/.err")"; fi; }
