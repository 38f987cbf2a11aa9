#!/bin/sh
# tests/reliability/crash_tool.sh — crash campaign on the whole tool (issue 8).
#
#   crash_tool.sh MODE CASES        MODE: kill | powerloss
#
# Each case takes a copy of a base image (made once through the engine API
# by rel_tree put: a host tree at /keep and at /victim; 4 KiB pages plain or
# 16 KiB pages with zstd, one picked per case) and runs ONE command
# that dies at a random moment:
#   cp       cp -r TREE IMG:/new           (a real tree: /usr/include/linux + bits,
#                                           a 3 MiB file, symlinks, empties)
#   rm       rm -r IMG:/victim
#   rmn      rm -r IMG:/victim/deep IMG:/victim/big.bin IMG:/victim/empty
#   mv       mv IMG:/victim IMG:/moved
#   mvn      mv IMG:/victim/deep IMG:/victim/big.bin IMG:/victim/empty IMG:/
#   compact  compact IMG
#   replay   replay --image IMG TRACE      (traces/cp-r.trace, git-commit.trace)
# kill: SIGKILL after a random delay in [0, 1.2 x the command's measured
# duration].  powerloss: LD_PRELOAD=libpowerloss.so (powerloss.c) crashes at
# a random mutating operation on the image (and its compaction temporaries)
# in drop / tear / sectors mode.  After each case:
#   - the image opens (tests/tools/rel_tree mounts it read-only and reads
#     every file; a size/bytes disagreement is a failure);
#   - `lightfs fsck IMG` exits 0 (when the build has fsck);
#   - /keep is byte-identical to before (never touched by the command);
#   - nothing half-written: every file is byte-identical to its state before
#     or after the command, or absent where it was created/removed by it
#     (mv: exactly one of /victim and /moved, whole);
#   - a command that exited 0 before the crash left exactly its final state;
#   - replay: the image (if the crash left one) opens and fscks clean.
#   - whole-command atomicity, the DESIGN.md promise ("a command is one
#     atomic transaction"): a crashed command left exactly the state before
#     it or exactly the state after it.  A state mixing both (some files of
#     a cp -r present) is a failure; LFS_STRICT_ATOMIC=0 relaxes this to the
#     per-file checks above (the figures still count such mixes).
# Env: LIGHTFS (release binary), PL_LIB, RT (rel_tree), LFS_SEED, OPS (list).
# Prints per-op figures, `iterations N failures N seed S`, PASS/FAIL lines.
mode=${1:-kill}; cases=${2:-200}
top=$(cd "$(dirname "$0")/../.." && pwd)
LF=${LIGHTFS:-$top/build/rel/lightfs}
PL=${PL_LIB:-$top/build/rel/tests/libpowerloss.so}
RT=${RT:-$top/build/rel/tests/rel_tree}
[ -x "$RT" ] || RT=$top/build/asan/tests/tools/rel_tree
seed=${LFS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
seed0=$seed
w=$(mktemp -d "${TMPDIR:-/tmp}/relcrash.XXXXXX")
trap 'rm -rf "$w"' EXIT
# 64-bit LCG (Knuth MMIX), high 31 bits; result in $R (no subshell, so the seed advances)
rs=$seed
rnd() { rs=$(( rs * 6364136223846793005 + 1442695040888963407 )); R=$(( ((rs >> 33) & 2147483647) % $1 )); }
have() { # a command of this build (not a PENDING stub of cmd/pending.c)
	"$LF" help "$1" >"$w/help" 2>&1 && ! grep -q "not implemented yet" "$w/help"; }
keepfail=${LFS_KEEP_FAIL:-$top/build/rel-fail}

[ "$mode" = powerloss ] && [ ! -f "$PL" ] && { echo "SKIP rel_crash_$mode: $PL not built"; exit 0; }
ops=${OPS:-cp rm rmn mv mvn compact replay}
avail=""
for op in $ops; do
	case $op in rmn) c=rm;; mvn) c=mv;; *) c=$op;; esac
	if have "$c"; then avail="$avail $op"; else echo "# $op: \`lightfs $c\` not in this build: skipped"; fi
