#!/bin/sh
# lightfs cp / put / get: every direction, stdin/stdout, sparse files, hard
# links, symlinks, empty files, odd names, -n / -f / -p / -v, the errors
# (missing source, directory without -r, directory where a file is wanted,
# several sources to a non-directory) and the progress bar (on a terminal
# only).
. "$TOP/tests/cli/lib.sh"
W=$TMPDIR/w
mkdir -p "$W" && cd "$W" || exit 1
img=$W/a.lfs
"$LF" mkfs "$img" >/dev/null 2>&1 || { fail cp_mkfs "lightfs mkfs failed"; exit 0; }

# ---- one file: in, out, within, stdin, stdout
printf 'hello\n' >f
ok cp_in "$LF" cp f "$img:/f"
expect_out cp_stdout "hello" "$LF" cp "$img:/f" -
ok cp_out "$LF" cp "$img:/f" f.out
cmp -s f f.out && pass cp_out_same || fail cp_out_same "differs"
ok cp_within "$LF" cp "$img:/f" "$img:/g"
expect_out cp_within_same "hello" "$LF" cp "$img:/g" -
printf 'from stdin\n' | "$LF" cp - "$img:/s" && pass cp_stdin || fail cp_stdin "exit $?"
expect_out cp_stdin_same "from stdin" "$LF" cp "$img:/s" -
expect_out cp_into_dir "hello" sh -c "'$LF' cp -r f '$img:/' && '$LF' cp '$img:/f' -"
# several sources into a directory
mkdir -p multi && printf 1 >m1 && printf 2 >m2
ok cp_multi_in sh -c "'$LF' cp -r multi '$img:/' && '$LF' cp m1 m2 '$img:/multi'"
ok cp_multi_out sh -c "mkdir -p mo && '$LF' cp '$img:/multi/m1' '$img:/multi/m2' mo"
[ "$(cat mo/m1 mo/m2)" = 12 ] && pass cp_multi_same || fail cp_multi_same "$(cat mo/m1 mo/m2)"

# ---- errors: clear message, non-zero exit
expect_exit 1 cp_missing "$LF" cp nonexistent "$img:/x"
expect_err cp_missing_msg "nonexistent: No such file or directory"
expect_exit 1 cp_missing_img "$LF" cp "$img:/nonexistent" x
expect_err cp_missing_img_msg "/nonexistent: No such file or directory"
mkdir -p dir/sub && printf z >dir/sub/z
expect_exit 1 cp_dir_no_r "$LF" cp dir "$img:/dir"
expect_err cp_dir_no_r_msg "is a directory"
"$LF" cp -r dir "$img:/dir" 2>/dev/null
printf x >sub
expect_exit 1 cp_file_over_dir "$LF" cp sub "$img:/dir"
expect_err cp_file_over_dir_msg "cannot overwrite a directory with a file"
expect_exit 1 cp_file_to_slash "$LF" cp f "$img:/nodir/"
expect_exit 1 cp_file_onto_file_slash "$LF" cp f "$img:/dir/sub/z/"
expect_exit 1 cp_dir_to_stdout "$LF" cp -r "$img:/dir" -
expect_exit 1 cp_multi_nodir "$LF" cp m1 m2 "$img:/f"
expect_err cp_multi_nodir_msg "not a directory"
mkdir -p hostdir/f
expect_exit 1 cp_file_onto_hostdir "$LF" cp "$img:/f" hostdir
expect_err cp_file_onto_hostdir_msg "hostdir/f: cannot overwrite a directory"
expect_exit 2 cp_host_host "$LF" cp f f2
expect_exit 2 cp_usage "$LF" cp f
expect_exit 2 cp_bad_opt "$LF" cp --bogus f "$img:/f"
expect_exit 1 cp_no_image "$LF" cp f nosuchimage:/x
[ -e "nosuchimage:" ] || [ -e "nosuchimage:/x" ] && fail cp_no_image_nowrite "wrote a host file" || pass cp_no_image_nowrite
ok cp_same_dir_merge "$LF" cp -r dir "$img:/"
expect_exit 1 cp_into_itself "$LF" cp -r "$img:/dir" "$img:/dir/sub"
expect_err cp_into_itself_msg "into itself"
expect_exit 1 cp_same_file "$LF" cp "$img:/f" "$img:/f"
expect_out cp_same_file_kept "hello" "$LF" cp "$img:/f" -

