# make install PREFIX=/usr/local DESTDIR=... puts the binary, the man page and
# the completions where bash-completion, zsh and fish look for them; each
# shell then finds the completion; make uninstall removes exactly those.
. "$TOP/tests/cli/lib.sh"
T=$TMPDIR
D=$T/root
P=/usr/local
# -o: use the binary make test built, never rebuild it here
if ! make -s -C "$TOP" -o build/rel/lightfs -o build/.deps-build install PREFIX=$P DESTDIR="$D" >"$T/inst.log" 2>&1; then
	fail install "make install: $(tail -5 "$T/inst.log")"
	exit 0
fi
missing=""
for f in bin/lightfs share/man/man1/lightfs.1 share/bash-completion/completions/lightfs \
	share/zsh/site-functions/_lightfs share/fish/vendor_completions.d/lightfs.fish; do
	[ -s "$D$P/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && pass install_files || fail install_files "missing:$missing"
[ -x "$D$P/bin/lightfs" ] && "$D$P/bin/lightfs" --version | grep -q '^lightfs ' &&
	pass install_binary || fail install_binary "installed binary does not run"
MANPAGER=cat MANWIDTH=100 man -l "$D$P/share/man/man1/lightfs.1" 2>/dev/null | grep -q 'lightfs help' &&
	pass install_man || fail install_man "man -l of the installed page shows no text"
# bash-completion finds the file on demand from its XDG_DATA_DIRS
if [ -f /usr/share/bash-completion/bash_completion ]; then
	out=$(XDG_DATA_DIRS="$D$P/share" PATH="$D$P/bin:$PATH" bash -c '
		. /usr/share/bash-completion/bash_completion
		__load_completion lightfs && complete -p lightfs' 2>&1)
	case $out in *"-F _lightfs lightfs"*) pass install_bash_found ;;
	*) fail install_bash_found "bash-completion did not load it: $out" ;; esac
else
	skip install_bash_found "bash-completion is not installed"
fi
# zsh: the site-functions directory autoloads _lightfs through compinit
if command -v zsh >/dev/null 2>&1; then
	out=$(HOME=$T zsh -f -c "fpath=($D$P/share/zsh/site-functions \$fpath); autoload -U compinit; compinit -u -D; print -r -- \$_comps[lightfs]" 2>&1)
	[ "$out" = _lightfs ] && pass install_zsh_found || fail install_zsh_found "zsh _comps[lightfs]=[$out]"
fi
# fish: a vendor completions directory on its data path
if command -v fish >/dev/null 2>&1; then
	out=$(XDG_DATA_DIRS="$D$P/share" HOME=$T PATH="$D$P/bin:$PATH" fish -c \
		'complete -C"lightfs " >/dev/null; functions -q __lightfs_complete && echo loaded' 2>&1)
	[ "$out" = loaded ] && pass install_fish_found || fail install_fish_found "fish did not load it: [$out]"
fi
make -s -C "$TOP" uninstall PREFIX=$P DESTDIR="$D" >"$T/un.log" 2>&1
left=$(find "$D" -type f | sed "s,^$D,,")
[ -z "$left" ] && pass uninstall || fail uninstall "left behind: $left"
