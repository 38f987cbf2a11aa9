# The help texts, the man page and the completions name the same commands
# and options.  Nothing is listed here: the commands are read from
# `lightfs help`, the options of each from the completion helper (the
# table's .options and the synopsis); then the man page (rendered with man)
# must show each command's synopsis exactly as --help prints it and name
# each option in that command's section, and the bash and fish completion
# scripts must offer exactly those commands and options.
. "$TOP/tests/cli/lib.sh"
T=$TMPDIR
man_src=$TOP/doc/lightfs.1
regen="(doc/lightfs.1 is generated: run 'make man' and commit it)"

norm() { tr -s ' \t' '  ' | sed -e 's/^ //' -e 's/ $//'; }

"$LF" help >"$T/help" 2>&1 || { fail docs_help "lightfs help failed: $(head -3 "$T/help")"; exit 0; }
awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 } f && /^$/ { exit }' "$T/help" >"$T/cmds"
if [ "$(wc -l <"$T/cmds")" -lt 3 ]; then
	fail docs_help "lightfs help lists $(wc -l <"$T/cmds") commands"
	exit 0
fi
"$LF" __complete --list >"$T/list" 2>"$T/list.err" || { fail docs_list "__complete --list: $(cat "$T/list.err")"; exit 0; }
awk -F'\t' '$2 == "shell" { print $1 }' "$T/list" >"$T/shcmds"
# aliases of listed commands (info/df, quit/exit)
awk -F'\t' '$2 != "shell" && $3 != "" { print $3 }' "$T/list" >"$T/aliases"

# ---- man page rendered as a reader sees it
if ! command -v man >/dev/null 2>&1; then
	skip docs_man "man is not installed"
else
	MANWIDTH=250 MANPAGER=cat PAGER=cat man --no-hyphenation --no-justification -l "$man_src" 2>"$T/man.err" |
		col -bx >"$T/man.txt"
	if [ ! -s "$T/man.txt" ]; then
		fail docs_man "man -l doc/lightfs.1 rendered nothing: $(head -3 "$T/man.err")"
	else
		norm <"$T/man.txt" >"$T/man.norm"
		# the top synopsis is `lightfs --help`'s usage
		"$LF" --help | awk 'NR == 1 { sub(/^usage: /, ""); print; next } /^       / { print; next } { exit }' |
			norm >"$T/top"
		bad=$(while read -r l; do grep -qxF -- "$l" "$T/man.norm" || echo "[$l]"; done <"$T/top")
		[ -z "$bad" ] && pass docs_man_synopsis || fail docs_man_synopsis "man SYNOPSIS lacks $bad $regen"
		missing="" badsyn="" badopt=""
		for c in $(cat "$T/cmds" "$T/shcmds"); do
			# this command's section: from its .SS heading to the next heading
			awk -v c="$c" '/^   [^ ]/ { f = ($1 == c || $1 == c ",") ; next } /^[^ ]/ { f = 0 } f' \
				"$T/man.txt" | norm >"$T/sec.$c"
			if [ ! -s "$T/sec.$c" ]; then
				missing="$missing $c"
				continue
			fi
			"$LF" help "$c" >"$T/h.$c" 2>&1
			awk 'NR == 1 { sub(/^usage: /, ""); print; next } /^       / { print; next } { exit }' \
				"$T/h.$c" | norm >"$T/syn.$c"
			while read -r l; do
				grep -qxF -- "$l" "$T/sec.$c" || badsyn="$badsyn $c:[$l]"
			done <"$T/syn.$c"
			for o in $("$LF" __complete -- "$c" - 2>/dev/null); do
				[ "$o" = --help ] && continue
				grep -qE -- "(^|[^A-Za-z0-9-])$o([^A-Za-z0-9-]|$)" "$T/sec.$c" || badopt="$badopt $c:$o"
			done
		done
		[ -z "$missing" ] && pass docs_man_commands || fail docs_man_commands "no man section for:$missing $regen"
		[ -z "$badsyn" ] && pass docs_man_cmd_synopsis || fail docs_man_cmd_synopsis "synopsis differs from --help:$badsyn $regen"
		[ -z "$badopt" ] && pass docs_man_options || fail docs_man_options "options not in the man page:$badopt $regen"
		# and the man page has no section for a command that does not exist
		extra=""
		for s in $(grep -E '^\.SS ' "$man_src" | sed -e 's/^\.SS "//' -e 's/[",].*//'); do
			grep -qxF "$s" "$T/cmds" "$T/shcmds" || extra="$extra $s"
		done
		[ -z "$extra" ] && pass docs_man_no_stale || fail docs_man_no_stale "man sections for unknown commands:$extra $regen"
	fi
