#!/bin/sh
# lightfs cp of a host tree into an image reads the host through a reader
# thread (cmd/cp_pre.c: it opens, stats, lists and reads ahead of the copy);
# copying out, the reader reads the image through its own mount.  What that
# must keep: an entry that cannot be opened, listed or read, a
# special file, or a loop through -L gives that entry's error line and exit
# 1, and everything before and after it (shallower and deeper) is copied
# whole; an entry refused at the destination (a file where a directory goes,
# -n) is skipped with everything below it and the copy stays in step; files
# of many chunks, sparse files and trees bigger than the reader's ring
# (8 MiB) come out exact.
. "$TOP/tests/cli/lib.sh"
W=$TMPDIR/w
mkdir -p "$W" && cd "$W" || exit 1
img=$W/a.lfs
"$LF" mkfs "$img" >/dev/null 2>&1 || { fail rd_mkfs "lightfs mkfs failed"; exit 0; }

# same_tree A B: the same regular files and symlinks under A and B, byte
# for byte (other types are left out)
same_tree() {
	(cd "$1" && find . -type f -o -type l | sort) >"$TMPDIR/.la"
	(cd "$2" && find . -type f -o -type l | sort) >"$TMPDIR/.lb"
	cmp -s "$TMPDIR/.la" "$TMPDIR/.lb" || { echo "names differ:"; diff "$TMPDIR/.la" "$TMPDIR/.lb" | head -5; return 1; }
	while IFS= read -r f; do
		if [ -L "$1/$f" ]; then
			[ "$(readlink "$1/$f")" = "$(readlink "$2/$f")" ] || { echo "$f: link differs"; return 1; }
		else
			cmp -s "$1/$f" "$2/$f" || { echo "$f: differs"; return 1; }
		fi
	done <"$TMPDIR/.la"
}

# ---- a tree with bad entries among good ones, at several depths
mkdir -p t/a/deep/er t/b t/c t/d
printf 1 >t/a/one; printf 2 >t/a/deep/two; printf 3 >t/a/deep/er/three
printf 4 >t/c/four; printf 5 >t/d/five; : >t/d/empty
head -c 700000 /dev/urandom >t/b/big           # several reads
mkfifo t/b/fifo                                 # not copied: a fifo
ln -s /proc/self/mem t/a/mem                    # -L: opens, reading fails
ln -s nowhere t/a/deep/dangle                   # -L: cannot be opened
ln -s .. t/c/up                                 # -L: a loop to the top
expect_exit 1 rd_errors "$LF" cp -rL t "$img:/t"
expect_err rd_err_read "t/a/mem: read: Input/output error"
expect_err rd_err_open "t/a/deep/dangle: No such file or directory"
expect_err rd_err_fifo "t/b/fifo: not copied: a fifo"
expect_err rd_err_loop "t/c/up: directory loop"
n=$(grep -c . "$TMPDIR/.err")
[ "$n" = 4 ] && pass rd_err_lines || fail rd_err_lines "$n error lines: $(cat "$TMPDIR/.err")"
rm -rf o && "$LF" cp -r "$img:/t" o 2>/dev/null
# what is there: every good file, whole; nothing of the bad entries
rm -rf good && cp -a t good && rm -f good/a/mem good/a/deep/dangle good/b/fifo good/c/up
same_tree good o >"$TMPDIR/.why" && pass rd_rest_copied || fail rd_rest_copied "$(head -3 "$TMPDIR/.why")"
[ ! -e o/a/mem ] && [ ! -e o/a/deep/dangle ] && [ ! -e o/b/fifo ] && [ ! -e o/c/up ] &&
	pass rd_bad_absent || fail rd_bad_absent "$(ls -R o | head -20)"
ok rd_fsck "$LF" fsck "$img"

# without -L the symlinks are copied as they are: only the fifo fails
expect_exit 1 rd_nolink "$LF" cp -r t "$img:/n"
n=$(grep -c . "$TMPDIR/.err")
[ "$n" = 1 ] && grep -q 'fifo' "$TMPDIR/.err" && pass rd_nolink_one_error || fail rd_nolink_one_error "$(cat "$TMPDIR/.err")"
rm -rf on && "$LF" cp -r "$img:/n" on 2>/dev/null
same_tree t on >"$TMPDIR/.why" && pass rd_nolink_same || fail rd_nolink_same "$(head -3 "$TMPDIR/.why")"

# ---- a file that cannot be opened (permission) and a directory that cannot
# be listed, in the middle of a tree (as root: without the DAC capabilities)
mkdir -p u/a u/locked/in u/z && printf a >u/a/x && printf s >u/secret && printf z >u/z/y &&
	printf i >u/locked/in/f && chmod 000 u/secret && chmod 000 u/locked
as_user=""
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null 2>&1 &&
		setpriv --bounding-set=-dac_override,-dac_read_search true 2>/dev/null &&
		as_user="setpriv --bounding-set=-dac_override,-dac_read_search"