done
fsck=0; have fsck && fsck=1
[ $fsck -eq 0 ] && echo "# fsck: not in this build: the check is the read-only mount and full read"

# ---- the host tree (stable copy) ----------------------------------------
src=$w/src
mkdir -p "$src"
for d in ${CRASH_TREE:-/usr/include/linux /usr/include/x86_64-linux-gnu/bits}; do
	[ -d "$d" ] && cp -r "$d" "$src/$(basename "$(dirname "$d")")_$(basename "$d")" 2>/dev/null
done
[ -n "$(ls "$src")" ] || { echo "SKIP rel_crash_$mode: no source tree"; exit 0; }
head -c "${CRASH_BIG:-3145728}" /dev/urandom >"$src/big.bin"
: >"$src/empty"
mkdir -p "$src/deep/a/b/c/d" && echo leaf >"$src/deep/a/b/c/d/leaf"
ln -s ../empty "$src/deep/rel-link"
ln -s /etc/passwd "$src/abs-link"
"$RT" host "$src" >"$w/src.m"
echo "# $mode: seed $seed0, $cases cases, ops:$avail; tree $(grep -c "	f " "$w/src.m") files, $(du -sk "$src" | cut -f1) KiB"

# ---- the base image ------------------------------------------------------
# (through the engine API by rel_tree, so it does not depend on cp); two
# geometries, one picked per case: 4 KiB pages uncompressed, and 16 KiB
# pages with zstd values
for g in 0 1; do
	if [ $g -eq 1 ]; then export REL_TREE_PAGE=16384 REL_TREE_ZSTD=1; fi
	if ! "$RT" put "$w/base$g.lfs" "$src" /keep 2>"$w/err" || ! "$RT" put "$w/base$g.lfs" "$src" /victim 2>"$w/err"; then
		echo "FAIL rel_crash_$mode: building the base image: $(head -c 300 "$w/err")"; exit 1
	fi
	unset REL_TREE_PAGE REL_TREE_ZSTD
done
base=$w/base0.lfs
"$RT" image "$base" >"$w/pre.m" || { echo "FAIL rel_crash_$mode: base image unreadable"; exit 1; }
"$RT" image "$w/base1.lfs" | cmp -s - "$w/pre.m" || { echo "FAIL rel_crash_$mode: the two base images differ"; exit 1; }
img=$w/img.lfs

run_op() { # run_op OP IMG: the command line of OP on IMG
	case $1 in
	cp) echo "cp -r $src $2:/new" ;;
	rm) echo "rm -r $2:/victim" ;;
	rmn) echo "rm -r $2:/victim/deep $2:/victim/big.bin $2:/victim/empty" ;;
	mv) echo "mv $2:/victim $2:/moved" ;;
	mvn) echo "mv $2:/victim/deep $2:/victim/big.bin $2:/victim/empty $2:/" ;;
	compact) echo "compact $2" ;;
	replay) echo "replay --image $2 $top/traces/$3.trace" ;;
	esac
}

# ---- per op: the final state and duration of an uninterrupted run ---------
for op in $avail; do
	tr=cp-r
	rm -f "$img"*; cp "$base" "$img"
	# shellcheck disable=SC2046
	t0=$(date +%s%N)
	if [ "$mode" = powerloss ]; then
		LD_PRELOAD=$PL LFS_PL_MATCH=$img LFS_PL_COUNT_FILE=$w/cnt.$op "$LF" $(run_op $op "$img" $tr) >/dev/null 2>"$w/err"
	else
		"$LF" $(run_op $op "$img" $tr) >/dev/null 2>"$w/err"
	fi
	rc=$?
	t1=$(date +%s%N)
	if [ $rc -ne 0 ]; then
		echo "FAIL rel_crash_$mode: $op does not complete uninterrupted (rc $rc): $(head -c 300 "$w/err")"
		avail=$(echo "$avail" | sed "s/ $op\b//")
		continue
	fi
	echo $(( (t1 - t0) / 1000 )) >"$w/dur.$op"
	"$RT" image "$img" >"$w/post.$op.m" || echo "FAIL rel_crash_$mode: $op: image unreadable after an uninterrupted run"
	[ "$mode" = powerloss ] && echo "# $op: $(cat "$w/dur.$op") us, $(cat "$w/cnt.$op" 2>/dev/null) mutating ops on the image" ||
		echo "# $op: $(cat "$w/dur.$op") us uninterrupted"
