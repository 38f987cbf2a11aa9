#!/bin/sh
# Safe extraction: copying out of an image never writes outside the
# destination, whatever names or symlink targets the image holds.  The
# hostile entries ("..", ".", names with '/', directory loops, hand-made
# hard links) cannot be made through the API, so tests/tools/cp_craft writes
# them straight into the KV store.  Each case: a clear message, a non-zero
# exit, and nothing outside the destination touched.
. "$TOP/tests/cli/lib.sh"
CRAFT=${TOOLS:-$TOP/build/asan/tests/tools}/cp_craft
[ -x "$CRAFT" ] || { fail hostile_tool "$CRAFT not built (make test-build)"; exit 0; }
W=$TMPDIR/h
mkdir -p "$W" && cd "$W" || exit 1
img=$W/evil.lfs
"$LF" mkfs "$img" >/dev/null 2>&1 || { fail hostile_mkfs "mkfs failed"; exit 0; }

# the outside world the image must not reach
mkdir -p outside && printf original >outside/target
snap() { (cd "$W/outside" && find . -printf '%y %s %T@ %p\n' | sort; cat target); }
snap >outside.before
outside_intact() {
	snap >outside.after
	if cmp -s outside.before outside.after && [ ! -e "$W/pwn" ] && [ ! -e /pwn-lightfs ]; then
		pass "$1"
	else
		fail "$1" "outside changed: $(diff outside.before outside.after | head -3)"
	fi
}

# a normal tree to hang hostile entries on
mkdir -p src/dotdot src/slash src/dot src/abs src/loop src/hl/sub src/links
printf payload >src/dotdot/f
printf payload >src/slash/f
printf payload >src/dot/f
printf payload >src/abs/f
printf inner >src/loop/f
printf secret >src/hl/secret
ln -s "$W/outside" src/links/abs
ln -s ../../../outside src/links/rel
ln -s /pwn-lightfs src/links/root
"$LF" cp -r src/dotdot src/slash src/dot src/abs src/loop src/hl src/links "$img:/" ||
	{ fail hostile_setup "cp into the image failed"; exit 0; }

"$CRAFT" "$img" link /dotdot .. /dotdot/f &&
"$CRAFT" "$img" link /slash '..\x2f..\x2fpwn' /slash/f &&
"$CRAFT" "$img" link /dot . /dot/f &&
"$CRAFT" "$img" link /abs "\x2f$W/pwn" /abs/f &&
"$CRAFT" "$img" link /loop again /loop &&
"$CRAFT" "$img" link /loop up / &&
"$CRAFT" "$img" link /hl/sub hardlink /hl/secret &&
"$CRAFT" "$img" link /links 'abs\x2ftarget' /dotdot/f ||
	{ fail hostile_craft "cp_craft failed"; exit 0; }

# names that would climb out or name another entry: refused
for d in dotdot slash dot abs; do
	mkdir -p "out.$d"
	"$LF" cp -r "$img:/$d" "out.$d" >"$W/.out" 2>"$TMPDIR/.err"
	rc=$?
	[ "$rc" -ne 0 ] && pass "hostile_${d}_exit" || fail "hostile_${d}_exit" "exit 0"
	expect_err "hostile_${d}_msg" "invalid entry"
	outside_intact "hostile_${d}_outside"
done
[ ! -e "$W/pwn" ] && [ ! -e "$W/out.slash/pwn" ] && pass hostile_no_pwn || fail hostile_no_pwn "pwn written"

# a directory linked into itself (and the root linked below): refused, ends
mkdir -p out.loop
timeout 60 "$LF" cp -r "$img:/loop" out.loop >"$W/.out" 2>"$TMPDIR/.err"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && pass hostile_loop || fail hostile_loop "exit $rc"
expect_err hostile_loop_msg "loop in the image"
[ "$(cat out.loop/loop/f)" = inner ] && pass hostile_loop_rest || fail hostile_loop_rest "the good entries were not copied"
outside_intact hostile_loop_outside

# a hand-made hard link to a file outside the copied subtree: a plain copy
mkdir -p out.hl
ok hostile_hardlink "$LF" cp -r "$img:/hl/sub" out.hl
[ "$(cat out.hl/sub/hardlink)" = secret ] && [ "$(stat -c %h out.hl/sub/hardlink)" = 1 ] &&
	pass hostile_hardlink_plain || fail hostile_hardlink_plain "$(stat -c '%h %n' out.hl/sub/hardlink)"

# symlinks pointing out are created as stored and never followed; an entry
# "under" one (a name with '/') is refused
mkdir -p out.links
"$LF" cp -r "$img:/links" out.links 2>"$TMPDIR/.err"
[ $? -ne 0 ] && pass hostile_links_exit || fail hostile_links_exit "exit 0 with an 'abs/target' entry"
outside_intact hostile_links_outside

# the same through an existing destination: a symlink already there (from an
# earlier extraction) and an image whose directory of that name has files
img2=$W/evil2.lfs
"$LF" mkfs "$img2" >/dev/null 2>&1
mkdir -p src2/links/abs src2/links/rel src2/links/root
printf pwned >src2/links/abs/target
printf pwned >src2/links/rel/target
printf pwned >src2/links/root/x
"$LF" cp -r src2/links "$img2:/"
mkdir -p out.two
"$LF" cp -r "$img:/links/abs" "$img:/links/rel" "$img:/links/root" out.two/ 2>/dev/null
[ -L out.two/abs ] && [ -L out.two/rel ] && pass hostile_symlinks_stored || fail hostile_symlinks_stored "$(ls -la out.two)"
expect_exit 1 hostile_through_symlink "$LF" cp -r "$img2:/links/." out.two
expect_err hostile_through_symlink_msg "is a symlink"
outside_intact hostile_through_symlink_outside
[ ! -e /pwn-lightfs ] && pass hostile_root_untouched || fail hostile_root_untouched "/pwn-lightfs created"
# -f replaces the symlink by the directory, still inside
ok hostile_force "$LF" cp -rf "$img2:/links/." out.two
[ -d out.two/abs ] && [ ! -L out.two/abs ] && pass hostile_force_dir || fail hostile_force_dir "$(ls -la out.two)"
outside_intact hostile_force_outside

# get into the current directory behaves the same
mkdir -p getdir && cd getdir
"$LF" get "$img:/slash" >/dev/null 2>&1
[ $? -ne 0 ] && pass hostile_get_exit || fail hostile_get_exit "exit 0"
cd "$W"
outside_intact hostile_get_outside
