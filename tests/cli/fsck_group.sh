# fsck --repair's salvage (the store does not open: every index checkpoint
# zeroed) follows the group rule of lfs_kv_open: a command's GROUP batches
# count only at its COMMIT.  Image: `cp -r` of tree A (committed group), then
# `cp -r` of tree B cut just before its COMMIT record (as if killed there).
# After the repair A's files are there and identical, none of B's exist.
# Run for a plain and a zstd image (zstd: the group's values in BLOCKs), and
# again with the header of B's first batch zeroed (suffix _hdr): salvage
# cannot tell from it that the batch was a group's, and used to apply it as
# a plain batch, making part of the uncommitted B visible.
. "$TOP/tests/cli/lib.sh"
T=$TMPDIR
mkdir -p "$T/A/sub" "$T/B/sub"
for i in 1 2 3 4 5 6; do
	head -c $((i * 3000)) /dev/urandom >"$T/A/a$i"
	head -c $((i * 2000)) /dev/urandom >"$T/A/sub/s$i"
	head -c $((i * 2500)) /dev/urandom >"$T/B/b$i"
	head -c $((i * 1500)) /dev/urandom >"$T/B/sub/t$i"
done
# log records of an image (headers: 40 bytes, 8-aligned): `last_commit IMG`
# prints the last COMMIT's offset, `tail_group IMG` how many GROUP batches
# follow the last COMMIT, `first_tail IMG` the offset of the first of them
logscan() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
d = open(sys.argv[2], 'rb').read()
pos, last, after = 4096, -1, 0
while pos + 40 <= len(d):
	magic, typ, flags, rsv, ln, nops, seq, synced, pcrc, hcrc = struct.unpack_from('<IBBHIIQQII', d, pos)
	if magic != 0x5256484c:
		break
	if typ == 4:
		last, after, first = pos, 0, -1
	elif typ == 1 and flags & 1:
		if after == 0:
			first = pos
		after += 1
	pos += (40 + ln + 7) & ~7
print({'commit': last, 'group': after, 'first': first}[sys.argv[1]])
EOF
}
last_commit() { logscan commit "$1"; }
tail_group() { logscan group "$1"; }
first_tail() { logscan first "$1"; }
for case in none zstd none_hdr zstd_hdr; do
	comp=${case%_hdr}
	hdr=0; [ "$case" = "$comp" ] || hdr=1
	img=$T/g_$case.img
	"$LF" mkfs --compress $comp "$img" >/dev/null 2>&1 || { fail fsck_group_mkfs_$comp "mkfs failed"; continue; }
	"$LF" cp -r "$T/A" "$img:/A" >/dev/null 2>&1 || { fail fsck_group_cp_$comp "cp A failed"; continue; }
	head -c 4096 "$img" >"$T/hdr_$comp"   # the header slots (a group never writes them)
	"$LF" cp -r "$T/B" "$img:/B" >/dev/null 2>&1 || { fail fsck_group_cp_$comp "cp B failed"; continue; }
	c2=$(last_commit "$img")
	[ "$c2" -gt 4096 ] 2>/dev/null || { fail fsck_group_commit_$comp "no COMMIT record found ($c2)"; continue; }
	# cut there, header slots as before `cp B`: the image a kill just before
	# B's COMMIT leaves (B's GROUP batches in the log, the slots untouched)
	truncate -s "$c2" "$img"
	dd if="$T/hdr_$comp" of="$img" conv=notrunc 2>/dev/null
	n=$(tail_group "$img")
	[ "$n" -ge 1 ] 2>/dev/null && pass fsck_group_cut_has_b_$comp || fail fsck_group_cut_has_b_$comp "no GROUP batch after the last COMMIT ($n)"
	if [ $hdr = 1 ]; then
		f=$(first_tail "$img")
		dd if=/dev/zero of="$img" bs=1 seek="$f" count=40 conv=notrunc 2>/dev/null
		comp=$case
	fi
	# normal recovery ignores the cut group: B absent
	expect_exit 1 fsck_group_open_ignores_$comp "$LF" ls "$img:/B"
	# every index checkpoint zeroed: the store no longer opens, salvage runs
	# (_hdr: both header slots zeroed instead, so that salvage starts from
	# the newest index and meets B's batch with the damaged header first)
	if [ $hdr = 0 ]; then
		for off in $("$LF" kv dump "$img" 2>/dev/null | awk '$3 == "index" { print $1 }'); do
			dd if=/dev/zero of="$img" bs=1 seek="$off" count=48 conv=notrunc 2>/dev/null
		done
	else
		dd if=/dev/zero of="$img" bs=4096 count=1 conv=notrunc 2>/dev/null
	fi
	expect_exit 4 fsck_group_unreadable_$comp "$LF" fsck "$img"
	"$LF" fsck --repair "$img" >"$T/rep" 2>&1; rc=$?
	[ $rc -eq 1 ] && pass fsck_group_repair_fixed_$comp || fail fsck_group_repair_fixed_$comp "exit $rc, want 1: $(head -3 "$T/rep")"
	grep -q 'rebuilt from' "$T/rep" && pass fsck_group_salvaged_$comp || fail fsck_group_salvaged_$comp "$(head -3 "$T/rep")"
	grep -q 'records of a command never committed ignored' "$T/rep" && pass fsck_group_says_ignored_$comp ||
		fail fsck_group_says_ignored_$comp "$(head -3 "$T/rep")"
	expect_exit 0 fsck_group_clean_after_$comp "$LF" fsck "$img"
	if "$LF" ls "$img:/B" >"$T/.out" 2>&1 || "$LF" ls "$img:/" | grep -qx B; then
		fail fsck_group_uncommitted_absent_$comp "files of the unterminated group are visible: $(head -c 200 "$T/.out")"
	else
		pass fsck_group_uncommitted_absent_$comp
	fi
	rm -rf "$T/out_$comp"
	if "$LF" cp -r "$img:/A" "$T/out_$comp" 2>"$T/.err" && diff -r "$T/A" "$T/out_$comp" >/dev/null; then
		pass fsck_group_committed_intact_$comp
	else
		fail fsck_group_committed_intact_$comp "$(head -c 300 "$T/.err")"
	fi