done
[ -n "$avail" ] || { echo "SKIP rel_crash_$mode: none of the commands ($ops) in this build"; exit 0; }
set -- $avail
nops=$#

# ---- checks -------------------------------------------------------------
# pre.m / post.m / got.m: PATH<TAB>TYPE... lines
check_state() { # check_state OP RC  → 0 ok, else prints why
	op=$1 rc=$2
	if [ "$op" = replay ]; then
		return 0       # replay: opening + fsck are the checks
	fi
	post=$w/post.$op.m
	if [ "$rc" -eq 0 ]; then
		cmp -s "$w/got.m" "$post" && return 0
		echo "command exited 0 but the image is not its final state: $(diff "$post" "$w/got.m" | head -5 | tr '\n' ' ')"
		return 1
	fi
	cmp -s "$w/got.m" "$w/pre.m" && { atomic=$((atomic + 1)); eval "a_$op=\$((a_$op + 1))"; return 0; }
	cmp -s "$w/got.m" "$post" && { atomic=$((atomic + 1)); eval "a_$op=\$((a_$op + 1))"; return 0; }
	# mixed state: per entry, it must be its before or after version
	awk -F'\t' -v op="$op" '
		FILENAME == ARGV[1] { pre[$1] = $2; next }
		FILENAME == ARGV[2] { post[$1] = $2; next }
		{ got[$1] = $2 }
		END {
			bad = 0
			for (p in got) {
				if ((p in pre) && got[p] == pre[p]) continue
				if ((p in post) && got[p] == post[p]) continue
				printf "half-written or unknown entry: %s [%s] (before [%s], after [%s])\n", p, got[p], pre[p], post[p]; bad++
			}
			for (p in pre) {
				if (p in got) continue
				if (p ~ /^keep(\/|$)/) { printf "lost: %s\n", p; bad++; continue }
				if (!(p in post) || op == "mv") {
					if (op == "mv") moved_away++
					continue
				}
				printf "lost: %s (in the image before and after the command)\n", p; bad++
			}
			if (op == "mv") {
				nv = 0; nm = 0; want = 0
				for (p in pre) if (p ~ /^victim(\/|$)/) want++
				for (p in got) { if (p ~ /^victim(\/|$)/) nv++; if (p ~ /^moved(\/|$)/) nm++ }
				if (nv && nm) { printf "mv: both victim (%d) and moved (%d) present\n", nv, nm; bad++ }
				if ((nv && nv != want) || (nm && nm != want) || (!nv && !nm)) {
					printf "mv: the directory is not whole: victim %d, moved %d entries of %d\n", nv, nm, want; bad++
				}
			}
			exit bad ? 1 : 0
		}' "$w/pre.m" "$post" "$w/got.m" >"$w/why" 2>&1 && {
		mixed=$((mixed + 1)); eval "m_$op=\$((m_$op + 1))"
		[ "${LFS_STRICT_ATOMIC:-1}" = 1 ] || return 0
		echo "neither the state before nor after the command (a partial command): $(diff "$w/pre.m" "$w/got.m" | grep -c '^[<>]') entries differ from before"
		return 1
	}
	head -5 "$w/why" | tr '\n' ' '
	return 1
}

