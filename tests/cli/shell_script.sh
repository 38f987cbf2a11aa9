# `lightfs shell` without a terminal: -c 'CMD; CMD', -f FILE, -f -, piped
# stdin; the first failing command stops the run with a message naming the
# line and the exit status reflects it (-k keeps going); -x echoes; pipes to
# host commands; !cmd; quoting; --ro.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/cli/shell_lib.inc"
T=$TMPDIR
img=$T/img.lfs
shell_mkimg "$img"

expect_out shell_c_cd_pwd "/usr/include
/usr" "$LF" shell -c 'cd /usr; cd include; pwd; cd ..; pwd' "$img"
expect_out shell_c_quoted_cd "/my dir" "$LF" shell -c "cd '/my dir'; pwd" "$img"
expect_out shell_c_backslash_cd "/my dir" "$LF" shell -c 'cd /my\ dir; pwd # a comment' "$img"

# the first failing command stops -c, the status is its status
"$LF" shell -c 'pwd; cd /nope; !echo NOT-REACHED' "$img" >"$T/o" 2>"$T/e"; rc=$?
if [ $rc -eq 1 ] && ! grep -q NOT-REACHED "$T/o" && grep -q "cd /nope" "$T/e" &&
	grep -q 'No such file' "$T/e"; then pass shell_c_stops; else
	fail shell_c_stops "rc=$rc out=[$(cat "$T/o")] err=[$(cat "$T/e")]"; fi

# a script file: the message names the file and line
printf 'cd /usr\n# comment line\n\ncd include\ncd /missing\n!echo NOT-REACHED\n' >"$T/s1"
"$LF" shell -f "$T/s1" "$img" >"$T/o" 2>"$T/e"; rc=$?
if [ $rc -eq 1 ] && ! grep -q NOT-REACHED "$T/o" && grep -q "$T/s1:5: 'cd /missing' failed" "$T/e"; then
	pass shell_f_stops_names_line; else
	fail shell_f_stops_names_line "rc=$rc out=[$(cat "$T/o")] err=[$(cat "$T/e")]"; fi

# -k keeps going, the status still says something failed
"$LF" shell -k -f "$T/s1" "$img" >"$T/o" 2>"$T/e"; rc=$?
if [ $rc -eq 1 ] && grep -q REACHED "$T/o"; then pass shell_k_keeps_going; else
	fail shell_k_keeps_going "rc=$rc out=[$(cat "$T/o")] err=[$(cat "$T/e")]"; fi

# -f - and a piped stdin; -x echoes each command
printf 'cd /etc\npwd\n' | "$LF" shell -x -f - "$img" >"$T/o" 2>"$T/e"; rc=$?
if [ $rc -eq 0 ] && [ "$(cat "$T/o")" = /etc ] && grep -qx '+ cd /etc' "$T/e" && grep -qx '+ pwd' "$T/e"; then
	pass shell_stdin_xtrace; else fail shell_stdin_xtrace "rc=$rc out=[$(cat "$T/o")] err=[$(cat "$T/e")]"; fi
printf 'pwd\ncd /nope\npwd\n' | "$LF" shell "$img" >"$T/o" 2>"$T/e"; rc=$?
if [ $rc -eq 1 ] && [ "$(cat "$T/o")" = / ] && grep -q "stdin:2:" "$T/e"; then pass shell_pipe_stdin_stops; else
	fail shell_pipe_stdin_stops "rc=$rc out=[$(cat "$T/o")] err=[$(cat "$T/e")]"; fi

# a quote left open continues on the next line of a script
printf "cd '/my\n" >"$T/s2"
"$LF" shell -f "$T/s2" "$img" >"$T/o" 2>"$T/e"; rc=$?
if [ $rc -ne 0 ] && grep -q "syntax error\|No such" "$T/e"; then pass shell_open_quote_reported; else
	fail shell_open_quote_reported "rc=$rc err=[$(cat "$T/e")]"; fi

