# Completion from the user's own shell: `lightfs cat img.lfs:/us<TAB>`.
# The bash function runs with prepared COMP_WORDS (split at ':' as bash does
# with its default COMP_WORDBREAKS) and must offer what bash will insert;
# fish through `complete -C`; zsh through a pseudo-terminal with compinit.
. "$TOP/tests/cli/lib.sh"
. "$TOP/tests/cli/shell_lib.inc"
T=$TMPDIR
cd "$T" || exit 1
shell_mkimg img.lfs
mkdir -p "$T/bin" && ln -sf "$LF" "$T/bin/lightfs"
export PATH="$T/bin:$PATH"

# ---- the helper itself
expect_out complete_helper_path "img.lfs:/usr/" "$LF" __complete -- cat img.lfs:/us
expect_out complete_helper_dirs "img.lfs:/usr/include/
img.lfs:/usr/share/" "$LF" __complete -- ls img.lfs:/usr/
expect_out complete_helper_space "img.lfs:/my dir/" "$LF" __complete -- cat "img.lfs:/my"
expect_out complete_helper_hidden "img.lfs:/.hidden" "$LF" __complete -- cat "img.lfs:/."
expect_out complete_helper_not_image "" "$LF" __complete -- cat "nothere.lfs:/us"
expect_out complete_helper_files "::files" "$LF" __complete -- cat "img"
# commands starting with c: those `lightfs help` lists, not the shell-only cd/cache
want=$("$LF" help | awk '/^Commands:/ { f = 1; next } f && /^  c/ { print $1 }' | sort)
expect_out complete_helper_cmd "$want" "$LF" __complete -- c

# ---- bash: COMP_WORDS split at ':' as bash does
cat >"$T/b.sh" <<'EOF'
. "$TOP/completions/lightfs.bash"
# $1: the line; the words as bash splits them with ':' in COMP_WORDBREAKS
COMP_LINE=$1; COMP_POINT=${#1}; shift
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
_lightfs
printf '%s\n' "${COMPREPLY[@]}"
compopt 2>/dev/null | grep -q nospace && echo NOSPACE
EOF
b() { TOP=$TOP bash "$T/b.sh" "$@" 2>"$T/b.err"; }
r=$(b "lightfs cat img.lfs:/us" lightfs cat img.lfs : /us)
[ "$r" = "/usr/" ] && pass complete_bash_colon || fail complete_bash_colon "got [$r] $(cat "$T/b.err")"
r=$(b "lightfs cat img.lfs:" lightfs cat img.lfs :)
want=$(printf '%s\n' /etc/ "/my\\ dir/" /usr/)
[ "$r" = "$want" ] && pass complete_bash_after_colon || fail complete_bash_after_colon "got [$r] want [$want]"
r=$(b "lightfs cat img.lfs:/my\\ dir/a" lightfs cat img.lfs : "/my\\ dir/a")
[ "$r" = "/my\\ dir/a\\ file" ] && pass complete_bash_quoted || fail complete_bash_quoted "got [$r]"
r=$(b "lightfs ls -l img.lfs:/usr/inc" lightfs ls -l img.lfs : /usr/inc)
[ "$r" = "/usr/include/" ] && pass complete_bash_after_option || fail complete_bash_after_option "got [$r]"
r=$(b "lightfs cat im" lightfs cat im)
[ "$r" = "img.lfs" ] && pass complete_bash_image_file || fail complete_bash_image_file "got [$r]"
r=$(b "lightfs sh" lightfs sh)
[ "$r" = "shell" ] && pass complete_bash_command || fail complete_bash_command "got [$r]"

# ---- fish
if command -v fish >/dev/null 2>&1; then
	r=$(fish -c "source $TOP/completions/lightfs.fish; complete -C'lightfs cat img.lfs:/us'" | cut -f1)
	[ "$r" = "img.lfs:/usr/" ] && pass complete_fish_image_path || fail complete_fish_image_path "got [$r]"
else
	skip complete_fish_image_path "fish is not installed"
fi

# ---- zsh, as typed at a terminal
if command -v zsh >/dev/null 2>&1; then
	mkdir -p "$T/zdot"
	cat >"$T/zdot/.zshrc" <<EOF
fpath=($TOP/completions \$fpath)
autoload -U compinit; compinit -u -D
PS1='ZP> '
unsetopt beep
EOF
	if printf '%s\n' 'expect ZP> ' 'send lightfs cat img.lfs:/us\t' 'expect img.lfs:/usr/' \
		'send incl\t' 'expect include/' 'send \x15exit\r' 'wait' |
		ZDOTDIR="$T/zdot" "$TOOLS/pty" -t 15 -o "$T/z.screen" -- zsh -i >"$T/z.out" 2>"$T/z.err"; then
		pass complete_zsh_image_path
	else
		fail complete_zsh_image_path "$(head -c 400 "$T/z.err" | tr '\n' '|')"
	fi
else
	skip complete_zsh_image_path "zsh is not installed"
fi