fails=0; crashed=0; atomic=0; mixed=0; i=0
for op in $avail; do eval "n_$op=0 f_$op=0 c_$op=0 a_$op=0 m_$op=0"; done
while [ $i -lt "$cases" ]; do
	i=$((i + 1))
	rnd $nops; op=$(eval echo "\${$((R + 1))}")
	rnd 2; tr=cp-r; [ $R -eq 1 ] && tr=git-commit
	rnd 2; fresh=$R
	rnd 2; geo=$R; base=$w/base$geo.lfs
	rm -f "$img"*
	if [ "$op" = replay ] && [ $fresh -eq 0 ]; then
		:                  # replay into a fresh image (made by replay)
	else
		cp "$base" "$img"
	fi
	if [ "$mode" = powerloss ]; then
		tot=$(cat "$w/cnt.$op" 2>/dev/null || echo 1); [ "$tot" -gt 0 ] || tot=1
		rnd "$tot"; at=$((R + 1))
		rnd 3; pm=$R; case $pm in 0) pm=drop;; 1) pm=tear;; 2) pm=sectors;; esac
		# shellcheck disable=SC2046
		rnd 2147483647; LD_PRELOAD=$PL LFS_PL_MATCH=$img LFS_PL_CRASH_AT=$at LFS_PL_MODE=$pm LFS_PL_SEED=$R \
			"$LF" $(run_op $op "$img" $tr) >/dev/null 2>"$w/err"
		rc=$?; what="$op, op $at/$tot $pm, geometry $geo"
	else
		dur=$(cat "$w/dur.$op")
		rnd $(( dur * 12 / 10 + 1 )); us=$R
		# shellcheck disable=SC2046
		"$LF" $(run_op $op "$img" $tr) >/dev/null 2>"$w/err" &
		pid=$!
		sleep "$(printf '%d.%06d' $((us / 1000000)) $((us % 1000000)))"
		{ kill -9 $pid; wait $pid; } 2>/dev/null; rc=$?; what="$op, kill after ${us}us, geometry $geo"
	fi
	eval "n_$op=\$((n_$op + 1))"
	[ $rc -eq 137 ] && { crashed=$((crashed + 1)); eval "c_$op=\$((c_$op + 1))"; }
	why=""
	if [ $rc -ne 0 ] && [ $rc -ne 137 ]; then
		why="the command failed by itself (rc $rc): $(head -c 200 "$w/err")"
	fi
	if [ -n "$why" ]; then
		:
	elif [ "$op" = replay ] && [ ! -s "$img" ]; then
		:              # killed before the image was made: nothing to check
	elif ! "$RT" image "$img" >"$w/got.m" 2>"$w/err"; then
		why="image does not open or read: $(head -c 300 "$w/err")"
	elif [ $fsck -eq 1 ] && ! "$LF" fsck "$img" >"$w/fsck" 2>&1; then
		why="fsck not clean: $(head -c 300 "$w/fsck" | tr '\n' ' ')"
	elif ! check_state "$op" "$rc" >"$w/why2"; then
		why=$(cat "$w/why2")
	fi
	if [ -n "$why" ]; then
		fails=$((fails + 1)); eval "f_$op=\$((f_$op + 1))"
		echo "FAIL $mode-$i: ($what, rc $rc, seed $seed0) $why"
		mkdir -p "$keepfail" && cp "$img" "$keepfail/$mode-$i-$op.lfs" 2>/dev/null
	fi
done
for op in $avail; do
	if [ $op = replay ]; then
		eval "echo \"# $mode $op: \$n_$op cases, \$c_$op crashed mid-command, \$f_$op failures\""
	else
		eval "echo \"# $mode $op: \$n_$op cases, \$c_$op crashed mid-command, \$f_$op failures; crashed states: \$a_$op before-or-after, \$m_$op mixed but per-file whole\""
	fi
done
echo "$mode: iterations $cases crashed $crashed failures $fails seed $seed0 (crashed states: $atomic whole-command atomic, $mixed per-file consistent mixes)"
if [ $fails -eq 0 ]; then echo "PASS rel_crash_$mode ($cases cases, $crashed crashed mid-command, seed $seed0)"
else echo "FAIL rel_crash_$mode: $fails of $cases cases (seed $seed0; images in $keepfail/)"; fi
[ $fails -eq 0 ]
