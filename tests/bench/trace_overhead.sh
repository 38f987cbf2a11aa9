#!/bin/sh
# tests/bench/trace_overhead.sh — what capturing file syscalls costs the
# traced program: plain vs `lightfs trace record` vs `strace -f` (same
# syscall set) vs `perf trace` vs a bpftrace script printing the same
# fields, side by side on
#   dd if=/dev/zero of=FILE bs=512 count=500000   (1,000,000 syscalls)
#   tar xf of a tarball of /usr/include
# and events captured / lost, bytes per event, and start-up time of
# `lightfs trace record -- /bin/true`.
# Targets: ≤ 1.3× on dd, ≤ 1.1× on tar, 0 lost, start-up < 0.1 s,
# ≤ 4 bytes/event on dd.  Runs in $BENCH_DIR (a fresh journaled ext4).
LF=${LIGHTFS:?run through make bench}
W=${BENCH_DIR:-/var/tmp}/trace-bench
rm -rf "$W"; mkdir -p "$W"
cd "$W" || exit 1
REPS=${TRACE_BENCH_REPS:-5}
SET=open,openat,openat2,creat,close,close_range,read,write,pread64,pwrite64,readv,writev,preadv,pwritev,preadv2,pwritev2,lseek,fsync,fdatasync,sync_file_range,sync,syncfs,ftruncate,truncate,fallocate,unlink,unlinkat,rename,renameat,renameat2,mkdir,mkdirat,rmdir,link,linkat,symlink,symlinkat,dup,dup2,dup3,fcntl,chdir,fchdir,sendfile,copy_file_range,splice,mmap,munmap,execve,execveat,clone,clone3,fork,vfork,exit,exit_group

