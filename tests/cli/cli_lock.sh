# Locking: one writer or many readers.  A second writer is refused at once
# with `image is in use by pid N` and exit 3; the image is unchanged; readers
# share the image with each other.
. "$TOP/tests/cli/lib.sh"
T=$TMPDIR
img=$T/img.lfs
"$LF" mkfs -q "$img" >/dev/null 2>&1 || { fail cli_lock_setup "mkfs failed"; exit 0; }
"$LF" mkdir "$img:/d" >/dev/null 2>&1

# hold IMAGE with a shell session (args: shell options) until $T/go exists
hold() {
	rm -f "$T/ready" "$T/go"
	printf 'touch "%s/ready"; while [ ! -e "%s/go" ]; do sleep 0.05; done\n' "$T" "$T" >"$T/hold.sh"
	"$LF" shell "$@" -c "!sh $T/hold.sh" "$img" >"$T/holder.out" 2>&1 &
	holder=$!
	i=0
	while [ ! -e "$T/ready" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	[ -e "$T/ready" ] || fail lock_holder "the holding shell did not start: $(cat "$T/holder.out")"
}
release() { touch "$T/go"; wait $holder; }

# a writer: a shell session
hold
cp "$img" "$T/before"
start=$(date +%s)
expect_exit 3 lock_second_writer "$LF" mkdir "$img:/x"
expect_err lock_second_writer_pid "image is in use by pid $holder"
expect_exit 3 lock_second_writer_rm "$LF" rm -r "$img:/d"
expect_exit 3 lock_mkfs_force "$LF" mkfs -f "$img"
expect_exit 3 lock_reader_vs_writer "$LF" ls "$img:/"
end=$(date +%s)
[ $((end - start)) -le 5 ] && pass lock_refused_at_once || fail lock_refused_at_once "took $((end - start)) s"
cmp -s "$img" "$T/before" && pass lock_image_unchanged || fail lock_image_unchanged "image changed"
release

# readers share: a read-only shell holds a shared lock, ls still works
hold --ro
expect_out lock_readers_share "d" "$LF" ls "$img:/"
expect_exit 3 lock_writer_vs_reader "$LF" mkdir "$img:/y"
release
ok lock_released "$LF" mkdir "$img:/y"