done
# A committed group whose COMMIT record's header is damaged (one bit flipped,
# or the 40 header bytes zeroed), replayed by salvage (index checkpoints
# zeroed): the flipped bit is corrected by the header CRC, the zeroed header
# recognised by its payload (the group's first batch) and the record after
# it; B is applied, not dropped.  (Before: the group was dropped, B lost.)
for dmg in flip zero; do
	img=$T/c_$dmg.img
	"$LF" mkfs "$img" >/dev/null 2>&1 && "$LF" cp -r "$T/A" "$img:/A" >/dev/null 2>&1 &&
	"$LF" cp -r "$T/B" "$img:/B" >/dev/null 2>&1 || { fail fsck_group_commit_build_$dmg "building failed"; continue; }
	c2=$(last_commit "$img")
	idxs=$("$LF" kv dump "$img" 2>/dev/null | awk '$3 == "index" { print $1 }')
	if [ $dmg = flip ]; then
		python3 -c "import sys
f = open(sys.argv[1], 'r+b'); f.seek(int(sys.argv[2]) + 17); b = f.read(1); f.seek(int(sys.argv[2]) + 17); f.write(bytes([b[0] ^ 4]))" "$img" "$c2"
	else
		dd if=/dev/zero of="$img" bs=1 seek="$c2" count=40 conv=notrunc 2>/dev/null
	fi
	for off in $idxs; do
		dd if=/dev/zero of="$img" bs=1 seek="$off" count=48 conv=notrunc 2>/dev/null
	done
	"$LF" fsck --repair "$img" >"$T/rep" 2>&1; rc=$?
	# (exit 4 allowed: the oldest index, zeroed too, is not one the header
	# slots name, so salvage cannot tell it lost nothing but a checkpoint)
	[ $rc -eq 1 ] || [ $rc -eq 4 ] && grep -q 'rebuilt from' "$T/rep" && pass fsck_group_commit_repaired_$dmg ||
		fail fsck_group_commit_repaired_$dmg "exit $rc, want 1 or 4 (salvaged): $(head -3 "$T/rep" | tr '\n' ' ')"
	for t in A B; do
		rm -rf "$T/out_c"
		if "$LF" cp -r "$img:/$t" "$T/out_c" 2>"$T/.err" && diff -r "$T/$t" "$T/out_c" >/dev/null; then
			pass fsck_group_commit_${t}_intact_$dmg
		else
			fail fsck_group_commit_${t}_intact_$dmg "$(head -c 300 "$T/.err")"
		fi
	done
