# lightfs compact: reclaims dead space (files rewritten, truncated and deleted
# leave history), prints before/after sizes, keeps every file byte-identical
# and fsck clean; works inside the shell on the session's image.
. "$TOP/tests/cli/lib.sh"
T=$TMPDIR
TOOL=$TOP/build/asan/tests/corrupt_tool
[ -x "$TOOL" ] || { skip fsck_compact "corrupt_tool not built"; exit 0; }
img=$T/a.img
"$TOOL" mktree "$img" 5 40 60000 >/dev/null 2>&1 || { fail compact_mktree "cannot build the image"; exit 0; }
nfiles=$(($(wc -l <"$img.manifest") - 1))
before=$(stat -c %s "$img")
cp "$img" "$T/copy"
expect_exit 0 compact_dry_run "$LF" compact -n "$img"
grep -q "^$img: would compact $before bytes" "$T/.out" && cmp -s "$img" "$T/copy" &&
	pass compact_dry_run_unchanged || fail compact_dry_run_unchanged "$(cat "$T/.out")"
expect_exit 0 compact_runs "$LF" compact "$img"
after=$(stat -c %s "$img")
line=$(cat "$T/.out")
case $line in
"$img: $before -> $after bytes ("*"% reclaimed)") pass compact_prints_sizes ;;
*) fail compact_prints_sizes "got [$line], file $before -> $after" ;;
esac
[ "$after" -lt "$before" ] && pass compact_shrinks || fail compact_shrinks "$before -> $after"
expect_exit 0 compact_fsck_clean "$LF" fsck "$img"
expect_out compact_files_intact "ok $nfiles err 0 wrong 0 lost 0 relocated 0" "$TOOL" verify "$img"
# again: nothing left to reclaim
expect_exit 0 compact_again "$LF" compact "$img"
a2=$(stat -c %s "$img")
[ "$a2" -le "$after" ] && pass compact_idempotent || fail compact_idempotent "$after -> $a2"

# in the shell, through the session's mount
"$TOOL" mktree "$T/s.img" 6 20 30000 >/dev/null 2>&1
b=$(stat -c %s "$T/s.img")
expect_exit 0 compact_in_shell "$LF" shell -c "compact $T/s.img; fsck $T/s.img" "$T/s.img"
grep -q "^$T/s.img: $b -> " "$T/.out" && pass compact_in_shell_sizes || fail compact_in_shell_sizes "$(cat "$T/.out")"
grep -q ': clean$' "$T/.out" && pass compact_in_shell_fsck || fail compact_in_shell_fsck "$(cat "$T/.out")"
nfiles2=$(($(wc -l <"$T/s.img.manifest") - 1))
expect_out compact_in_shell_intact "ok $nfiles2 err 0 wrong 0 lost 0 relocated 0" "$TOOL" verify "$T/s.img"
expect_exit 1 compact_in_shell_ro "$LF" shell --ro -c "compact $T/s.img" "$T/s.img"

# errors
expect_exit 1 compact_missing "$LF" compact "$T/nope.img"
echo hi >"$T/text"
expect_exit 4 compact_not_image "$LF" compact "$T/text"
expect_exit 2 compact_usage "$LF" compact