# syntax errors are usage errors that stop the run
expect_exit 2 shell_syntax_error "$LF" shell -c "pwd | ; pwd" "$img"
expect_err shell_syntax_error_msg "syntax error"

# pipes into host commands and !cmd
expect_out shell_pipe_host "X" "$LF" shell -c 'pwd | tr / X' "$img"
expect_out shell_pipe_then_next "Xetc
/etc" "$LF" shell -c 'cd /etc; pwd | sed "s,/,X,"; pwd' "$img"
expect_out shell_bang "hi there" "$LF" shell -c '!echo hi there' "$img"
"$LF" shell -c 'pwd | exit 7' "$img" >/dev/null 2>&1; rc=$?
[ $rc -eq 7 ] && pass shell_pipe_status || fail shell_pipe_status "status $rc, want the host command's 7"
expect_out shell_quit_status "" "$LF" shell -c 'quit 0; !echo NOT-REACHED' "$img"
"$LF" shell -c 'quit 5' "$img"; rc=$?
[ $rc -eq 5 ] && pass shell_quit_n || fail shell_quit_n "status $rc"

# the same commands as the CLI: an image command, its output piped
if "$LF" shell -c 'cat /etc/passwd | grep root' "$img" >"$T/o" 2>"$T/e" &&
	[ "$(cat "$T/o")" = "root:x:0:0:root:/root:/bin/sh" ]; then pass shell_cat_grep; else
	fail shell_cat_grep "out=[$(cat "$T/o")] err=[$(head -c 300 "$T/e")]"; fi
if "$LF" shell -c 'cd /etc; cat passwd | wc -l' "$img" >"$T/o" 2>"$T/e" && [ "$(tr -d ' ' <"$T/o")" = 2 ]; then
	pass shell_cat_relative; else fail shell_cat_relative "out=[$(cat "$T/o")] err=[$(head -c 300 "$T/e")]"; fi
# lcd / lls on the host side; help lists the shell's own commands
mkdir -p "$T/hostdir" && touch "$T/hostdir/hostfile"
expect_out shell_lcd_lls "hostfile" "$LF" shell -c "lcd $T/hostdir; lls" "$img"
"$LF" shell -c 'help' "$img" >"$T/o" 2>&1
if grep -q '^  cd ' "$T/o" && grep -q '^  ls ' "$T/o" && grep -q '^  quit ' "$T/o"; then pass shell_help; else
	fail shell_help "$(head -c 300 "$T/o")"; fi
# shell-only commands refuse to run outside the shell
expect_exit 2 shell_only_cmd "$LF" cd /
# the page-cache statistics of the session
"$LF" shell -c 'cat /etc/passwd | cat >/dev/null; cache' "$img" >"$T/o" 2>&1
if grep -q '^page cache' "$T/o" && grep -q '^kv ' "$T/o"; then pass shell_cache; else
	fail shell_cache "$(head -c 300 "$T/o")"; fi

# --ro: the session writes nothing; a writing command fails, others work
cp "$img" "$T/before"
"$LF" shell --ro -c 'mkdir /x' "$img" >/dev/null 2>"$T/e"; rc=$?
if [ $rc -ne 0 ] && cmp -s "$img" "$T/before"; then pass shell_ro; else
	fail shell_ro "rc=$rc err=[$(head -c 200 "$T/e")]"; fi
expect_out shell_ro_reads "/etc" "$LF" shell --ro -c 'cd /etc; pwd' "$img"
# whole-image commands default to the session's image: fsck, compact, info
"$LF" shell -c 'mkdir /dflt; fsck; compact; info' "$img" >"$T/o" 2>"$T/e"; rc=$?
if [ $rc -eq 0 ] && grep -q ': clean' "$T/o" && grep -q 'reclaimed' "$T/o" && grep -q '^Label' "$T/o" &&
	"$LF" fsck "$img" >/dev/null 2>&1; then pass shell_image_cmds_default_to_session; else
	fail shell_image_cmds_default_to_session "rc=$rc out=[$(head -c 300 "$T/o")] err=[$(cat "$T/e")]"; fi
