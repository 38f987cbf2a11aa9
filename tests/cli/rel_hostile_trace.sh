# Hostile traces (issue 8): crafted per lib/trace/FORMAT.md by
# tests/tools/rel_mktrace — broken headers, absurd lengths and counts,
# overlong varints, unknown mask bits, string ids out of range, garbage and
# 2 GiB-window zstd bodies, string/event/payload floods, absurd sizes and
# offsets, fds beyond every limit, process and namespace cycles, deep paths,
# thousands of live processes — plus real traces cut at random points and
# with random bytes flipped.  `trace show`, `trace stat` and `replay` (in
# memory and onto an image file) must refuse with a clear message or read
# what is readable: never a crash, a sanitizer report or unbounded memory.
# The small cases run the ASan binary; floods and memory figures the release
# binary (GNU time's max RSS).
. "$TOP/tests/cli/lib.sh"
MK=$TOOLS/rel_mktrace
REL=${LIGHTFS_REL:-$LF}
[ -x "$MK" ] || { skip rel_hostile_trace "rel_mktrace not built"; exit 0; }
d=$TMPDIR/ht
mkdir -p "$d"
seed=${LFS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "# seed $seed"
# 64-bit LCG (Knuth MMIX), high 31 bits; result in $R (no subshell, so the seed advances)
rs=$seed
rnd() { rs=$(( rs * 6364136223846793005 + 1442695040888963407 )); R=$(( ((rs >> 33) & 2147483647) % $1 )); }

# run BIN ARGS...: rc in $rc, stderr in $d/err; a signal, a sanitizer report
# or a missing message is a failure
nfail=0
check() { # check NAME WANT_RC WANT_TEXT BIN ARGS...
	n=$1 want=$2 text=$3; shift 3
	timeout 120 "$@" >"$d/out" 2>"$d/err"; rc=$?
	if [ $rc -ge 124 ] || grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$d/err"; then
		fail "$n" "rc $rc: $(head -c 400 "$d/err")"; nfail=$((nfail + 1)); return 1
	fi
	case " $want " in *" $rc "*) ;; *)
		fail "$n" "rc $rc, want $want: $(head -c 300 "$d/err")"; nfail=$((nfail + 1)); return 1;; esac
	if [ -n "$text" ] && ! grep -qF -- "$text" "$d/err" && ! head -c 2000 "$d/out" | grep -qF -- "$text"; then
		fail "$n" "output lacks [$text]: $(head -c 300 "$d/err")"; nfail=$((nfail + 1)); return 1
	fi
	return 0
}
# the readers on one file: CHECK4 KIND RC TEXT [REPLAY_RC [enc: stat and replay only]]
check4() {
	k4=$1 w4=$2 t4=$3 r4=${4:-$2}
	f4=$d/$k4.lft
	ok=1
	check "hostile_$k4: trace stat" "$w4" "$t4" "$LF" trace stat "$f4" || ok=0
	check "hostile_$k4: replay" "$r4" "$t4" "$LF" replay "$f4" || ok=0
	if [ -z "${5:-}" ]; then    # header/encoding kinds: the reader is shared
		check "hostile_$k4: trace show" "$w4" "$t4" "$LF" trace show "$f4" || ok=0
		rm -f "$d/img"*
		check "hostile_$k4: replay --image" "$r4" "$t4" "$LF" replay --image "$d/img" "$f4" || ok=0
	fi
	[ $ok -eq 1 ] && pass "hostile_$k4 (show/stat rc $w4, replay rc $r4${t4:+: $t4})"
}
for k in $("$MK" --list); do
	case $k in *flood|many-procs) continue;; esac
	"$MK" "$d/$k.lft" "$k" 2>"$d/mkerr" || { fail "hostile_$k" "rel_mktrace: $(cat "$d/mkerr")"; continue; }
done
check4 empty 4 "not a lightfs trace" "" enc
check4 short-header 1 "trace header cut at 100 bytes" "" enc
check4 bad-magic 4 "not a lightfs trace (bad magic)" "" enc
check4 bad-version 4 "trace format version 99" "" enc
check4 bad-hsize 4 "bad header size" "" enc
check4 bad-crc 4 "header checksum mismatch" "" enc
check4 absurd-header 0 ""
check4 str-huge-len 4 "record too long"
check4 data-huge-len 4 "record too long"
check4 varint-overlong 4 "bad field mask"
check4 mask-unknown 4 "bad field mask"
check4 strid-range 4 "string id out of range"
check4 reserved-tag 4 "unknown record type"
check4 garbage-body 0 "truncated"
check4 zstd-window 0 "truncated"
check4 huge-io 0 ""
check4 huge-fds 0 ""
check4 proc-cycle 0 ""
check4 deep-path 0 ""
# a rename of / and a directory moved under itself: refused at set-up
check4 ns-cycle 0 "" 1
[ $rc -eq 1 ] && ! grep -q "lightfs: replay:" "$d/err" && fail hostile_ns-cycle_message "$(cat "$d/err")"
# the image written by the absurd-size replay stays small and opens
rm -f "$d/img"*
"$LF" replay --image "$d/img" "$d/huge-io.lft" >/dev/null 2>&1
sz=$(stat -c %s "$d/img" 2>/dev/null || echo 0)
if [ "$sz" -gt 0 ] && [ "$sz" -lt $((256 << 20)) ] && "$LF" kv "$d/img" scan >/dev/null 2>"$d/err"; then
	pass "hostile_huge-io image: $sz bytes, opens"
