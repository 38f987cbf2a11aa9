# Concurrency (issue 8): one writer or many readers per image (flock).
#  - a second writer is refused at once: `image is in use by pid N` (the
#    holder's pid), exit 3 — whether the holder is a shell, a cp or a replay;
#  - writers racing with retries: every acknowledged (exit 0) update is there
#    at the end, none lost; readers racing with them see 3 or a whole value;
#  - two readers at once both read;
#  - replays of the shipped multi-process traces onto an image file, and two
#    replays of the same image at once (one refused).
# Commands the build does not have yet (cp, cat, ...) are skipped by name.
. "$TOP/tests/cli/lib.sh"
REL=${LIGHTFS_REL:-$LF}
d=$TMPDIR/cc
mkdir -p "$d"
have() { "$LF" help "$1" >"$d/help" 2>&1 && ! grep -q "not implemented yet" "$d/help"; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
img=$d/img.lfs
if have mkfs; then "$LF" mkfs "$img" >/dev/null 2>&1
elif [ -x "$TOOLS/shell_mkimg" ]; then "$TOOLS/shell_mkimg" "$img" 0 >/dev/null 2>&1
else skip rel_concurrency "no mkfs and no shell_mkimg"; exit 0; fi
[ -s "$img" ] || { fail rel_concurrency_setup "no image"; exit 0; }

# refused AT ONCE with the holder's pid: refused NAME HOLDER_PID CMD...
refused() {
	n=$1 hp=$2; shift 2
	t0=$(ms); "$@" >"$d/out" 2>"$d/err"; rc=$?; t1=$(ms)
	if ! kill -0 "$hp" 2>/dev/null && { [ $rc -ne 3 ] || ! grep -q "in use by pid $hp" "$d/err"; }; then
		# the holder ended meanwhile: its pid may no longer be in /proc/locks
		skip "$n" "the holder (pid $hp) ended during the race (rc $rc: $(head -c 100 "$d/err"))"; return
	fi
	if [ $rc -eq 3 ] && grep -q "image is in use by pid $hp" "$d/err" && [ $((t1 - t0)) -lt 3000 ]; then
		pass "$n (exit 3 in $((t1 - t0)) ms: $(head -c 120 "$d/err"))"
	else fail "$n" "rc $rc after $((t1 - t0)) ms, want 3 naming pid $hp: $(head -c 300 "$d/err")"; fi
}

# ---- a shell holds the image ------------------------------------------------
mkfifo "$d/fifo"
"$LF" shell "$img" <"$d/fifo" >"$d/sh.out" 2>"$d/sh.err" &
sp=$!
exec 7>"$d/fifo"
i=0; while [ $i -lt 50 ] && ! grep -q "$img" /proc/locks 2>/dev/null &&
	! ls -l /proc/$sp/fd 2>/dev/null | grep -q "$img"; do sleep 0.1; i=$((i + 1)); done
sleep 0.3
refused "shell holds: kv put refused" $sp "$LF" kv "$img" put k v
refused "shell holds: kv get refused" $sp "$LF" kv "$img" get k
if have cp; then
	echo data >"$d/f"
	refused "shell holds: cp refused" $sp "$LF" cp "$d/f" "$img:/f"
	refused "shell holds: cp out refused" $sp "$LF" cp "$img:/" "$d/outdir"
fi
have ls && refused "shell holds: ls refused" $sp "$LF" ls "$img:/"
refused "shell holds: replay --image refused" $sp "$LF" replay --image "$img" "$TOP/traces/gcc.trace"
refused "shell holds: second shell refused" $sp "$LF" shell -c "help" "$img"
echo quit >&7
exec 7>&-
wait $sp
ok "shell released: kv put" "$LF" kv "$img" put k v

# ---- writers racing with retries: no lost update ----------------------------
# W writers x N updates each, every one retried on exit 3 until acknowledged;
# R readers meanwhile.  Updates: kv put (always), cp of a small file when the
# build has cp.
W=3 N=8
writer() { # writer ID
	j=0
	while [ $j -lt $N ]; do
		if [ -n "${USECP:-}" ]; then
			printf 'w%s-%s-%0500d\n' "$1" "$j" "$j" >"$d/src.$1"
			if [ "$1" = 1 ]; then   # and a whole new version of /hot
				head -c 200000 /dev/zero | tr '\0' "$(printf "\\$(printf %03o $((97 + j % 26)))")" >"$d/hot.$1"
				until "$REL" cp "$d/hot.$1" "$img:/hot" 2>/dev/null; do :; done
			fi
			"$REL" cp "$d/src.$1" "$img:/w$1-$j" 2>>"$d/werr.$1"
		else
			"$REL" kv "$img" put "race/w$1/$j" "value-$1-$j-$(printf %0300d $j)" 2>>"$d/werr.$1"
		fi
		rc=$?
		case $rc in
		0) echo "$j" >>"$d/acked.$1"; j=$((j + 1)) ;;
		3) ;;                              # locked: retry
		*) echo "rc $rc" >>"$d/bad.$1"; j=$((j + 1)) ;;
		esac
	done
}
reader() { # reader ID: until the writers are done
	while [ ! -f "$d/done" ]; do
		if [ -n "${USECP:-}" ]; then
			# /hot: one whole version (200000 times one letter), exit 3
			# (locked) or not there yet
			"$REL" cat "$img:/hot" >"$d/r.$1" 2>"$d/rerr.$1"; rc=$?
			case $rc in
			0) if [ "$(wc -c <"$d/r.$1")" -eq 200000 ] && [ "$(tr -d "$(head -c 1 "$d/r.$1")" <"$d/r.$1" | wc -c)" -eq 0 ]; then
				echo ok >>"$d/reads.$1"; else echo "torn /hot: $(wc -c <"$d/r.$1") bytes" >>"$d/rbad.$1"; fi ;;
			3) echo locked >>"$d/reads.$1" ;;
			1) grep -q "No such file" "$d/rerr.$1" || echo "rc 1 $(head -c 200 "$d/rerr.$1")" >>"$d/rbad.$1" ;;
			*) echo "rc $rc $(head -c 200 "$d/rerr.$1")" >>"$d/rbad.$1" ;;
			esac
			continue
		fi
		"$REL" kv "$img" scan --prefix race/ >"$d/r.$1" 2>"$d/rerr.$1"; rc=$?
		case $rc in
		0) # every value whole: value-W-J-<300 digits>
		   if awk -F'\t' '{ n = split($2, a, "-"); if (n != 4 || a[1] != "value" || length(a[4]) != 300 || a[4] !~ /^[0-9]+$/) exit 1 }' "$d/r.$1"; then
			echo ok >>"$d/reads.$1"; else echo "torn: $(head -c 200 "$d/r.$1")" >>"$d/rbad.$1"; fi ;;
		3) echo locked >>"$d/reads.$1" ;;
		*) echo "rc $rc $(head -c 200 "$d/rerr.$1")" >>"$d/rbad.$1" ;;
		esac
	done
}
race() { # race LABEL: W writers + 2 readers, then count
	rm -f "$d"/acked.* "$d"/bad.* "$d"/reads.* "$d"/rbad.* "$d"/werr.* "$d/done"
	pids=""
	for r in 1 2; do reader $r & pids="$pids $!"; done
	wp=""
	for w in $(seq 1 $W); do writer $w & wp="$wp $!"; done
	wait $wp
	touch "$d/done"
	wait $pids
	acked=$(cat "$d"/acked.* 2>/dev/null | wc -l)
	retries=$(cat "$d"/werr.* 2>/dev/null | grep -c "image is in use by pid")
	reads=$(cat "$d"/reads.* 2>/dev/null | grep -c ok); lockeds=$(cat "$d"/reads.* 2>/dev/null | grep -c locked)
	if [ -s "$d/bad.1" ] || [ -s "$d/bad.2" ] || [ -s "$d/bad.3" ]; then
		fail "race_$1" "a writer failed otherwise than locked: $(cat "$d"/bad.* | head -3) $(cat "$d"/werr.* | grep -v 'in use' | head -3)"; return
	fi
	if cat "$d"/rbad.* >/dev/null 2>&1; then
		fail "race_$1_readers" "$(cat "$d"/rbad.* | head -3)"
	else
		pass "race_$1_readers: $reads whole reads, $lockeds refused (locked) while writing"
	fi
	echo "$acked acked $retries retries"
}
out=$(race kv)
echo "$out" | grep -v "acked" 
acked=$(echo "$out" | awk '/acked/ {print $1}')
"$LF" kv "$img" scan --prefix race/ >"$d/final" 2>"$d/err"
lost=0
for w in $(seq 1 $W); do
	for j in $(cat "$d/acked.$w" 2>/dev/null); do
		grep -q "^race/w$w/$j	value-$w-$j-" "$d/final" || lost=$((lost + 1))
	done
