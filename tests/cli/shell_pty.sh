# `lightfs shell` driven through a pseudo-terminal as a person would use it
# (tests/tools/pty): TAB completion of in-image paths shown on the screen,
# cd and the prompt, history kept across two runs, Ctrl-C during a long cat
# that cancels the cat but not the shell, Ctrl-D, and the writer lock held
# for the whole session.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/cli/shell_lib.inc"
T=$TMPDIR
PTY="$TOOLS/pty -t 20"
img=$T/img.lfs
shell_mkimg "$img" 48
printf 'set enable-bracketed-paste off\nset bell-style none\n' >"$T/inputrc"
export INPUTRC="$T/inputrc" LIGHTFS_HISTORY="$T/hist" TERM=xterm
unset LS_COLORS

# run NAME SCRIPT: feed the pty script, PASS if every step matched
run() {
	n=$1
	if printf '%s\n' "$2" | $PTY -o "$T/$n.screen" -- "$LF" shell "$img" >"$T/$n.out" 2>"$T/$n.err"; then
		pass "$n"
	else
		fail "$n" "$(head -c 600 "$T/$n.err" | tr '\n' '|')"
		return 1
	fi
}

# completion of an in-image path, a directory gets '/', then cd and the prompt
run shell_tab_cd_prompt 'expect img.lfs:/> 
send cd /us\t
expect cd /usr/
send \r
expect img.lfs:/usr> 
send cd inc\t
expect cd include/
send \r
expect img.lfs:/usr/include> 
send pwd\r
expect pwd\n/usr/include\n
send cd ..\r
expect img.lfs:/usr> 
send \x04
wait'

# a name with a space is completed quoted; a relative ../ path; a unique file
# gets a trailing space; double TAB lists the candidates
run shell_tab_quoting 'expect img.lfs:/> 
send cd /usr\r
expect img.lfs:/usr> 
send cat ../my\t
expect cat ../my\\ dir/
send a\t
expect a\\ file 
send \x15cat '"'"'/my d\t
expect cat '"'"'/my dir/
send \x15cd /usr/\t\t
expect include/
expect share/
send \x15\x04
wait'

# commands and options complete too; Ctrl-C on a typed line clears it
run shell_tab_commands 'expect img.lfs:/> 
send hist\t
expect history 
send -\t\t
expect --help
expect -c
send \x03
expect img.lfs:/> 
send pwd\r
expect pwd\n/\n
expect img.lfs:/> 
send \x04
wait'

# history: kept across two runs in $LIGHTFS_HISTORY, recalled with Up
rm -f "$T/hist"
run shell_history_1 'expect img.lfs:/> 
send cd /etc\r
expect img.lfs:/etc> 
send pwd\r
expect pwd\n/etc\n
expect img.lfs:/etc> 
send \x04
wait'
run shell_history_2 'expect img.lfs:/> 
send \e[A\e[A
expect cd /etc
send \r
expect img.lfs:/etc> 
send history\r
expect 1  cd /etc
expect 2  pwd
expect 3  cd /etc
send quit\r
wait'
if grep -qx 'cd /etc' "$T/hist" && grep -qx pwd "$T/hist" && [ "$(grep -c . "$T/hist")" -ge 4 ]; then
	pass shell_history_file
else
	fail shell_history_file "history file: $(tr '\n' '|' <"$T/hist" 2>/dev/null)"
fi

# Ctrl-C during a long cat (48 MiB to the terminal) cancels the cat, keeps
# the shell and its session: the prompt comes back and commands still run
if run shell_ctrl_c_cat 'expect img.lfs:/> 
send cat /big\r
expect xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
sleep 300
send \x03
expect img.lfs:/> 
send cd /etc\r
expect img.lfs:/etc> 
send \x04
wait'; then
	# the whole file is 48 MiB of x: far more than arrived before the prompt
	got=$(wc -c <"$T/shell_ctrl_c_cat.screen")
	if [ "$got" -lt $((40 * 1048576)) ]; then pass shell_ctrl_c_cancels; else
		fail shell_ctrl_c_cancels "$got bytes shown: cat was not cancelled"; fi
fi

# the session holds the writer lock: a second writer is refused at once,
# and a command's change is committed before the next prompt (kill -9 then)
"$LF" shell -c 'pwd' "$img" >/dev/null 2>&1 || { fail shell_lock "image not usable"; }
run shell_lock_and_commit 'expect img.lfs:/> 
send mkdir /made\r
expect img.lfs:/> 
send !'"$LF"' shell -c pwd '"$img"' || echo second=$?\r
expect second=3
send \r
expect img.lfs:/> 
kill 9
wait'
if "$LF" shell -c 'cd /made' "$img" >"$T/c.out" 2>&1; then pass shell_commit_per_command; else
	fail shell_commit_per_command "after kill -9: $(head -c 300 "$T/c.out")"; fi