else fail hostile_huge-io_image "size $sz: $(head -c 200 "$d/err")"; fi

# floods, release binary, with peak memory
if [ -x /usr/bin/time ]; then
	mem() { # mem NAME MAXKB WANT_RC TEXT ARGS...: run under GNU time
		n=$1 maxkb=$2 want=$3 text=$4; shift 4
		/usr/bin/time -f '%M %e' -o "$d/time" timeout 120 "$REL" "$@" >/dev/null 2>"$d/err"; rc=$?
		kb=$(awk 'END {print $1}' "$d/time"); s=$(awk 'END {print $2}' "$d/time")
		if [ "$rc" -ne "$want" ]; then fail "$n" "rc $rc want $want: $(head -c 300 "$d/err")"
		elif [ -n "$text" ] && ! grep -qF -- "$text" "$d/err"; then fail "$n" "stderr lacks [$text]: $(head -c 300 "$d/err")"
		elif [ "$kb" -gt "$maxkb" ]; then fail "$n" "peak RSS ${kb} KB > ${maxkb} KB"
		else pass "$n: rc $rc, peak RSS $((kb / 1024)) MB, ${s}s"; fi
	}
	"$MK" "$d/sf.lft" string-flood && "$MK" "$d/ef.lft" event-flood && "$MK" "$d/df.lft" data-flood &&
		"$MK" "$d/mp.lft" many-procs || fail hostile_floods "rel_mktrace failed"
	echo "# flood files: strings $(stat -c %s "$d/sf.lft") B, events $(stat -c %s "$d/ef.lft") B, payloads $(stat -c %s "$d/df.lft") B, processes $(stat -c %s "$d/mp.lft") B"
	# 360 MB of strings in a 60 KB file: the reader's 256 MiB string budget stops it
	mem "hostile_string-flood stat" $((400 << 10)) 4 "too many strings" trace stat "$d/sf.lft"
	# 2 million events in a 2 KB file: constant memory
	mem "hostile_event-flood stat" $((64 << 10)) 0 "" trace stat "$d/ef.lft"
	mem "hostile_event-flood replay" $((64 << 10)) 0 "" replay "$d/ef.lft"
	# 64 MiB of 16 MiB payloads before one event: one payload buffer
	mem "hostile_data-flood show" $((128 << 10)) 0 "" trace show "$d/df.lft"
	mem "hostile_data-flood replay" $((256 << 10)) 0 "" replay "$d/df.lft"
	# 20000 live processes: stat stays linear; replay memory grows per live
	# process (fd tables, cwd): figure printed, bounded at 64 KB each
	mem "hostile_many-procs stat" $((64 << 10)) 0 "" trace stat "$d/mp.lft"
	mem "hostile_many-procs replay" $((20000 * 64)) 0 "" replay "$d/mp.lft"
	rm -f "$d"/sf.lft "$d"/df.lft
else
	skip hostile_floods "no /usr/bin/time"
fi

# real traces cut at random points and with random bytes flipped
cuts=0 flips=0 bad=0
for t in "$TOP"/traces/*.trace; do
	sz=$(stat -c %s "$t")
	[ "$sz" -gt 100000 ] && continue      # tar-xf: seconds per ASan replay
	for j in 1 2; do
		rnd $((sz - 4096)); at=$((4096 + R))
		head -c "$at" "$t" >"$d/cut.lft"
		for c in "trace stat" "trace show" "replay"; do
			# shellcheck disable=SC2086
			check "cut $(basename "$t")@$at $c" 0 "truncated" "$LF" $c "$d/cut.lft" || bad=$((bad + 1))
		done
		cuts=$((cuts + 1))
		cp "$t" "$d/flip.lft"
		for f in 1 2 3 4; do
			rnd $((sz - 4096)); o=$((4096 + R)); rnd 256
			printf "\\$(printf %03o $R)" | dd of="$d/flip.lft" bs=1 seek="$o" conv=notrunc 2>/dev/null
		done
		for c in "trace stat" "trace show" "replay"; do
			# a flipped byte reads as a cut or as corrupt (zstd checks are
			# not guaranteed): exit 0, 1 or 4 with a message, never a crash
			# shellcheck disable=SC2086
			check "flip $(basename "$t") $c" "0 1 4" "" "$LF" $c "$d/flip.lft" || bad=$((bad + 1))
		done
		flips=$((flips + 1))
	done
done
[ $bad -eq 0 ] && pass "hostile_real_traces: $cuts cuts, $flips x 4-byte flips, 3 readers each, seed $seed"
echo "# hostile traces: $nfail failures"
exit 0
