#!/bin/sh
# tests/reliability/pl_kv.sh — power-loss and kill -9 campaign on the KV
# engine through the real binary (`lightfs kv load`, one synced batch per
# run).  Usage: pl_kv.sh MODE CASES   (MODE: powerloss | kill)
#   LIGHTFS   binary (release by default), PL_LIB the LD_PRELOAD library,
#   LFS_SEED  seed (printed).
# Per case: an image holding batch 0 (synced) gets batch k written by a
# process that loses power (or is killed) at a random moment.  Checks: the
# image opens, batch 0 is whole, batch k is either wholly there or wholly
# absent (atomic), and no value differs from what was written.
# Prints `iterations N failures N` and PASS/FAIL lines.
mode=${1:-powerloss}; cases=${2:-200}
top=$(cd "$(dirname "$0")/../.." && pwd)
LF=${LIGHTFS:-$top/build/rel/lightfs}
PL=${PL_LIB:-$top/build/rel/tests/libpowerloss.so}
seed=${LFS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
w=$(mktemp -d "${TMPDIR:-/tmp}/relkv.XXXXXX")
trap 'rm -rf "$w"' EXIT
echo "# $mode: seed $seed, $cases cases"
# 64-bit LCG (Knuth MMIX), high 31 bits; result in $R (no subshell, so the seed advances)
rs=$seed
rnd() { rs=$(( rs * 6364136223846793005 + 1442695040888963407 )); R=$(( ((rs >> 33) & 2147483647) % $1 )); }
gen() { # gen BATCH N SIZE: N key<TAB>value lines
	awk -v b="$1" -v n="$2" -v s="$3" 'BEGIN{for(i=0;i<n;i++){v=sprintf("b%d-k%d-",b,i);
	while(length(v)<s)v=v sprintf("%x",(i*7919+b*104729+length(v))%65536); printf "b%d/k%05d\t%s\n",b,i,v}}'
}
fails=0; crashed=0; i=0
img=$w/img.lfs
while [ $i -lt "$cases" ]; do
	i=$((i + 1))
	rm -f "$img"*
	rnd 200; n0=$((R + 1)); rnd 3000; s0=$((R + 10))
	rnd 400; n1=$((R + 1)); rnd 6000; s1=$((R + 10))
	gen 0 $n0 $s0 >"$w/b0"; gen 1 $n1 $s1 >"$w/b1"
	if ! "$LF" kv --create "$img" load <"$w/b0" 2>"$w/err"; then
		echo "FAIL $mode-$i: initial load: $(head -c 200 "$w/err")"; fails=$((fails + 1)); continue
	fi
	if [ "$mode" = powerloss ]; then
		# how many mutating ops does the second load make?
		cp "$img" "$w/copy.lfs"
		LD_PRELOAD=$PL LFS_PL_MATCH=$w/copy LFS_PL_COUNT_FILE=$w/cnt "$LF" kv "$w/copy.lfs" load <"$w/b1" 2>/dev/null
		tot=$(cat "$w/cnt" 2>/dev/null || echo 1); [ "$tot" -gt 0 ] || tot=1
		rnd "$tot"; at=$((R + 1))
		rnd 3; pm=$R; case $pm in 0) pm=drop;; 1) pm=tear;; 2) pm=sectors;; esac
		rnd 2147483647; LD_PRELOAD=$PL LFS_PL_MATCH=$img LFS_PL_CRASH_AT=$at LFS_PL_MODE=$pm LFS_PL_SEED=$R \
			"$LF" kv "$img" load <"$w/b1" >/dev/null 2>"$w/err"
		rc=$?; what="op $at/$tot $pm"
	else
		"$LF" kv "$img" load <"$w/b1" >/dev/null 2>"$w/err" &
		pid=$!
		rnd 40000; us=$R; sleep "0.$(printf %06d "$us")"
		{ kill -9 $pid; wait $pid; } 2>/dev/null; rc=$?; what="kill after ${us}us"
	fi
	[ $rc -eq 137 ] && crashed=$((crashed + 1))
	if ! "$LF" kv "$img" scan >"$w/scan" 2>"$w/err"; then
		echo "FAIL $mode-$i: ($what, seed $seed) image does not open: $(head -c 200 "$w/err")"
		fails=$((fails + 1)); cp "$img" "$top/build/rel-fail-$mode-$i.lfs" 2>/dev/null; continue
	fi
	sort "$w/b0" >"$w/want0"; sort "$w/b0" "$w/b1" >"$w/want1"; sort "$w/scan" >"$w/got"
	if ! cmp -s "$w/got" "$w/want0" && ! cmp -s "$w/got" "$w/want1"; then
		echo "FAIL $mode-$i: ($what, rc $rc, seed $seed) contents are neither before nor after the batch ($(wc -l <"$w/got") records, want $n0 or $((n0 + n1)))"
		fails=$((fails + 1)); cp "$img" "$top/build/rel-fail-$mode-$i.lfs" 2>/dev/null; continue
	fi
	if [ $rc -eq 0 ] && ! cmp -s "$w/got" "$w/want1"; then
		echo "FAIL $mode-$i: ($what) load exited 0 but its synced batch is missing"
		fails=$((fails + 1)); continue
	fi
done
echo "$mode: iterations $cases crashed $crashed failures $fails"
[ $fails -eq 0 ] && echo "PASS rel_kv_$mode ($cases cases, $crashed crashed mid-write)" || echo "FAIL rel_kv_$mode: $fails of $cases cases"
[ $fails -eq 0 ]
