# Bad input beyond the golden tests: damaged data pages (exit 4, the good
# files still readable), a truncated log, a full disk (ENOSPC while the
# image is written: a clear message, a non-zero exit, an image that still
# opens with what it held before), usage errors of every image command.
. "$TOP/tests/cli/lib.sh"
T=$TMPDIR
cd "$T" || exit 1
"$TOOLS/shell_mkimg" img.lfs 1 >/dev/null 2>&1 || { fail cli_errors_setup "shell_mkimg failed"; exit 0; }

# a damaged data page: cat of that file fails with exit 4; others still work
cp img.lfs bad.lfs
size=$(wc -c <bad.lfs)
python3 - bad.lfs $((size / 3)) <<'PY'
import sys
f = open(sys.argv[1], 'r+b'); f.seek(int(sys.argv[2])); f.write(b'\xff' * 64); f.close()
PY
expect_exit 4 errors_corrupt_page_cat "$LF" cat bad.lfs:/big
expect_err errors_corrupt_page_msg "corrupt"
expect_out errors_corrupt_other_file "root:x:0:0:root:/root:/bin/sh
user:x:1000:1000::/home/user:/bin/sh" "$LF" cat bad.lfs:/etc/passwd

# a log cut in the middle (a crash while appending): the image opens
head -c $((size / 2)) img.lfs >cut.lfs
"$LF" ls cut.lfs:/ >/dev/null 2>"$T/e"; rc=$?
if [ $rc -eq 0 ] || [ $rc -eq 4 ]; then pass errors_cut_log_opens_or_corrupt; else
	fail errors_cut_log_opens_or_corrupt "exit $rc: $(cat "$T/e")"; fi
# a header shorter than its 4 KiB: corrupt (4), never a crash
head -c 100 img.lfs >short.lfs
expect_exit 4 errors_short_header "$LF" info short.lfs
# an empty file is not an image
: >empty.lfs
expect_exit 1 errors_empty_file_prefix "$LF" ls empty.lfs:/
expect_err errors_empty_file_msg "is not a lightfs image"

# usage errors: every image command exits 2 on an unknown option, with its synopsis
bad=""
for c in mkfs info ls stat cat tree mkdir rm mv ln truncate touch; do
	"$LF" "$c" --no-such-option img.lfs:/ >/dev/null 2>"$T/e"; rc=$?
	[ $rc -eq 2 ] && grep -q "usage: lightfs $c" "$T/e" || bad="$bad $c:$rc"
done
[ -z "$bad" ] && pass errors_usage_all || fail errors_usage_all "not exit 2 with a synopsis:$bad"
# --help of every image command exits 0 and shows the exit statuses
bad=""
for c in mkfs info ls stat cat tree mkdir rm mv ln truncate touch; do
	"$LF" "$c" --help >"$T/o" 2>&1 && grep -q "3 image locked, 4 image corrupt" "$T/o" || bad="$bad $c"
done
[ -z "$bad" ] && pass errors_help_all || fail errors_help_all "$bad"

# a full disk: a small tmpfs (needs root and mount; skipped otherwise)
mkdir -p mnt
trap 'umount "$T/mnt" 2>/dev/null' EXIT
if mount -t tmpfs -o size=256k tmpfs mnt 2>/dev/null; then
	"$LF" mkfs -q mnt/i.lfs && "$LF" mkdir mnt/i.lfs:/keep
	avail=$(df -B1 --output=avail mnt | tail -1)
	head -c $((avail - 8192)) /dev/zero >mnt/filler 2>/dev/null
	set --
	i=0
	while [ $i -lt 400 ]; do i=$((i + 1)); set -- "$@" "mnt/i.lfs:/a_directory_with_a_long_name_$i"; done
	"$LF" mkdir "$@" >/dev/null 2>"$T/e"; rc=$?
	if [ $rc -ne 0 ] && grep -q "No space left on device" "$T/e"; then pass errors_enospc_reported; else
		fail errors_enospc_reported "exit $rc: $(head -c 300 "$T/e")"; fi
	rm -f mnt/filler
	"$LF" ls mnt/i.lfs:/keep >/dev/null 2>"$T/e" && pass errors_enospc_image_opens ||
		fail errors_enospc_image_opens "$(head -c 300 "$T/e")"
	umount mnt
else
	skip errors_enospc "cannot mount a tmpfs here"
fi
