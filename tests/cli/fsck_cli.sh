# lightfs fsck: exit codes as e2fsck (0 clean, 1 fixed, 4 left, 8 operational,
# 16 usage), --json, damage made with raw `kv` operations detected and
# repaired, a store that no longer opens rebuilt from its log, every
# undamaged file byte-identical afterwards.
. "$TOP/tests/cli/lib.sh"
T=$TMPDIR
TOOL=$TOP/build/asan/tests/corrupt_tool
[ -x "$TOOL" ] || { skip fsck_cli "corrupt_tool not built"; exit 0; }
img=$T/a.img
"$TOOL" mktree "$img" 11 25 30000 >/dev/null 2>&1 || { fail fsck_mktree "cannot build the image"; exit 0; }
ROOT='\x00\x00\x00\x00\x00\x00\x00\x01'
json_ok() { python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1]) else 1)' "$1"; }

expect_exit 0 fsck_clean "$LF" fsck "$img"
grep -q ': clean$' "$T/.out" && pass fsck_clean_text || fail fsck_clean_text "$(cat "$T/.out")"
expect_exit 0 fsck_check_only "$LF" fsck -n "$img"
expect_exit 16 fsck_n_and_repair "$LF" fsck -n --repair "$img"
"$LF" fsck --json "$img" >"$T/j" 2>&1
json_ok 'd["clean"] and d["exit"] == 0 and d["problems"] == [] and d["files"] > 10' <"$T/j" &&
	pass fsck_json_clean || fail fsck_json_clean "$(head -c 300 "$T/j")"

# operational errors and usage
expect_exit 8 fsck_missing "$LF" fsck "$T/nope.img"
expect_err fsck_missing_msg "nope.img"
echo "hello" >"$T/text"
expect_exit 8 fsck_not_image "$LF" fsck "$T/text"
expect_err fsck_not_image_msg "not a lightfs image"
expect_exit 16 fsck_usage "$LF" fsck
expect_exit 16 fsck_usage_two "$LF" fsck "$img" "$img"
# a writer holds the image: fsck and fsck --repair cannot run (8), compact is locked (3)
mkfifo "$T/fifo"
"$LF" kv "$img" load <"$T/fifo" >/dev/null 2>&1 &
lpid=$!
exec 7>"$T/fifo"
sleep 0.5
expect_exit 8 fsck_locked "$LF" fsck "$img"
expect_err fsck_locked_msg "in use"
expect_exit 8 fsck_repair_locked "$LF" fsck --repair "$img"
expect_exit 3 compact_locked "$LF" compact "$img"
exec 7>&-
wait $lpid

# damage 1: the symlink's entry removed (an orphan), a key that is no
# schema key, a data page for a directory, a dentry record with a bad checksum
cp "$img" "$T/b.img"; cp "$img.manifest" "$T/b.img.manifest"
"$LF" kv "$T/b.img" del "D${ROOT}sym" &&
"$LF" kv "$T/b.img" put 'Zjunk' 'x' &&
"$LF" kv "$T/b.img" put 'B\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x05' 'page' ||
	fail fsck_damage "kv put/del failed"
expect_exit 4 fsck_detects "$LF" fsck "$T/b.img"
grep -q 'left uncorrected' "$T/.out" && pass fsck_detects_text || fail fsck_detects_text "$(tail -2 "$T/.out")"
"$LF" fsck --json "$T/b.img" >"$T/j" 2>&1
json_ok 'not d["clean"] and d["exit"] == 4 and sorted(p["kind"] for p in d["problems"]) == ["bad-key", "page-orphan", "unreachable"]' <"$T/j" &&
	pass fsck_json_problems || fail fsck_json_problems "$(head -c 600 "$T/j")"
json_ok '[p for p in d["problems"] if p["kind"] == "page-orphan"][0]["ino"] == 2 and [p for p in d["problems"] if p["kind"] == "page-orphan"][0]["page"] == 5' <"$T/j" &&
	pass fsck_json_fields || fail fsck_json_fields "$(head -c 600 "$T/j")"