# ---- sparse files keep their holes, both ways
rm -f sp && truncate -s 64M sp && printf 'head' | dd of=sp conv=notrunc 2>/dev/null &&
	printf 'middle' | dd of=sp bs=1 seek=33554432 conv=notrunc 2>/dev/null &&
	printf 'tail' | dd of=sp bs=1 seek=67108860 conv=notrunc 2>/dev/null
ok cp_sparse_in "$LF" cp sp "$img:/sp"
ok cp_sparse_out "$LF" cp "$img:/sp" sp.out
cmp -s sp sp.out && pass cp_sparse_same || fail cp_sparse_same "content differs"
blk=$(stat -c %b sp.out)
[ "$blk" -lt 1024 ] && pass cp_sparse_holes_out || fail cp_sparse_holes_out "$blk blocks allocated for 12 data bytes"
truncate -s 10M hole_end && printf x | dd of=hole_end conv=notrunc 2>/dev/null
ok cp_sparse_tail_hole sh -c "'$LF' cp hole_end '$img:/he' && '$LF' cp '$img:/he' he.out && cmp hole_end he.out"

# ---- hard links stay links within one copy; symlinks stored, not followed
mkdir -p t/a t/b && printf data >t/a/one && ln t/a/one t/b/two && ln t/a/one t/three
ln -s ../a/one t/b/rel && ln -s /etc/passwd t/abs && ln -s dangling-target t/dangle
: >t/empty
printf sp >"t/with space" && printf nl >"t/new
line" && printf u >"t/ütf-8 ✓"
ok cp_tree_in "$LF" cp -r t "$img:/t"
ok cp_tree_out "$LF" cp -r "$img:/t" t.out
diff -r --no-dereference t t.out >/dev/null 2>&1 && pass cp_tree_same || fail cp_tree_same "$(diff -r --no-dereference t t.out 2>&1 | head -3)"
[ "$(stat -c %i t.out/a/one)" = "$(stat -c %i t.out/b/two)" ] && [ "$(stat -c %h t.out/a/one)" = 3 ] &&
	pass cp_hardlinks_kept || fail cp_hardlinks_kept "$(stat -c '%i %h %n' t.out/a/one t.out/b/two t.out/three)"
[ "$(readlink t.out/abs)" = /etc/passwd ] && [ "$(readlink t.out/dangle)" = dangling-target ] &&
	pass cp_symlinks_kept || fail cp_symlinks_kept "$(readlink t.out/abs) $(readlink t.out/dangle)"
[ -f t.out/empty ] && [ ! -s t.out/empty ] && pass cp_empty_file || fail cp_empty_file "missing or not empty"
# within the image the links are links too
"$LF" cp -r "$img:/t" "$img:/t2" && "$LF" cp -r "$img:/t2" t2.out &&
	[ "$(stat -c %i t2.out/a/one)" = "$(stat -c %i t2.out/three)" ] &&
	pass cp_hardlinks_within || fail cp_hardlinks_within "not linked"
# -L copies what a symlink points to
ok cp_deref "$LF" cp -L "$img:/t/b/rel" deref.out
[ -f deref.out ] && [ ! -L deref.out ] && [ "$(cat deref.out)" = data ] && pass cp_deref_file || fail cp_deref_file "not the target's data"

# ---- -p: mode, times (owner when root)
mkdir -p pm && printf m >pm/x && chmod 0751 pm/x && chmod 0705 pm && touch -d '2001-02-03 04:05:06.123456789' pm/x pm
ok cp_p_in "$LF" cp -rp pm "$img:/pm"
ok cp_p_out "$LF" cp -rp "$img:/pm" pm.out
[ "$(stat -c '%a %y' pm/x pm)" = "$(stat -c '%a %y' pm.out/x pm.out)" ] && pass cp_p_kept ||
	fail cp_p_kept "$(stat -c '%a %y' pm/x pm pm.out/x pm.out)"
