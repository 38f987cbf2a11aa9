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
# writev / pwritev: the payload is gathered from every iovec in order
cat >"$TMPDIR/wv.py" <<'PY'
import os, sys
src = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.writev(fd, [src[:10], b"", src[10:5000], src[5000:20000]])
os.pwritev(fd, [src[20000:20001], src[20001:50000]], 20000)
os.close(fd)
PY
"$LF" trace record -q --data=64K -o "$TMPDIR/v.trace" -- python3 "$TMPDIR/wv.py" "$TMPDIR/src" "$TMPDIR/vdst" ||
	fail trace_data_writev_record "record failed"
"$LF" trace show --format json "$TMPDIR/v.trace" >"$TMPDIR/v.json"
if python3 - "$TMPDIR/v.json" "$TMPDIR/src" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
evs = [e for e in evs if e.get("syscall") in ("writev", "pwritev", "pwritev2") and e.get("ret", 0) > 0]
assert len(evs) == 2 and evs[0]["syscall"] == "writev", [e.get("syscall") for e in evs]  # glibc pwritev is pwritev2
src = open(sys.argv[2], "rb").read()
for e in evs:
    assert e["data_len"] == e["ret"], (e["syscall"], e["data_len"], e["ret"])
got = b"".join(e["data"].encode("latin-1") for e in evs)
assert got == src, (len(got), len(src))
PY
then pass trace_data_writev; else fail trace_data_writev "writev/pwritev payloads differ from what was written"; fi
expect_exit 2 trace_data_bad_size "$LF" trace record --data=0 -- true