done
# A group cut before its COMMIT with a torn record after it (bytes of an
# unfinished write at the very end), salvaged: the torn end is not damage
# inside the group, so the files the uncommitted group rewrote keep their
# committed contents in place (before: marked suspect, moved to lost+found).
img=$T/torn.img
if "$LF" mkfs "$img" >/dev/null 2>&1 && "$LF" cp -r "$T/A" "$img:/A" >/dev/null 2>&1 &&
   head -c 4096 "$img" >"$T/hdr_torn" && "$LF" cp "$T/B/b6" "$img:/A/a1" >/dev/null 2>&1; then
	c2=$(last_commit "$img")
	idxs=$("$LF" kv dump "$img" 2>/dev/null | awk -v c="$c2" '$3 == "index" && $1 < c { print $1 }')
	# cut before the COMMIT, header slots as before the rewrite (a kill there)
	truncate -s "$c2" "$img"
	dd if="$T/hdr_torn" of="$img" conv=notrunc 2>/dev/null
	head -c 200 /dev/urandom >>"$img"
	for off in $idxs; do
		dd if=/dev/zero of="$img" bs=1 seek="$off" count=64 conv=notrunc 2>/dev/null
	done
	"$LF" fsck --repair "$img" >"$T/rep" 2>&1; rc=$?
	grep -q 'rebuilt from' "$T/rep" && pass fsck_group_torn_salvaged || fail fsck_group_torn_salvaged "exit $rc: $(head -3 "$T/rep" | tr '\n' ' ')"
	"$LF" cat "$img:/A/a1" 2>/dev/null | cmp -s - "$T/A/a1" && pass fsck_group_torn_file_in_place ||
		fail fsck_group_torn_file_in_place "/A/a1 is not its committed contents at its path: $(grep -v '^nlink\|^size' "$T/rep" | head -4 | tr '\n' ' ')"
else
	fail fsck_group_torn_build "building failed"
fi
# A committed group whose COMMIT record is wholly gone and the index after it
# damaged too (corruption campaign, seed 746873 case 18: an 8 KiB zeroed
# range over the end of `cp -r`'s batch, its COMMIT and the index): the
# header slot names that index, after the group, so the group was committed
# (no index is written while a group holds writes, and a writer overwrites
# an unterminated group): it is applied, its files marked suspect, the loss
# reported.  Before: dropped as uncommitted, every file of the copy lost.
img=$T/gone.img
if "$LF" mkfs "$img" >/dev/null 2>&1 && "$LF" cp -r "$T/A" "$img:/A" >/dev/null 2>&1; then
	c2=$(last_commit "$img")
	idxs=$("$LF" kv dump "$img" 2>/dev/null | awk '$3 == "index" { print $1 }')
	dd if=/dev/zero of="$img" bs=1 seek="$c2" count=48 conv=notrunc 2>/dev/null
	for off in $idxs; do
		dd if=/dev/zero of="$img" bs=1 seek="$off" count=64 conv=notrunc 2>/dev/null
	done
	"$LF" fsck --repair "$img" >"$T/rep" 2>&1; rc=$?
	[ $rc -eq 4 ] && grep -q 'records lost entirely' "$T/rep" && pass fsck_group_gone_reported ||
		fail fsck_group_gone_reported "exit $rc, want 4 (records lost entirely): $(head -3 "$T/rep" | tr '\n' ' ')"
	expect_exit 0 fsck_group_gone_clean_after "$LF" fsck "$img"
	rm -rf "$T/out_g"
	"$LF" cp -r "$img:/" "$T/out_g" >/dev/null 2>&1
	missing=
	for f in $(cd "$T/A" && find . -type f); do
		found=0
		for g in $(find "$T/out_g" -type f); do cmp -s "$T/A/$f" "$g" && found=1 && break; done
		[ $found = 1 ] || missing="$missing $f"
	done
	[ -z "$missing" ] && pass fsck_group_gone_files_kept || fail fsck_group_gone_files_kept "not found intact anywhere:$missing"
else
	fail fsck_group_gone_build "building failed"
fi
