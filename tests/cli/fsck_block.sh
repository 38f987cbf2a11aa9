# fsck --repair's salvage over a damaged zstd BLOCK (corruption campaign,
# issue 8: wrong bytes after --repair of a zstd image).  In a zstd image a
# command's batch is usually one BLOCK: when its frame is damaged, none of
# its operations can be read and their keys are unknown.  Salvage used to
# drop them silently, so a file the batch rewrote came back with its older
# contents at its path and fsck said "fixed" (exit 1).  Now: the files the
# frame still names before the damage are marked suspect (to lost+found),
# and the loss is reported (exit 4, "log records lost entirely").
# Image: /f (v1), /keep, then /f rewritten (v2); the damaged BLOCK is v2's;
# the last index is zeroed so the store does not open and salvage replays
# from the index before v2.
. "$TOP/tests/cli/lib.sh"
T=$TMPDIR
head -c 20000 /dev/urandom | base64 >"$T/v1"
head -c 20000 /dev/urandom | base64 >"$T/v2"
head -c 9000 /dev/urandom >"$T/keep"
img0=$T/b0.img
"$LF" mkfs --compress zstd "$img0" >/dev/null 2>&1 &&
"$LF" cp "$T/v1" "$img0:/f" >/dev/null 2>&1 &&
"$LF" cp "$T/keep" "$img0:/keep" >/dev/null 2>&1 &&
"$LF" cp "$T/v2" "$img0:/f" >/dev/null 2>&1 || { fail fsck_block_build "building the image failed"; exit 0; }
# the last BLOCK holding data pages (v2's: offset, stored frame bytes) and
# the last index
set -- $("$LF" kv dump "$img0" | awk '$3 == "block" { cb = $1; cs = $(NF-2) }
	$3 == "put" && / data / && /in block/ { b = cb; s = cs } $3 == "index" { x = $1 }
	END { print b, s, x }')
blk=$1; stored=$2; idx=$3
[ -n "$idx" ] && [ "$stored" -gt 100 ] 2>/dev/null || { fail fsck_block_layout "no block/index found ($*)"; exit 0; }
flip() {   # flip(IMG, OFFSET): one bit
	python3 -c "import sys
f = open(sys.argv[1], 'r+b'); f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x10]))" "$1" "$2"
}
# late: in the frame's checksum (every operation still decodes, for names);
# early: inside the frame's only zstd block (nothing decodes);
# hdr: as early, but only the last index's 40-byte record header is zeroed,
# its entries intact: salvage starts from that index (the header slot says
# where it ends), whose entries name /f's values in the damaged block: they
# are marked lost exactly, nothing older comes back and nothing else is lost
# (before: salvage started from the older index, /f came back as v1)
for where in late early hdr; do
	img=$T/b_$where.img
	cp "$img0" "$img"
	if [ $where = late ]; then flip "$img" $((blk + 16 + stored - 2)); else flip "$img" $((blk + 16 + stored / 3)); fi
	dd if=/dev/zero of="$img" bs=1 seek="$idx" count=$([ $where = hdr ] && echo 40 || echo 48) conv=notrunc 2>/dev/null
	expect_exit 4 fsck_block_unreadable_$where "$LF" fsck "$img"
	"$LF" fsck --repair "$img" >"$T/rep" 2>&1; rc=$?
	if [ $where = hdr ]; then
		[ $rc -eq 1 ] && ! grep -q 'records lost entirely' "$T/rep" && pass fsck_block_from_newest_index_$where ||
			fail fsck_block_from_newest_index_$where "exit $rc, want 1 (nothing lost entirely): $(head -4 "$T/rep" | tr '\n' ' ')"
		"$LF" cat "$img:/f" >"$T/f.out" 2>/dev/null && cmp -s "$T/f.out" "$T/v1" &&
			fail fsck_block_no_stale_$where "/f reads its older contents (v1)" || pass fsck_block_no_stale_$where
	else
		[ $rc -eq 4 ] && grep -q 'records lost entirely' "$T/rep" && pass fsck_block_loss_reported_$where ||
			fail fsck_block_loss_reported_$where "exit $rc, want 4 and records lost entirely: $(head -4 "$T/rep" | tr '\n' ' ')"
	fi
	expect_exit 0 fsck_block_clean_after_$where "$LF" fsck "$img"
	"$LF" cat "$img:/keep" 2>/dev/null | cmp -s - "$T/keep" && pass fsck_block_keep_intact_$where ||
		fail fsck_block_keep_intact_$where "/keep differs or is missing"
	if [ $where = late ]; then
		# the frame named /f's inode: it is suspect, in lost+found, not at /f
		if "$LF" cat "$img:/f" >"$T/f.out" 2>/dev/null; then
			fail fsck_block_suspect_moved_$where "/f still readable at its path ($(cmp -s "$T/f.out" "$T/v1" && echo v1))"
		elif "$LF" ls "$img:/lost+found" 2>/dev/null | grep -q '^#'; then
			pass fsck_block_suspect_moved_$where
		else
			fail fsck_block_suspect_moved_$where "/f gone but nothing in lost+found"
		fi
	fi
done