fi

# ---- every option the completion offers is in the command's help text
badhelp=""
for c in $(cat "$T/cmds"); do
	"$LF" "$c" --help >"$T/hh" 2>&1 || badhelp="$badhelp $c:--help-exit"
	for o in $("$LF" __complete -- "$c" - 2>/dev/null); do
		[ "$o" = --help ] && continue
		grep -qE -- "(^|[^A-Za-z0-9-])$o([^A-Za-z0-9-]|$)" "$T/hh" || badhelp="$badhelp $c:$o"
	done
done
[ -z "$badhelp" ] && pass docs_help_options || fail docs_help_options "options completed but not in --help:$badhelp"

# ---- bash: the completion function offers the same commands and options
sort -u "$T/cmds" "$T/aliases" >"$T/want_cmds"
cat >"$T/bashcomp.sh" <<EOF
. "$TOP/completions/lightfs.bash"
__lightfs_cmd="$LF"
comp() { COMP_LINE=\$1; COMP_POINT=\${#1}; COMP_WORDS=(\$1); [[ \$1 == *' ' ]] && COMP_WORDS+=("");
	COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _lightfs; printf '%s\n' "\${COMPREPLY[@]}"; }
comp "\$@"
EOF
bash "$T/bashcomp.sh" "lightfs " | sort -u >"$T/bash_cmds"
if cmp -s "$T/want_cmds" "$T/bash_cmds"; then pass docs_bash_commands; else
	fail docs_bash_commands "bash offers [$(tr '\n' ' ' <"$T/bash_cmds")] want [$(tr '\n' ' ' <"$T/want_cmds")]"; fi
badb=""
for c in $(cat "$T/cmds"); do
	"$LF" __complete -- "$c" - | sort -u >"$T/o1"
	bash "$T/bashcomp.sh" "lightfs $c -" | sort -u >"$T/o2"
	cmp -s "$T/o1" "$T/o2" || badb="$badb $c"
	[ -s "$T/o1" ] || badb="$badb $c(no-options)"
done
[ -z "$badb" ] && pass docs_bash_options || fail docs_bash_options "bash options differ for:$badb"

# ---- fish: the same through `complete -C`
if command -v fish >/dev/null 2>&1; then
	if fish -n "$TOP/completions/lightfs.fish"; then pass fish_syntax; else fail fish_syntax "fish -n failed"; fi
	mkdir -p "$T/fbin" && ln -sf "$LF" "$T/fbin/lightfs"
	PATH="$T/fbin:$PATH" fish -c "source $TOP/completions/lightfs.fish; complete -C'lightfs '" |
		cut -f1 | sort -u >"$T/fish_cmds"
	if cmp -s "$T/want_cmds" "$T/fish_cmds"; then pass docs_fish_commands; else
		fail docs_fish_commands "fish offers [$(tr '\n' ' ' <"$T/fish_cmds")] want [$(tr '\n' ' ' <"$T/want_cmds")]"; fi
	badf=""
	for c in $(cat "$T/cmds"); do
		"$LF" __complete -- "$c" - | sort -u >"$T/o1"
		PATH="$T/fbin:$PATH" fish -c "source $TOP/completions/lightfs.fish; complete -C'lightfs $c -'" |
			cut -f1 | sort -u >"$T/o2"
		cmp -s "$T/o1" "$T/o2" || badf="$badf $c"
	done
	[ -z "$badf" ] && pass docs_fish_options || fail docs_fish_options "fish options differ for:$badf"
else
	skip fish_syntax "fish is not installed"
fi

# ---- zsh / bash syntax
if command -v zsh >/dev/null 2>&1; then
	if zsh -n "$TOP/completions/_lightfs"; then pass zsh_syntax; else fail zsh_syntax "zsh -n failed"; fi
else
	skip zsh_syntax "zsh is not installed"
fi
if bash -n "$TOP/completions/lightfs.bash"; then pass bash_syntax; else fail bash_syntax "bash -n failed"; fi