expect_exit 1 fsck_repair_fixed "$LF" fsck --repair "$T/b.img"
grep -q 'clean now' "$T/.out" && pass fsck_repair_text || fail fsck_repair_text "$(tail -2 "$T/.out")"
expect_exit 0 fsck_after_repair "$LF" fsck "$T/b.img"
"$LF" fsck --json "$T/b.img" >"$T/j" 2>&1
json_ok 'd["clean"] and d["problems"] == []' <"$T/j" && pass fsck_json_after || fail fsck_json_after "$(head -c 300 "$T/j")"
expect_out fsck_files_intact "ok 26 err 0 wrong 0 lost 0 relocated 0" "$TOOL" verify "$T/b.img"
expect_exit 0 fsck_repair_clean_noop "$LF" fsck --repair "$T/b.img"

# damage 2: the store no longer opens (every index checkpoint zeroed) —
# check says so (4), --repair rebuilds it from the log (1), files intact
cp "$img" "$T/c.img"; cp "$img.manifest" "$T/c.img.manifest"
for off in $("$LF" kv dump "$T/c.img" | awk '$3 == "index" { print $1 }'); do
	dd if=/dev/zero of="$T/c.img" bs=1 seek="$off" count=48 conv=notrunc 2>/dev/null
done
expect_exit 4 fsck_unreadable "$LF" fsck "$T/c.img"
expect_err fsck_unreadable_msg "image unreadable"
"$LF" fsck --json "$T/c.img" >"$T/j" 2>/dev/null
json_ok 'd["exit"] == 4 and d["problems"][0]["kind"] == "unreadable"' <"$T/j" &&
	pass fsck_json_unreadable || fail fsck_json_unreadable "$(head -c 300 "$T/j")"
expect_exit 1 fsck_salvage "$LF" fsck --repair "$T/c.img"
grep -q 'rebuilt from' "$T/.out" && pass fsck_salvage_text || fail fsck_salvage_text "$(head -3 "$T/.out")"
expect_exit 0 fsck_salvage_clean "$LF" fsck "$T/c.img"
expect_out fsck_salvage_intact "ok 26 err 0 wrong 0 lost 0 relocated 0" "$TOOL" verify "$T/c.img"

# inside the shell: fsck runs on the session's mount
expect_exit 0 fsck_in_shell "$LF" shell --ro -c "fsck $img" "$img"
grep -q ': clean$' "$T/.out" && pass fsck_in_shell_text || fail fsck_in_shell_text "$(cat "$T/.out")"
expect_exit 8 fsck_repair_in_shell "$LF" shell -c "fsck --repair $img" "$img"

# regression (found by the campaign): the last records and the newest index
# zeroed.  The store once opened at the older checkpoint and served files'
# previous contents; now it refuses to open (4), nothing reads wrong bytes,
# and --repair rebuilds what the log still holds.
cp "$img" "$T/d.img"; cp "$img.manifest" "$T/d.img.manifest"
"$LF" kv dump "$T/d.img" >"$T/dump"
last_idx=$(awk '$3 == "index" { o = $1 } END { print o }' "$T/dump")
from=$(awk -v x="$last_idx" '$3 == "put" && $1 < x { o[n++] = $1 } END { print o[n - 4] }' "$T/dump")
dd if=/dev/zero of="$T/d.img" bs=1 seek="$from" count=$((last_idx + 48 - from)) conv=notrunc 2>/dev/null
expect_exit 4 fsck_no_rollback "$LF" fsck "$T/d.img"
"$TOOL" verify "$T/d.img" >"$T/v" 2>&1; rc=$?
[ $rc -eq 0 ] && pass fsck_no_rollback_reads || fail fsck_no_rollback_reads "exit $rc: $(grep -m3 WRONG "$T/v")"
"$LF" fsck --repair "$T/d.img" >"$T/r" 2>&1; rc=$?
if [ $rc -eq 1 ] || { [ $rc -eq 4 ] && grep -q 'records lost entirely' "$T/r"; }; then pass fsck_no_rollback_repair
else fail fsck_no_rollback_repair "exit $rc: $(tail -3 "$T/r")"; fi
expect_exit 0 fsck_no_rollback_clean "$LF" fsck "$T/d.img"