fi
if [ "$(id -u)" != 0 ] || [ -n "$as_user" ]; then
	expect_exit 1 rd_perm $as_user "$LF" cp -r u "$img:/u"
	expect_err rd_perm_file "u/secret: Permission denied"
	expect_err rd_perm_dir "u/locked: Permission denied"
	rm -rf ou && "$LF" cp -r "$img:/u" ou 2>/dev/null
	[ "$(cat ou/a/x ou/z/y 2>&1)" = az ] && [ ! -e ou/secret ] && [ ! -e ou/locked/in ] &&
		pass rd_perm_rest || fail rd_perm_rest "$(ls -R ou 2>&1 | head)"
else
	skip rd_perm "root, and setpriv cannot drop the DAC capabilities: permissions are not enforced"
fi
chmod 700 u/secret u/locked

# ---- refused at the destination: skipped with all below, the rest in step
mkdir -p s/m/deep s/n && printf 1 >s/m/deep/f && head -c 300000 /dev/urandom >s/m/g &&
	printf 2 >s/n/h && printf 3 >s/zz
"$LF" mkdir "$img:/s" && printf x | "$LF" cp - "$img:/s/m"     # a file where s/m goes
expect_exit 1 rd_dst_refused "$LF" cp -r s "$img:/"
expect_err rd_dst_refused_msg "exists and is not a directory"
rm -rf os && "$LF" cp -r "$img:/s" os 2>/dev/null
[ "$(cat os/n/h os/zz os/m 2>&1)" = 23x ] && pass rd_dst_rest || fail rd_dst_rest "$(ls -R os | head)"
# -n: existing files kept, their data skipped, the new ones copied
"$LF" cp - "$img:/s/n/h" </dev/null            # h exists (empty) in the image
printf new >s/n/new
ok rd_noclobber "$LF" cp -rn s/n "$img:/s"
[ "$("$LF" cat "$img:/s/n/h" 2>&1)" = "" ] && [ "$("$LF" cat "$img:/s/n/new" 2>&1)" = new ] &&
	pass rd_noclobber_kept || fail rd_noclobber_kept "h=[$("$LF" cat "$img:/s/n/h" 2>&1)]"

# ---- sparse files and hard links through the reader
mkdir -p sp && truncate -s 20M sp/x
printf head | dd of=sp/x conv=notrunc 2>/dev/null
printf tail | dd of=sp/x bs=1 seek=20971516 conv=notrunc 2>/dev/null
ln sp/x sp/x2
ok rd_sparse "$LF" cp -r sp "$img:/sp"
rm -rf osp && "$LF" cp -r "$img:/sp" osp
cmp -s sp/x osp/x && [ "$(stat -c %b osp/x)" -lt 1024 ] && [ "$(stat -c %i osp/x)" = "$(stat -c %i osp/x2)" ] &&
	pass rd_sparse_same || fail rd_sparse_same "$(stat -c '%n %s %b %i' osp/x osp/x2)"

# ---- more than the ring: many files and a large one, several times over
mkdir -p r && i=0
while [ $i -lt 40 ]; do
	mkdir -p r/d$i && head -c $((i * 9000 + 1)) /dev/urandom >r/d$i/f && i=$((i + 1))
done
head -c $((20 * 1048576 + 12345)) /dev/urandom >r/large
# around the reader's 256 KiB read size (a read of size + 1 sees the end)
for n in 262143 262144 262145 524288 1; do head -c $n /dev/urandom >r/edge$n; done
ok rd_ring "$LF" cp -r r "$img:/r"
rm -rf or && "$LF" cp -r "$img:/r" or
same_tree r or >"$TMPDIR/.why" && pass rd_ring_same || fail rd_ring_same "$(head -3 "$TMPDIR/.why")"
ok rd_fsck_end "$LF" fsck "$img"

# ---- a large file passed as mapped pages (1 MiB and more) that shrinks
# while copied: SIGBUS is caught, the file's error line, no partial copy
head -c 1048576 /dev/urandom >r1m && ok rd_map_1m "$LF" cp r1m "$img:/r1m" &&
	"$LF" cat "$img:/r1m" | cmp -s - r1m && pass rd_map_1m_same || fail rd_map_1m_same "differs"
head -c $((192 * 1048576)) /dev/zero >shrink
"$LF" mkfs "$W/sh.lfs" >/dev/null 2>&1
"$LF" cp --no-progress shrink "$W/sh.lfs:/f" >"$TMPDIR/.out" 2>"$TMPDIR/.err" &
cpid=$!
sleep 0.05; truncate -s 4096 shrink
wait $cpid; rc=$?
if [ $rc = 0 ]; then
	skip rd_map_shrink "the copy ended before the truncate"
else
	[ $rc = 1 ] && grep -qF "shrink: read: the file shrank while it was copied" "$TMPDIR/.err" && pass rd_map_shrink ||
		fail rd_map_shrink "exit $rc: $(head -2 "$TMPDIR/.err")"
	"$LF" stat "$W/sh.lfs:/f" >/dev/null 2>&1 && fail rd_map_shrink_nofile "a partial copy" || pass rd_map_shrink_nofile
	ok rd_map_shrink_fsck "$LF" fsck "$W/sh.lfs"
