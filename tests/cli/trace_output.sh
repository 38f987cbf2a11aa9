# Where `trace record -o` writes: a new file is set up under a temporary
# name while the programs load and renamed at once (nothing of it is left
# behind); an existing output is written in place, whatever it is (a
# regular file keeps its inode, /dev/null stays a device); an output that
# cannot be made is an error that leaves nothing.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/cli/trace_lib.inc"
trace_need_bpf || exit 0
d=$TMPDIR/o
mkdir -p "$d"
"$LF" trace record -q -o "$d/new.trace" -- true
if [ -s "$d/new.trace" ] && [ "$(ls "$d")" = new.trace ] && "$LF" trace stat "$d/new.trace" >/dev/null; then
	pass trace_output_new
else fail trace_output_new "$(ls -la "$d")"; fi
ino=$(stat -c %i "$d/new.trace")
ln "$d/new.trace" "$d/link.trace"
"$LF" trace record -q -o "$d/new.trace" -- sh -c 'echo x >/dev/null'
if [ "$(stat -c %i "$d/new.trace")" = "$ino" ] && [ "$(stat -c %h "$d/new.trace")" = 2 ] &&
   "$LF" trace stat --json "$d/link.trace" | grep -q '"complete": *true'; then
	pass trace_output_existing_in_place
else fail trace_output_existing_in_place "inode $ino -> $(stat -c '%i links %h' "$d/new.trace")"; fi
if "$LF" trace record -q -o /dev/null -- true && [ -c /dev/null ]; then pass trace_output_devnull
else fail trace_output_devnull "$(ls -la /dev/null)"; fi
expect_exit 1 trace_output_no_dir "$LF" trace record -q -o "$d/no/such/dir.trace" -- true
mkdir "$d/adir"
expect_exit 1 trace_output_is_dir "$LF" trace record -q -o "$d/adir" -- true
if [ "$(ls "$d" | sort | tr '\n' ' ')" = "adir link.trace new.trace " ]; then pass trace_output_no_leftovers
else fail trace_output_no_leftovers "$(ls "$d" | tr '\n' ' ')"; fi
