#!/bin/sh
# tests/cli/replay_cli.sh — `lightfs replay` end to end: options, errors,
# shipped traces with --verify, determinism, --json/--report/--explain,
# --sweep, --timing, and failure-injection traces.
. "$TOP/tests/cli/lib.sh"
REL=${LIGHTFS_REL:-$LF}
MK=$TOOLS/replay_mktrace
T=$TOP/traces
cd "$TMPDIR"
if "$LF" replay "$T/gcc.trace" 2>&1 >/dev/null | grep -q "not built yet"; then
	skip replay_cli "the engine (lib/vfs and below) is not built yet"; exit 0
fi

# ---- usage errors (exit 2) and a missing trace (exit 1)
expect_exit 2 replay_no_trace "$LF" replay
expect_exit 2 replay_bad_cache "$LF" replay --cache-size lots x.trace
expect_exit 2 replay_bad_sched "$LF" replay --sched cfq x.trace
expect_exit 2 replay_bad_timing "$LF" replay --timing slow x.trace
expect_exit 2 replay_bad_sweep "$LF" replay --sweep cache=1..2 x.trace
expect_exit 1 replay_missing_file "$LF" replay "$TMPDIR/nope.trace"
expect_err replay_missing_file_msg "nope.trace"

# ---- a failure-injection trace: traced errors reproduce; a wrong one is shown
cat >inj.txt <<'S'
1 mkdir path=/d mode=0755
1 mkdir path=/d mode=0755 = -EEXIST
1 openat path=/d/x flags=O_RDONLY = -ENOENT
1 openat path=/d/f flags=O_WRONLY|O_CREAT|O_EXCL mode=0644 type=reg size=0 = 3
1 openat path=/d/f flags=O_WRONLY|O_CREAT|O_EXCL mode=0644 = -EEXIST
1 rmdir path=/d = -ENOTEMPTY
1 unlink path=/d/x = -ENOENT
1 write fd=3 count=4096 = 4096
1 close fd=3
S
if "$MK" inj.trace <inj.txt; then
	"$LF" replay --json --no-latency inj.trace >inj.json 2>inj.err
	if python3 -c 'import json,sys; d=json.load(open("inj.json")); e=d["errors"]; sys.exit(0 if e["expected"]==5 and e["mismatches"]==0 else 1)'; then
		pass replay_errors_reproduced; else fail replay_errors_reproduced "$(grep -A3 '"errors"' inj.json | head -5)"; fi
	printf '1 openat path=/d2/g flags=O_WRONLY|O_CREAT mode=0644 type=reg size=0 = 3\n1 write fd=3 count=100 = -ENOSPC\n' >bad.txt
	"$MK" bad.trace <bad.txt
	"$LF" replay bad.trace >bad.out 2>&1
	if grep -q "MISMATCH event 1 pid 1 write" bad.out && grep -q "1 mismatches" bad.out; then
		pass replay_mismatch_shown; else fail replay_mismatch_shown "$(head -c 400 bad.out)"; fi
	expect_exit 1 replay_verify_fails_on_mismatch "$LF" replay --verify bad.trace
else
	fail replay_errors_reproduced "replay_mktrace failed"
fi