now() { date +%s.%N; }
# median wall time (s) of REPS runs of "$@" (after a prep command in $PREP)
timeit() {
	reps=$1; shift
	ts=""
	for i in $(seq "$reps"); do
		[ -n "${PREP:-}" ] && sh -c "$PREP"
		sync
		t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
		ts="$ts $(echo "$t1 $t0" | awk '{ printf "%.3f", $1 - $2 }')"
	done
	echo $ts | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'
}
# the command's user+sys seconds and its own wall time (from its start to
# its end, without the recorder's start-up and tail), from /usr/bin/time -o
# (empty without it): cpu_of sets CPUV and INWALL
if [ -x /usr/bin/time ]; then TIMECPU="/usr/bin/time -o $W/cpu.txt -f %U+%S+%e"; else TIMECPU=""; fi
cpu_of() {
	CPUV=""; INWALL=""
	[ -n "$TIMECPU" ] && [ -s "$W/cpu.txt" ] || return 0
	CPUV=$(awk -F+ 'END {printf "%.2f", $1 + $2}' "$W/cpu.txt")
	INWALL=$(awk -F+ 'END {printf "%.3f", $3}' "$W/cpu.txt")
	rm -f "$W/cpu.txt"
}
med() { echo "$@" | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {if (NR) printf "%.3f", a[int((NR+1)/2)]}'; }
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2fx", $1 / $2; else print "-" }'; }

bpftrace_script() {   # COMM: print time, pid, tid, syscall nr, 3 args, ret of COMM's syscalls
	cat <<EOF
tracepoint:raw_syscalls:sys_enter /comm == "$1"/ { @a0[tid] = args->args[0]; @a1[tid] = args->args[1]; @a2[tid] = args->args[2]; }
tracepoint:raw_syscalls:sys_exit /comm == "$1"/ { printf("%llu %d %d %d %d %d %d %d\n", nsecs, pid, tid, args->id, @a0[tid], @a1[tid], @a2[tid], args->ret); }
EOF
}

# run_peers NAME COMM CMD...: one line per tool
run_peers() {
	name=$1; comm=$2; shift 2
	echo
	echo "--- $name: $*"
	printf '%-22s %9s %9s %12s %10s %s\n' tool seconds slowdown events lost note
	# plain and lightfs runs alternate, each after the same preparation
	# (PREP, then sync so no writeback of an earlier run is timed)
	# (the command's own CPU time, user + sys, is also taken: on this
	# shared 2-core machine it moves far less than wall time, and the
	# probe cost is paid in the traced command's syscalls)
	# (and a third run: the tracepoint attached with a program that records
	# nothing, LFS_TRACE_FLOOR — the floor any syscall-tracepoint capture
	# pays on this kernel)
	# (and a fourth: LFS_TRACE_FLOOR=clock, the same plus one clock read
	# per syscall — what any capture with a real time stamp per event pays
	# before recording anything)
	pl=""; ll=""; pc=""; lc=""; fl=""; fc=""; pw=""; lw=""; kl=""; kc=""
	for i in $(seq "$REPS"); do
		pl="$pl $(timeit 1 $TIMECPU "$@")"; cpu_of; pc="$pc $CPUV"; pw="$pw $INWALL"
		ll="$ll $(timeit 1 "$LF" trace record -q -o "$W/$name.trace" -- $TIMECPU "$@")"; cpu_of; lc="$lc $CPUV"; lw="$lw $INWALL"
		fl="$fl $(timeit 1 env LFS_TRACE_FLOOR=1 "$LF" trace record -q -o "$W/$name.floor" -- $TIMECPU "$@")"; cpu_of; fc="$fc $CPUV"
		kl="$kl $(timeit 1 env LFS_TRACE_FLOOR=clock "$LF" trace record -q -o "$W/$name.floor" -- $TIMECPU "$@")"; cpu_of; kc="$kc $CPUV"
	done
	rm -f "$W/$name.floor"
	plain=$(echo $pl | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}')
	lt=$(echo $ll | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}')
	pcm=$(echo $pc | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {if (NR) printf "%.2f", a[int((NR+1)/2)]}')
	lcm=$(echo $lc | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {if (NR) printf "%.2f", a[int((NR+1)/2)]}')
	ft=$(echo $fl | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}')
	fcm=$(echo $fc | tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {if (NR) printf "%.2f", a[int((NR+1)/2)]}')
	printf '%-22s %9s %9s %12s %10s %s\n' plain "$plain" 1.00x - - "runs:$pl"
	js=$("$LF" trace stat --json "$W/$name.trace")
	ev=$(echo "$js" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
	lo=$(echo "$js" | python3 -c 'import json,sys; print(json.load(sys.stdin)["lost"])')
	sz=$(stat -c %s "$W/$name.trace")
	bpe=$(echo "$sz $ev" | awk '{ printf "%.2f", ($1 - 4096) / $2 }')
	printf '%-22s %9s %9s %12s %10s %s\n' "lightfs trace record" "$lt" "$(ratio "$lt" "$plain")" "$ev" "$lo" "$bpe bytes/event, file $sz B, runs:$ll"
	[ -n "$pcm" ] && [ -n "$lcm" ] &&
		printf '%-22s %9s %9s %12s %10s %s\n' "  (command's CPU)" "$lcm" "$(ratio "$lcm" "$pcm")" - - "user+sys of $1 itself: plain $pcm s, traced $lcm s; runs:$lc vs$pc"
	pwm=$(med $pw); lwm=$(med $lw)
	[ -n "$pwm" ] && [ -n "$lwm" ] &&
		printf '%-22s %9s %9s %12s %10s %s\n' "  (command's own wall)" "$lwm" "$(ratio "$lwm" "$pwm")" - - "$1 from its start to its end (no recorder start-up/tail): plain $pwm s; runs:$lw vs$pw"
	printf '%-22s %9s %9s %12s %10s %s\n' "  (tracepoint floor)" "$ft" "$(ratio "$ft" "$plain")" - - "empty program attached (LFS_TRACE_FLOOR), command CPU $(ratio "$fcm" "$pcm"); runs:$fl"
	kt=$(med $kl); kcm=$(med $kc)
	printf '%-22s %9s %9s %12s %10s %s\n' "  (+ one clock read)" "$kt" "$(ratio "$kt" "$plain")" - - "the floor + bpf_ktime_get_ns per syscall (LFS_TRACE_FLOOR=clock), command CPU $(ratio "$kcm" "$pcm"); runs:$kl"
	eval "LT_$name=\$lt; PLAIN_$name=\$plain; LOST_$name=\$lo; BPE_$name=\$bpe; CPUR_$name=\$(ratio \"\$lcm\" \"\$pcm\"); FLOOR_$name=\$(ratio \"\$ft\" \"\$plain\"); CLOCK_$name=\$(ratio \"\$kt\" \"\$plain\")"
	# strace -f, same syscall set, output to a file
	st=$(timeit 1 strace -f -qq -ttt -T -y -e trace=$SET -o "$W/$name.strace" "$@")
	printf '%-22s %9s %9s %12s %10s\n' "strace -f" "$st" "$(ratio "$st" "$plain")" "$(wc -l <"$W/$name.strace")" 0
	rm -f "$W/$name.strace"
	# perf trace (same set)
	if perf trace -e read -o /dev/null -- true >/dev/null 2>&1; then
		pt=$(timeit 1 perf trace -e "$SET" -o "$W/$name.perf" -- "$@")
		pl=$(grep -c LOST "$W/$name.perf")
		pe=$(grep -vc LOST "$W/$name.perf")
		pn=$(grep -o 'LOST [0-9]* events' "$W/$name.perf" | awk '{s += $2} END {print s + 0}')
		printf '%-22s %9s %9s %12s %10s %s\n' "perf trace" "$pt" "$(ratio "$pt" "$plain")" "$pe" "$pn" "($pl LOST records)"
		rm -f "$W/$name.perf"
	else
		printf '%-22s %9s\n' "perf trace" "does not work here"
	fi
	# bpftrace printing the same fields (time, pid, tid, syscall, args, ret)
	if command -v bpftrace >/dev/null; then
		bpftrace_script "$comm" >"$W/bt.bt"
		bpftrace "$W/bt.bt" >"$W/$name.bt" 2>"$W/$name.bt.err" &
		bp=$!
		i=0; while ! grep -q Attaching "$W/$name.bt" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
		sleep 0.5
		bt=$(timeit 1 "$@")
		sleep 0.5
		kill -INT $bp; wait $bp
		be=$(grep -c '^[0-9]' "$W/$name.bt")
		bl=$(cat "$W/$name.bt" "$W/$name.bt.err" | grep -o 'Lost [0-9]* events' | awk '{s += $2} END {print s + 0}')
		printf '%-22s %9s %9s %12s %10s %s\n' "bpftrace printf" "$bt" "$(ratio "$bt" "$plain")" "$be" "$bl" "(all syscalls of $comm; start-up not timed)"
		rm -f "$W/$name.bt"
	fi
}

# Every run writes to a fresh file / directory (through a symlink set up,
# untimed, by PREP): deleting the previous run's 256 MB or 118 MB first
# makes the next run pay for block freeing / discard, and that drift is
# larger than the overhead being measured.
PREP="n=\$(ls -d '$W'/dd.* 2>/dev/null | wc -l); ln -sfn '$W'/dd.\$n '$W/dd.out'" \
	run_peers dd dd dd if=/dev/zero of="$W/dd.out" bs=512 count=500000
rm -f "$W"/dd.*

tar cf "$W/inc.tar" -C /usr include 2>/dev/null
echo; echo "(tarball of /usr/include: $(du -m "$W/inc.tar" | cut -f1) MiB, $(tar tf "$W/inc.tar" | wc -l) entries)"
PREP="n=\$(ls -d '$W'/x.* 2>/dev/null | wc -l); mkdir '$W'/x.\$n; ln -sfn '$W'/x.\$n '$W/x'" \
	run_peers tar tar tar xf "$W/inc.tar" -C "$W/x/"
rm -rf "$W"/x.* "$W/x"

echo
unset PREP
su=$(timeit 11 "$LF" trace record -q -o "$W/true.trace" -- /bin/true)
pt=$(timeit 11 /bin/true)
echo "start-up: lightfs trace record -- /bin/true: ${su} s (median of 11; /bin/true alone ${pt} s)"

echo
echo "summary (targets): dd $(ratio "$LT_dd" "$PLAIN_dd") (<= 1.3x; command CPU ${CPUR_dd:--}; floor $FLOOR_dd, with a clock read $CLOCK_dd), tar $(ratio "$LT_tar" "$PLAIN_tar") (<= 1.1x; command CPU ${CPUR_tar:--}; floor $FLOOR_tar, with a clock read $CLOCK_tar)," \
     "lost dd=$LOST_dd tar=$LOST_tar (0), dd $BPE_dd bytes/event (<= 4), start-up $su s (< 0.1)"
rm -rf "$W"
