#!/bin/sh
# Compressed blocks of zstd images through the CLI: a copied tree lands in
# BLOCK records (kv dump shows them, values "in block"), reads back
# byte-identical before and after compact, fsck is clean, and a bit flipped
# inside a block is reported as corruption (exit 4), never read as data.
. "$TOP/tests/cli/lib.sh"
src=/usr/include/linux/netfilter
[ -d "$src" ] || src=/usr/include/linux
[ -d "$src" ] || { skip kv_blocks "no $src"; exit 0; }
img=$TMPDIR/blk.lfs
ok kv_blocks_mkfs "$LF" mkfs --compress zstd "$img"
ok kv_blocks_cp_in "$LF" cp -rp "$src" "$img:/t"
ok kv_blocks_dump "$LF" kv dump "$img"
grep -q ' block .*operations, .*bytes raw' "$TMPDIR/.out" && grep -q '(in block, position' "$TMPDIR/.out" \
	&& pass kv_blocks_dump_shows_blocks || fail kv_blocks_dump_shows_blocks "$(head -5 "$TMPDIR/.out")"
ok kv_blocks_dump_json "$LF" kv dump "$img" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); b=[r for r in d if r["kind"]=="block"]; assert b and all(r["raw_bytes"] > r["stored_bytes"] for r in b); assert any("block_position" in r for r in d)' \
	"$TMPDIR/.out" && pass kv_blocks_dump_json_blocks || fail kv_blocks_dump_json_blocks "$(head -c 300 "$TMPDIR/.out")"
ok kv_blocks_fsck "$LF" fsck "$img"
rm -rf "$TMPDIR/o1" && mkdir "$TMPDIR/o1"
ok kv_blocks_cp_out "$LF" cp -rp "$img:/t" "$TMPDIR/o1/"
diff -r "$src" "$TMPDIR/o1/t" >/dev/null && pass kv_blocks_same || fail kv_blocks_same "trees differ"
ok kv_blocks_compact "$LF" compact "$img"
ok kv_blocks_fsck2 "$LF" fsck "$img"
rm -rf "$TMPDIR/o2" && mkdir "$TMPDIR/o2"
ok kv_blocks_cp_out2 "$LF" cp -rp "$img:/t" "$TMPDIR/o2/"
diff -r "$src" "$TMPDIR/o2/t" >/dev/null && pass kv_blocks_same_compacted || fail kv_blocks_same_compacted "trees differ"
# a bit flipped in the middle of the first block's frame
"$LF" kv dump "$img" >"$TMPDIR/dump" 2>/dev/null
set -- $(awk '$3 == "block" { print $1, $(NF-2); exit }' "$TMPDIR/dump")
if [ $# -eq 2 ] && [ "$2" -gt 64 ]; then
	off=$(( $1 + 16 + $2 / 2 ))
	cp "$img" "$TMPDIR/bad.lfs"
	b=$(od -An -tu1 -j "$off" -N1 "$TMPDIR/bad.lfs" | tr -d ' ')
	printf "$(printf '\\%03o' $(( b ^ 16 )))" | dd of="$TMPDIR/bad.lfs" bs=1 seek="$off" conv=notrunc 2>/dev/null
	expect_exit 4 kv_blocks_flip_fsck "$LF" fsck "$TMPDIR/bad.lfs"
	rm -rf "$TMPDIR/o3" && mkdir "$TMPDIR/o3"
	"$LF" cp -rp "$TMPDIR/bad.lfs:/t" "$TMPDIR/o3/" >/dev/null 2>"$TMPDIR/.err"
	rc=$?
	[ $rc -ne 0 ] && grep -q "offset $1" "$TMPDIR/.err" && pass kv_blocks_flip_read_fails \
		|| fail kv_blocks_flip_read_fails "exit $rc: $(head -2 "$TMPDIR/.err")"
	# whatever was copied out is right
	bad=0
	for f in $(cd "$TMPDIR/o3" && find . -type f); do
		[ -s "$TMPDIR/o3/$f" ] || continue
		cmp -s "$TMPDIR/o3/$f" "$src/${f#./t/}" || bad=$((bad + 1))
	done
	[ $bad -eq 0 ] && pass kv_blocks_flip_no_wrong_data || fail kv_blocks_flip_no_wrong_data "$bad files differ"
else
	fail kv_blocks_flip "no block in the dump"
fi