# ---- the shipped traces replay with --verify clean (release build: speed)
for t in "$T"/*.trace; do
	n=$(basename "$t" .trace)
	if "$REL" replay --verify --json --no-latency "$t" >"$n.json" 2>"$n.err"; then
		python3 - "$n.json" <<'P' && pass "replay_verify_$n" || fail "replay_verify_$n" "$(cat "$n.err" | head -c 300)"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "lightfs-replay/1"
assert d["errors"]["mismatches"] == 0, d["errors"]["first"][:3]
assert d["verify"]["failures"] == 0, d["verify"]["first"]
assert d["replay"]["replayed"] > 100
assert d["pagecache"]["lookups"] > 0 or d["replay"]["app_bytes_read"] == 0
assert d["kv"]["puts"] > 0
P
	else
		fail "replay_verify_$n" "exit $?: $(head -c 300 "$n.err")"
	fi
done

# ---- determinism: same trace, same options → identical output
t=$T/gcc.trace
"$LF" replay --json --no-latency --explain 20 "$t" >d1.json 2>/dev/null
"$LF" replay --json --no-latency --explain 20 "$t" >d2.json 2>/dev/null
if [ -s d1.json ] && cmp -s d1.json d2.json; then pass replay_deterministic_json; else
	fail replay_deterministic_json "$(diff d1.json d2.json | head -5)"; fi
"$LF" replay --no-latency "$t" >t1.txt 2>/dev/null; "$LF" replay --no-latency "$t" >t2.txt 2>/dev/null
if [ -s t1.txt ] && cmp -s t1.txt t2.txt; then pass replay_deterministic_text; else fail replay_deterministic_text "text differs"; fi

# ---- determinism on an image file too: the page cache's view of writeback
# completion follows the submission order, not the KV server's speed (before,
# tar-xf's kv.image_bytes_read differed in about one run of four)
for i in 1 2 3; do
	rm -f det$i.lfs
	"$REL" replay --image det$i.lfs --json --no-latency "$T/tar-xf.trace" 2>/dev/null | sed "s/det$i.lfs/IMG/" >det$i.json
done
rm -f det1.lfs det2.lfs det3.lfs
if [ -s det1.json ] && cmp -s det1.json det2.json && cmp -s det1.json det3.json; then
	pass replay_deterministic_image
else fail replay_deterministic_image "$(diff det1.json det2.json | head -3; diff det1.json det3.json | head -3)"; fi

# ---- text report: the layer diagram with counts on the arrows
if grep -q "generic_perform_write" t1.txt && grep -q "request channel (cheeze_io" t1.txt &&
   grep -q "db_put ×" t1.txt && grep -q "hit ratio" t1.txt; then pass replay_text_diagram; else
	fail replay_text_diagram "$(head -c 300 t1.txt)"; fi

# ---- --explain N: one block per syscall
"$LF" replay --explain 7 "$t" >ex.txt 2>&1
n=$(grep -c '^#[0-9]* pid ' ex.txt)
if [ "$n" -eq 7 ] && grep -q "└→" ex.txt; then pass replay_explain; else fail replay_explain "$n blocks"; fi

# ---- --report: one self-contained HTML file
"$LF" replay --report r.html "$t" >/dev/null 2>&1
if [ -s r.html ] && grep -q "<svg" r.html && ! grep -qi "<script" r.html &&
   ! grep -Eo '(src|href)="https?://[^"]*' r.html | grep -q . &&
   [ "$(grep -c '<svg' r.html)" -ge 5 ]; then pass replay_report_html; else fail replay_report_html "bad html"; fi

# ---- --sweep: the miss-ratio curve at several cache sizes, in parallel
"$LF" replay --sweep cache-size=256K..1M --json "$T/sqlite.trace" >sw.json 2>sw.err
if python3 -c '
import json,sys; d=json.load(open("sw.json")); p=d["points"]
assert [x["cache_bytes"] for x in p]==[262144,524288,1048576], p
assert all(x["status"]==0 for x in p)
assert p[0]["miss_ratio"] >= p[-1]["miss_ratio"]' 2>sw.py; then pass replay_sweep; else fail replay_sweep "$(cat sw.py sw.err | tail -3)"; fi

# ---- --timing original follows the trace's gaps; SCALE divides them
printf '@0 5 openat path=/t flags=O_WRONLY|O_CREAT mode=0644 type=reg size=0 = 3\n@400 5 write fd=3 count=10 = 10\n@800 5 close fd=3\n' >gap.txt
"$MK" gap.trace <gap.txt
s=$(date +%s%N); "$LF" replay --timing original gap.trace >/dev/null 2>&1; e=$(date +%s%N)
ms=$(( (e - s) / 1000000 ))
s=$(date +%s%N); "$LF" replay --timing 8 gap.trace >/dev/null 2>&1; e=$(date +%s%N)
ms8=$(( (e - s) / 1000000 ))
if [ "$ms" -ge 800 ] && [ "$ms8" -lt "$ms" ]; then pass replay_timing; else fail replay_timing "original ${ms} ms, x8 ${ms8} ms"; fi

# ---- on an image file, which then holds the replayed files
"$LF" replay --image img.lfs "$T/cp-r.trace" >img.out 2>&1
if [ -s img.lfs ] && grep -q "image file (img.lfs)" img.out; then pass replay_image_file; else fail replay_image_file "$(tail -c 300 img.out)"; fi

# ---- onto an image file the replay is one transaction: killed half-way
# (after a traced fsync reached the image file, during a 60 s gap of the
# trace) the image is as it was; with --no-atomic the fsync'ed file stays
cat >kill.txt <<'S'
@0 7 mkdir path=/k mode=0755
@1 7 openat path=/k/f flags=O_WRONLY|O_CREAT mode=0644 type=reg size=0 = 3
@2 7 write fd=3 count=65536 = 65536
@3 7 fsync fd=3
@60000 7 write fd=3 count=10 = 10
@60001 7 close fd=3
S
"$MK" kill.trace <kill.txt
# replay_kill MODE IMG [OPTS]: start the replay, wait until the image file
# grew by the fsync'ed 64 KiB (at most 20 s), kill -9 it; prints the growth
replay_kill() {
	img=$1; shift
	rm -f "$img"; "$LF" mkfs "$img" >/dev/null 2>&1 && "$LF" mkdir "$img:/marker" >/dev/null 2>&1
	s0=$(stat -c %s "$img")
	"$LF" replay --timing original --image "$img" "$@" kill.trace >/dev/null 2>&1 &
	pid=$!
	i=0
	while [ $i -lt 200 ] && [ $(( $(stat -c %s "$img") - s0 )) -lt 65536 ]; do sleep 0.1; i=$((i + 1)); done
	grown=$(( $(stat -c %s "$img") - s0 ))
	kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
	echo "$grown"
}
g=$(replay_kill kill.lfs)
ls_out=$("$LF" ls kill.lfs:/ 2>&1)
if [ "$g" -lt 65536 ]; then fail replay_image_atomic "the replay never wrote its fsync'ed 64 KiB ($g bytes)"
elif [ "$ls_out" = "marker" ] && "$LF" fsck kill.lfs >/dev/null 2>&1; then pass replay_image_atomic
else fail replay_image_atomic "after kill -9: ls / = '$ls_out'"; fi
g=$(replay_kill kill2.lfs --no-atomic)
if [ "$g" -ge 65536 ] && [ "$("$LF" stat -c %s kill2.lfs:/k/f 2>/dev/null)" = 65536 ]; then
	pass replay_image_no_atomic_keeps_part
else fail replay_image_no_atomic_keeps_part "growth $g, /k/f: $("$LF" stat kill2.lfs:/k/f 2>&1 | head -2)"; fi
