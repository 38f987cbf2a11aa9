# fsck --repair's salvage over a record whose header damage reaches into its
# first operation (corruption campaign, seed 616500 case 6: a zeroed range
# over the end of `mkdir /a/b`'s record header and its first operation's
# header).  Salvage took intact operations after a damaged header only when
# the first one was intact: here the record was skipped whole, /a/b's entry
# with it, and the undamaged files under /a/b were cut off (lost+found).
# Now it resynchronises on the next intact operation before the next record:
# /a/b/f stays where it was.  Every index is zeroed so salvage replays all.
. "$TOP/tests/cli/lib.sh"
T=$TMPDIR
img=$T/h.img
echo hello >"$T/f"
"$LF" mkfs "$img" >/dev/null 2>&1 && "$LF" mkdir "$img:/a" && "$LF" mkdir "$img:/a/b" &&
"$LF" cp "$T/f" "$img:/a/b/f" || { fail fsck_headerless_build "building the image failed"; exit 0; }
# the record holding dentry 2/"b" (its first operation's offset - 40) and the indexes
rec=$("$LF" kv dump "$img" | awk '$3 == "put" && /dentry 2\/"b"/ { print r - 40; exit } $3 != "put" { f = 1 } $3 == "put" && f { r = $1; f = 0 }')
idxs=$("$LF" kv dump "$img" | awk '$3 == "index" { print $1 }')
[ -n "$rec" ] && [ "$rec" -gt 4096 ] 2>/dev/null || { fail fsck_headerless_layout "record not found ($rec)"; exit 0; }
dd if=/dev/zero of="$img" bs=1 seek=$((rec + 24)) count=24 conv=notrunc 2>/dev/null
for off in $idxs; do
	dd if=/dev/zero of="$img" bs=1 seek="$off" count=64 conv=notrunc 2>/dev/null
done
expect_exit 4 fsck_headerless_unreadable "$LF" fsck "$img"
"$LF" fsck --repair "$img" >"$T/rep" 2>&1; rc=$?
[ $rc -eq 1 ] || [ $rc -eq 4 ] && grep -q 'rebuilt from' "$T/rep" && pass fsck_headerless_salvaged ||
	fail fsck_headerless_salvaged "exit $rc: $(head -3 "$T/rep" | tr '\n' ' ')"
expect_exit 0 fsck_headerless_clean_after "$LF" fsck "$img"
expect_out fsck_headerless_file_in_place "hello" "$LF" cat "$img:/a/b/f"
