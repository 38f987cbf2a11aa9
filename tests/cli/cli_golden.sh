# Golden CLI tests, as e2fsprogs' tests/: each tests/golden/NAME/script is
# run with sh in a fresh directory and its output (stdout and stderr, the
# commands echoed by `run`, non-zero exit statuses) must equal
# tests/golden/NAME/expect.  GOLDEN_UPDATE=1 rewrites the expect files.
#
# The script sees:
#   run ARGS...     echo "$ lightfs ARGS", run lightfs ARGS (2>&1), print
#                   "[exit N]" when N != 0
#   sh_run 'TEXT'   the same for a host shell command line
#   MKIMG IMG [MiB] the shell tests' image (/etc/passwd, /usr/include/stdio.h,
#                   "/my dir/a file", /.hidden, optional /big of x lines)
#   lightfs         on PATH (the binary under test)
# Normalized in the output: the test directory (as $T), times within the
# last six months in ls -l ("Nov 30 21:42" -> "MMM DD HH:MM"), change and
# birth times (which no command can set) in stat and JSON.  TZ is UTC and
# the locale C.
. "$TOP/tests/cli/lib.sh"
G=$TOP/tests/golden
export TZ=UTC LC_ALL=C
[ -d "$G" ] || { skip cli_golden "no tests/golden"; exit 0; }
# `lightfs` on PATH for the sh_run lines
mkdir -p "$TMPDIR/gbin" && ln -sf "$LF" "$TMPDIR/gbin/lightfs"
PATH=$TMPDIR/gbin:$PATH
for d in "$G"/*/; do
	n=$(basename "$d")
	[ -f "$d/script" ] || continue
	w=$TMPDIR/g_$n
	rm -rf "$w" && mkdir -p "$w"
	(
		cd "$w" || exit 1
		run() {
			printf "\$ lightfs %s\n" "$*"
			"$LF" "$@" 2>&1
			rc=$?
			[ $rc -ne 0 ] && echo "[exit $rc]"
			return 0
		}
		sh_run() {
			printf "\$ %s\n" "$1"
			sh -c "$1" 2>&1
			rc=$?
			[ $rc -ne 0 ] && echo "[exit $rc]"
			return 0
		}
		MKIMG() { "$TOOLS/shell_mkimg" "$1" "${2:-0}" >/dev/null 2>&1 || echo "MKIMG failed"; }
		. "$d/script"
	) >"$w.raw" 2>&1
	sed -e "s|$w|\$T|g" \
	    -e 's/[A-Z][a-z][a-z] [ 0-9][0-9] [0-9][0-9]:[0-9][0-9] /MMM DD HH:MM /' \
	    -e 's/^\(Change\|Birth\): .*/\1: TIME/' -e 's/^ Birth: .*/ Birth: TIME/' \
	    -e 's/"\(ctime\|btime\)":"[^"]*"/"\1":"TIME"/g' -e 's/"\(ctime\|btime\)_ns":[0-9]*/"\1_ns":0/g' \
	    "$w.raw" >"$w.out"
	if [ "${GOLDEN_UPDATE:-0}" = 1 ]; then
		cp "$w.out" "$d/expect"
		pass "golden_$n (expect rewritten)"
	elif [ ! -f "$d/expect" ]; then
		fail "golden_$n" "no expect file (run with GOLDEN_UPDATE=1 and review it)"
	elif cmp -s "$d/expect" "$w.out"; then
		pass "golden_$n"
	else
		fail "golden_$n" "output differs: $(diff "$d/expect" "$w.out" | head -20 | tr '\n' '|')"
	fi
done