done
if [ "$acked" = $((W * N)) ] && [ $lost -eq 0 ]; then
	pass "race_kv: $W writers x $N puts, $acked acknowledged, 0 lost ($(echo "$out" | awk '/acked/ {print $3}') refusals retried)"
else fail race_kv "acked $acked of $((W * N)), lost $lost"; fi

if have cp && have cat; then
	out=$(USECP=1 race cp)
	echo "$out" | grep -v "acked"
	acked=$(echo "$out" | awk '/acked/ {print $1}')
	lost=0
	for w in $(seq 1 $W); do
		for j in $(cat "$d/acked.$w" 2>/dev/null); do
			printf 'w%s-%s-%0500d\n' "$w" "$j" "$j" >"$d/want"
			"$LF" cat "$img:/w$w-$j" >"$d/got" 2>/dev/null && cmp -s "$d/want" "$d/got" || lost=$((lost + 1))
		done
	done
	if [ "$acked" = $((W * N)) ] && [ $lost -eq 0 ]; then
		pass "race_cp: $W writers x $N cp, $acked acknowledged, 0 lost ($(echo "$out" | awk '/acked/ {print $3}') refusals retried)"
	else fail race_cp "acked $acked of $((W * N)), lost or wrong $lost"; fi
else
	skip race_cp "no cp/cat in this build"