fi
rm -f shrink r1m

# a SIGBUS sent from outside once the mapped-pages handler is in place (a
# large file copied first) is not swallowed by it: the copy ends (before,
# it went on and exited 0).  cp is held on its -v lines into a fifo
# nobody reads (after the first line, read to know the large file is done)
head -c $((2 * 1048576)) /dev/urandom >bus1 && mkdir -p busd &&
	long=$(printf '%0200d' 0) && i=0 &&
	while [ $i -lt 600 ]; do : >"busd/$i$long"; i=$((i + 1)); done
"$LF" mkfs "$W/bus.lfs" >/dev/null 2>&1
rm -f "$W/bus.fifo" && mkfifo "$W/bus.fifo" && exec 3<>"$W/bus.fifo"
rm -f "$W/bus.pid" "$W/bus.rc" "$W/bus.read"
( "$LF" cp -rv --no-progress bus1 busd "$W/bus.lfs:/" >"$W/bus.fifo" 2>"$TMPDIR/.err" &
  echo $! >"$W/bus.pid"; wait $!; echo $? >"$W/bus.rc"
  # should cp end before its first line, a newline ends the read (no hang)
  [ -e "$W/bus.read" ] || echo >&3 ) >/dev/null 2>&1 &
spid=$!
IFS= read -r first <&3
: >"$W/bus.read"
while [ ! -s "$W/bus.pid" ]; do sleep 0.05; done
kill -BUS "$(cat "$W/bus.pid")" 2>/dev/null
sleep 0.2
cat <&3 >/dev/null &
dpid=$!
wait $spid
rc=$(cat "$W/bus.rc")
exec 3<&-
kill $dpid 2>/dev/null; wait $dpid 2>/dev/null
case "$first" in *bus1*) [ $rc != 0 ] && pass rd_map_sigbus_sent ||
	fail rd_map_sigbus_sent "exit $rc: a SIGBUS sent by kill was swallowed" ;;
*) fail rd_map_sigbus_sent "first -v line: $first" ;;
esac
rm -rf bus1 busd "$W/bus.fifo" "$W/bus.read" "$W/bus.pid" "$W/bus.rc"

# ---- out: the image read by the reader thread
# a damaged page in one file: that file's error line (exit 4, the image is
# corrupt), no partial copy of it, the others whole
mkdir -p ct/d && printf 'one\n' >ct/a && printf 'three\n' >ct/d/c &&
	i=0 && while [ $i -lt 500 ]; do printf ZQXJMARKER; i=$((i + 1)); done >ct/d/b
"$LF" mkfs "$W/c.lfs" >/dev/null 2>&1 && "$LF" cp -r ct "$W/c.lfs:/ct"
off=$(grep -boa ZQXJMARKER "$W/c.lfs" | head -1 | cut -d: -f1)
if [ -n "$off" ]; then
	printf Y | dd of="$W/c.lfs" bs=1 seek=$((off + 100)) conv=notrunc 2>/dev/null
	rm -rf oc
	expect_exit 4 rd_out_corrupt "$LF" cp -r "$W/c.lfs:/ct" oc
	expect_err rd_out_corrupt_msg "/ct/d/b: read: image is corrupt"
	[ "$(cat oc/a oc/d/c 2>&1)" = "one
three" ] && [ ! -e oc/d/b ] && pass rd_out_corrupt_rest || fail rd_out_corrupt_rest "$(ls -R oc 2>&1 | head)"
else
	fail rd_out_corrupt "the file's bytes were not found in the image"
fi
# refused at the host destination (a file where a directory goes): that
# subtree skipped, the rest in step
rm -rf os2 && mkdir -p os2/s && printf keep >os2/s/n    # the image's /s/n is a directory
expect_exit 1 rd_out_dst_refused "$LF" cp -r "$img:/s" os2
expect_err rd_out_dst_refused_msg "exists and is not a directory"
[ "$(cat os2/s/n os2/s/m os2/s/zz 2>&1)" = keepx3 ] && pass rd_out_dst_rest ||
	fail rd_out_dst_rest "$(ls -R os2 | head)"
# a tree deeper than any image path can be (2,100 levels of "a": the image
# path passes PATH_MAX near level 2,048): one name-too-long error, exit 1,
# everything above it copied, fsck clean — and no stack overflow on the
# way down (the ASan build used to overflow here)
rm -rf dp && python3 -c 'import os
os.mkdir("dp"); os.chdir("dp")
for _ in range(2100):
    os.mkdir("a"); os.chdir("a")' && "$LF" mkfs "$W/dp.lfs" >/dev/null 2>&1
expect_exit 1 rd_deep_tree "$LF" cp -r dp/a "$W/dp.lfs:/a"
expect_err rd_deep_tree_msg "File name too long"
"$LF" fsck "$W/dp.lfs" >/dev/null 2>&1 && pass rd_deep_tree_fsck || fail rd_deep_tree_fsck "fsck: exit $?"