if [ "$(id -u)" = 0 ]; then
	chown 1234:4321 pm/x && "$LF" cp -p pm/x "$img:/own" && "$LF" cp -p "$img:/own" own.out &&
		[ "$(stat -c %u:%g own.out)" = 1234:4321 ] && pass cp_p_owner || fail cp_p_owner "$(stat -c %u:%g own.out)"
	# a tree: the owners of the directory, the file, a symlink, a root-owned file
	mkdir -p ot/d && printf a >ot/d/f && printf b >ot/r && ln -s f ot/d/l &&
		chown 1234:4321 ot/d ot/d/f && chown -h 2345:5432 ot/d/l &&
		"$LF" cp -rp ot "$img:/ot" && "$LF" cp -rp "$img:/ot" ot.out &&
		[ "$(stat -c '%n %u:%g' ot.out/d ot.out/d/f ot.out/d/l ot.out/r)" = \
		  "$(stat -c '%n %u:%g' ot/d ot/d/f ot/d/l ot/r | sed 's,^ot/,ot.out/,')" ] &&
		pass cp_p_owner_tree || fail cp_p_owner_tree "$(stat -c '%n %u:%g' ot.out/d ot.out/d/f ot.out/d/l ot.out/r)"
else
	skip cp_p_owner "not root"
fi
# without -p: fresh times, mode less the umask
"$LF" cp "$img:/pm/x" nop.out && [ "$(stat -c %Y nop.out)" -gt 1000000000 ] && [ "$(stat -c %Y nop.out)" != "$(stat -c %Y pm/x)" ] &&
	pass cp_nop_times || fail cp_nop_times "times copied without -p"

# ---- -n / -f / overwrite
printf new >nf
ok cp_overwrite "$LF" cp nf "$img:/f"
expect_out cp_overwrite_data "new" "$LF" cp "$img:/f" -
printf newer >nf
ok cp_noclobber "$LF" cp -n nf "$img:/f"
expect_out cp_noclobber_kept "new" "$LF" cp "$img:/f" -
# an existing symlink in the destination is never written through
printf victim >victim && ln -sf "$W/victim" lnk
expect_exit 1 cp_no_write_through "$LF" cp "$img:/f" lnk
expect_err cp_no_write_through_msg "symlink"
[ "$(cat victim)" = victim ] && pass cp_victim_intact || fail cp_victim_intact "victim was overwritten"
ok cp_force_replaces "$LF" cp -f "$img:/f" lnk
[ ! -L lnk ] && [ "$(cat lnk)" = new ] && [ "$(cat victim)" = victim ] && pass cp_force_result || fail cp_force_result "lnk or victim wrong"
ok cp_n_out sh -c "printf keep >kept && '$LF' cp -n '$img:/f' kept"
[ "$(cat kept)" = keep ] && pass cp_n_out_kept || fail cp_n_out_kept "$(cat kept)"

# ---- -v
expect_out cp_verbose "'f' -> '$img:/vf'" "$LF" cp -v f "$img:/vf"

# ---- put / get
ok put_default sh -c "'$LF' -i '$img' put f && '$LF' -i '$img' get /f got && cmp f got"
ok put_dst "$LF" put dir "$img:/putdir"
ok get_dir sh -c "mkdir -p gd && cd gd && '$LF' get '$img:/putdir' && diff -r ../dir putdir"
expect_exit 2 put_no_image "$LF" put f /x
expect_err put_no_image_msg "not an image path"
expect_exit 2 get_no_image "$LF" get f
# inside the shell plain paths are in the image, put/get cross over
ok shell_put_get "$LF" shell -c 'put f /shf; put dir /shd; get /shf shell_got; get /shd shell_dir' "$img"
cmp -s f shell_got && diff -r dir shell_dir >/dev/null && pass shell_put_get_same || fail shell_put_get_same "differs"

# ---- progress bar: on a terminal only, never in a pipe
dd if=/dev/urandom of=big bs=1M count=8 2>/dev/null
"$LF" cp --progress big "$img:/big" 2>bar.err
[ ! -s bar.err ] && pass cp_no_bar_in_pipe || fail cp_no_bar_in_pipe "$(head -c 200 bar.err)"
if command -v script >/dev/null 2>&1; then
	script -qec "'$LF' cp --progress big '$img:/big2'" /dev/null >bar.tty 2>&1
	grep -q 'files' bar.tty && grep -q 'ETA' bar.tty && pass cp_bar_on_tty || fail cp_bar_on_tty "$(head -c 300 bar.tty)"
else
	skip cp_bar_on_tty "script(1) not installed"
fi
ok cp_big_same sh -c "'$LF' cp '$img:/big2' - | cmp - big"

# ---- the image is consistent afterwards
if "$LF" help fsck >/dev/null 2>&1 && ! "$LF" fsck 2>&1 | grep -q 'not implemented'; then
	ok cp_fsck "$LF" fsck "$img"
else
	skip cp_fsck "lightfs fsck is not implemented yet"
fi