fi

# ---- a long cp holds the image: others refused with its pid -----------------
# The cp copies its stdin, a FIFO this script keeps open: it holds the image
# (mounted for writing) until the script closes the FIFO, so the race is
# deterministic; what it wrote must then be whole.
if have cp; then
	mkfifo "$d/cpfifo"
	head -c 3000000 /dev/urandom >"$d/cpsrc"
	"$REL" cp - "$img:/fromfifo" <"$d/cpfifo" >/dev/null 2>"$d/cperr" &
	cpp=$!
	exec 8>"$d/cpfifo"
	head -c 1000000 "$d/cpsrc" >&8
	i=0; while [ $i -lt 300 ] && ! grep -q " $cpp " /proc/locks 2>/dev/null; do sleep 0.01; i=$((i + 1)); done
	if grep -q " $cpp " /proc/locks; then
		refused "cp holds: second cp refused" $cpp "$LF" cp "$d/f" "$img:/g"
		refused "cp holds: shell refused" $cpp "$LF" shell -c "help" "$img"
	else
		fail cp_holds "the cp reading a FIFO never took the image lock: $(head -c 200 "$d/cperr")"
	fi
	tail -c +1000001 "$d/cpsrc" >&8
	exec 8>&-
	wait $cpp; rc=$?
	if [ $rc -eq 0 ] && "$LF" cat "$img:/fromfifo" | cmp -s - "$d/cpsrc"; then
		pass "cp_holds: the first cp completed, its file whole"
	else fail cp_holds "rc $rc $(head -c 200 "$d/cperr")"; fi
fi

# ---- two readers at once ----------------------------------------------------
"$REL" kv "$img" scan >"$d/s1" 2>"$d/e1" & a=$!
"$REL" kv "$img" scan >"$d/s2" 2>"$d/e2" & b=$!
wait $a; ra=$?; wait $b; rb=$?
[ $ra -eq 0 ] && [ $rb -eq 0 ] && cmp -s "$d/s1" "$d/s2" && pass "two_readers_at_once" ||
	fail two_readers_at_once "rc $ra/$rb $(head -c 200 "$d/e1" "$d/e2")"

# ---- replay of multi-process traces onto an image file ------------------------
for t in git-commit gcc cp-r; do
	rm -f "$d/r.lfs"
	"$LF" replay --image "$d/r.lfs" --json "$TOP/traces/$t.trace" >"$d/rj" 2>"$d/err"; rc=$?
	np=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["trace"]["processes"])' "$d/rj" 2>/dev/null)
	if [ $rc -eq 0 ] && [ "${np:-0}" -gt 1 ] && "$TOOLS/rel_tree" image "$d/r.lfs" >/dev/null 2>"$d/err2"; then
		pass "replay_multiproc_$t: $np processes, image reopens and reads whole"
	else fail "replay_multiproc_$t" "rc $rc, processes ${np:-?}: $(head -c 200 "$d/err" "$d/err2")"; fi
done
# two replays of the same image at once: one is refused with the other's pid
rm -f "$d/r.lfs"
# (the first replays the 0.16 s gcc trace with its gaps stretched 20x,
# --timing 0.05, so it holds the image for about 3 s)
"$REL" replay --image "$d/r.lfs" --timing 0.05 "$TOP/traces/gcc.trace" >/dev/null 2>"$d/e1" & a=$!
i=0; while [ $i -lt 200 ] && ! grep -q " $a " /proc/locks 2>/dev/null; do sleep 0.01; i=$((i + 1)); done
if grep -q " $a " /proc/locks; then
	refused "replay holds: second replay refused" $a "$LF" replay --image "$d/r.lfs" "$TOP/traces/gcc.trace"
else fail replay_holds "the first replay never took the image lock: $(head -c 200 "$d/e1")"; fi
wait $a && pass "replay_holds: first replay completed" || fail replay_holds "$(head -c 200 "$d/e1")"
exit 0
