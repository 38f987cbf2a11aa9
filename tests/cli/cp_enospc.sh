#!/bin/sh
# A full disk while copying: into an image on a small tmpfs (ENOSPC while
# writing the image) and out of an image onto it.  Each: a clear message, a
# non-zero exit, no partial file left looking complete, and what the image
# held before still there.
. "$TOP/tests/cli/lib.sh"
W=$TMPDIR/e
mkdir -p "$W/small" && cd "$W" || exit 1
if ! mount -t tmpfs -o size=6m lfs-cp-enospc "$W/small" 2>/dev/null; then
	skip cp_enospc "cannot mount a small tmpfs here (not root?)"
	exit 0
fi
trap 'cd /; umount "$W/small" 2>/dev/null' EXIT INT TERM
img=$W/small/full.lfs
"$LF" mkfs "$img" >/dev/null 2>&1 || { fail cp_enospc_mkfs "mkfs failed"; exit 0; }
printf 'kept\n' >small.txt
dd if=/dev/urandom of=big bs=1M count=16 2>/dev/null
ok cp_enospc_before "$LF" cp small.txt "$img:/kept"

expect_exit 1 cp_enospc_in "$LF" cp big "$img:/big"
expect_err cp_enospc_in_msg "No space left on device"
# what was there before is intact, the failed copy is not there as complete
expect_out cp_enospc_kept "kept" "$LF" cp "$img:/kept" -
# the command is one transaction: the failed copy left nothing at all
if "$LF" cp "$img:/big" big.back 2>/dev/null; then
	fail cp_enospc_no_partial "/big exists after the failed copy ($(stat -c %s big.back) of 16777216 bytes)"
else
	pass cp_enospc_no_partial
fi
expect_out cp_enospc_kept_again "kept" "$LF" cp "$img:/kept" -

# out of an image onto a full host filesystem
umount "$W/small"
mount -t tmpfs -o size=6m lfs-cp-enospc "$W/small"
img2=$W/src.lfs
"$LF" mkfs "$img2" >/dev/null 2>&1
"$LF" cp big "$img2:/big" 2>/dev/null
expect_exit 1 cp_enospc_out "$LF" cp "$img2:/big" "$W/small/big"
expect_err cp_enospc_out_msg "No space left on device"
[ ! -e "$W/small/big" ] && pass cp_enospc_out_removed || fail cp_enospc_out_removed "partial file left"
