# --data records write payloads: the bytes a program wrote can be rebuilt
# from the trace exactly; --data=MAX cuts each payload at MAX and flags it.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/cli/trace_lib.inc"
trace_need_bpf || exit 0
head -c 50000 /dev/urandom >"$TMPDIR/src"
"$LF" trace record -q --data=64K -o "$TMPDIR/d.trace" -- dd if="$TMPDIR/src" of="$TMPDIR/dst" bs=4000 status=none || fail trace_data_record "record failed"
"$LF" trace show --format json --syscall write "$TMPDIR/d.trace" >"$TMPDIR/w.json"
if python3 - "$TMPDIR/w.json" "$TMPDIR/src" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
got = b"".join(e["data"].encode("latin-1") for e in evs if e["fd"] != 2 and e["ret"] > 0)
want = open(sys.argv[2], "rb").read()
assert all(e["data_len"] == e["ret"] for e in evs if e["ret"] > 0), "short payload"
assert got == want, (len(got), len(want))
PY
then pass trace_data_rebuilds_file; else fail trace_data_rebuilds_file "payloads differ from the written file"; fi
"$LF" trace record -q --data=100 -o "$TMPDIR/d2.trace" -- dd if="$TMPDIR/src" of="$TMPDIR/dst" bs=4000 status=none
"$LF" trace show --format json --syscall write "$TMPDIR/d2.trace" >"$TMPDIR/w2.json"
if python3 -c '
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) ]
big = [e for e in evs if e["ret"] > 100]
src = open(sys.argv[2], "rb").read()
assert big and all(e["data_len"] == 100 and e["eflags"] & 8 for e in big), big[:1]
assert big[0]["data"].encode("latin-1") == src[:100]
' "$TMPDIR/w2.json" "$TMPDIR/src"; then pass trace_data_max_truncates; else fail trace_data_max_truncates "payload not cut at 100 / not flagged"; fi
expect_exit 2 trace_data_bad_size "$LF" trace record --data=0 -- true
