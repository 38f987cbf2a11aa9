#!/bin/sh
# lightfs kv: put/get/del/scan/stats/load/dump/verify/compact, exit codes.
. "$TOP/tests/cli/lib.sh"
img=$TMPDIR/cli.img
expect_exit 1 kv_cli_missing "$LF" kv "$img" get a
ok kv_cli_create "$LF" kv --create "$img" put hello world
expect_out kv_cli_get "world" "$LF" kv "$img" get hello
ok kv_cli_put_esc "$LF" kv "$img" put 'a\x00b' 'tab\there'
expect_out kv_cli_scan "$(printf 'a\\x00b\ttab\\there\nhello\tworld')" "$LF" kv "$img" scan
printf 'k1\tv1\nk2\tline\\nbreak\nk3\t\\x41\n' | "$LF" kv "$img" load && pass kv_cli_load || fail kv_cli_load "exit $?"
expect_out kv_cli_prefix "$(printf 'k1\tv1\nk2\tline\\nbreak\nk3\tA')" "$LF" kv "$img" scan --prefix k
expect_out kv_cli_prefix_json '[
{"key":"k1","value":"v1"}
]' "$LF" kv "$img" scan --prefix k1 --json
ok kv_cli_del "$LF" kv "$img" del k2
expect_exit 1 kv_cli_get_deleted "$LF" kv "$img" get k2
expect_err kv_cli_get_deleted_msg "no such key"
expect_out kv_cli_stats_keys "4" sh -c "'$LF' kv '$img' stats --json | sed 's/.*\"live_keys\":\([0-9]*\).*/\1/'"
ok kv_cli_dump "$LF" kv dump "$img"
grep -q 'del *k2' "$TMPDIR/.out" && pass kv_cli_dump_has_del || fail kv_cli_dump_has_del "$(cat "$TMPDIR/.out")"
ok kv_cli_dump_json "$LF" kv dump "$img" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert any(r["kind"]=="put" for r in d)' "$TMPDIR/.out" \
	&& pass kv_cli_dump_json_valid || fail kv_cli_dump_json_valid "$(head -c 300 "$TMPDIR/.out")"
ok kv_cli_verify "$LF" kv "$img" verify
ok kv_cli_compact "$LF" kv "$img" compact
expect_out kv_cli_after_compact "world" "$LF" kv "$img" get hello
expect_exit 2 kv_cli_usage "$LF" kv "$img" frobnicate
expect_exit 2 kv_cli_usage2 "$LF" kv "$img" put onlykey
# zstd at create
ok kv_cli_zstd "$LF" kv --create --compress zstd:5 "$TMPDIR/z.img" put big "$(printf 'abcabcabc%.0s' $(seq 200))"
expect_out kv_cli_zstd_stats "zstd" sh -c "'$LF' kv '$TMPDIR/z.img' stats --json | sed 's/.*\"compress\":\"\([a-z]*\)\".*/\1/'"
expect_out kv_cli_zstd_get "$(printf 'abcabcabc%.0s' $(seq 200))" "$LF" kv "$TMPDIR/z.img" get big
# corruption: flip a byte inside the value of "hello" -> exit 4, message with the key
off=$("$LF" kv dump "$img" | awk '$3=="put" && $4 ~ /^hello/ {print $1}' | tail -n 1)
printf 'X' | dd of="$img" bs=1 seek=$((off + 16 + 5 + 2)) conv=notrunc 2>/dev/null
expect_exit 4 kv_cli_corrupt_get "$LF" kv "$img" get hello
expect_err kv_cli_corrupt_msg "key hello"
expect_exit 4 kv_cli_corrupt_verify "$LF" kv "$img" verify
# not an image
echo "hello there, not an image at all" >"$TMPDIR/junk"
expect_exit 4 kv_cli_badmagic "$LF" kv "$TMPDIR/junk" scan
expect_err kv_cli_badmagic_msg "not a lightfs kv image"
# groups in the dump: a `cp` is one group — its records marked [group], then
# a commit record naming its first batch; plain `kv put` records are not marked
gimg=$TMPDIR/grp.img
printf 'group me\n' >"$TMPDIR/gfile"
if "$LF" mkfs "$gimg" >/dev/null 2>&1 && "$LF" cp "$TMPDIR/gfile" "$gimg:/gfile" >/dev/null 2>&1; then
	ok kv_cli_dump_group "$LF" kv dump "$gimg"
	first=$(awk '$3 == "commit" { print $NF; exit }' "$TMPDIR/.out")
	if grep -q '^[0-9]* *[0-9]* *put *\[group\] ' "$TMPDIR/.out" && [ -n "$first" ] \
	   && grep -q 'commit *group of [0-9]* batch record' "$TMPDIR/.out" \
	   && awk -v f="$first" '$3 == "commit" { c = 1 } $4 == "[group]" && $1 < f { bad = 1 } END { exit !(c && !bad) }' "$TMPDIR/.out"; then
		pass kv_cli_dump_group_marked
	else
		fail kv_cli_dump_group_marked "$(head -c 600 "$TMPDIR/.out")"
	fi
	ok kv_cli_dump_group_json "$LF" kv dump "$gimg" --json
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = [r for r in d if r["kind"] == "commit"]
g = [r for r in d if r.get("group")]
assert c and g and all(r["batches"] >= 1 for r in c)
assert all(r["offset"] >= c[0]["group_first"] for r in g)
assert any(r["kind"] == "put" and "gfile" in r.get("key", "") and r.get("group") for r in d)
' "$TMPDIR/.out" && pass kv_cli_dump_group_json_fields || fail kv_cli_dump_group_json_fields "$(head -c 600 "$TMPDIR/.out")"
	"$LF" kv dump "$img" >"$TMPDIR/plain" 2>&1
	grep -q '\[group\]\|commit' "$TMPDIR/plain" && fail kv_cli_dump_plain_unmarked "$(grep -m2 'group\|commit' "$TMPDIR/plain")" \
		|| pass kv_cli_dump_plain_unmarked
else
	fail kv_cli_dump_group "mkfs/cp failed"
fi
