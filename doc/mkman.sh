#!/bin/sh
# doc/mkman.sh LIGHTFS TEMPLATE > lightfs.1
# Fill doc/lightfs.1.in with the synopsis and the COMMANDS / shell-command
# sections, taken from the help texts of the command table (`LIGHTFS help`,
# `LIGHTFS help CMD`, `LIGHTFS __complete --list`), so the page says what
# --help says.  Run by `make man`.
set -eu
lf=$1
tpl=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# roff-escape stdin: backslashes, hyphens, lines starting with . or '
esc() { sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

# one command's section from `lightfs help CMD`
section() {
	"$lf" help "$1" >"$tmp/h" 2>/dev/null || return 0
	alias=$(sed -n 's/^Alias: //p' "$tmp/h")
	if [ -n "$alias" ]; then
		printf '.SS "%s, %s"\n' "$1" "$alias"
	else
		printf '.SS "%s"\n' "$1"
	fi
	# synopsis: "usage: lightfs ..." and its continuation lines
	printf '.nf\n'
	awk 'NR == 1 { sub(/^usage: /, ""); print; next }
	     /^       / { print; next } { exit }' "$tmp/h" | esc |
		sed -e '1s/^lightfs/\\fBlightfs\\fR/'
	printf '.fi\n.PP\n'
	# the rest: summary, help text (the generic exit-status line is in EXIT STATUS)
	awk 'NR == 1 { s = 1; next } s == 1 && /^       / { next } { s = 2 }
	     /^Alias: / { next }
	     /^Exit status: 0 ok, 1 failed or partial, 2 usage error, 3 image locked, 4 image corrupt\.$/ { next }
	     { print }' "$tmp/h" | sed -e '/./,$!d' | esc >"$tmp/body"
	# drop trailing blank lines
	sed -e ':a' -e '/^\n*$/{$d;N;ba' -e '}' "$tmp/body" >"$tmp/body2"
	head -n 1 "$tmp/body2"
	if [ "$(wc -l <"$tmp/body2")" -gt 1 ]; then
		printf '.PP\n.nf\n'
		tail -n +2 "$tmp/body2" | sed -e '/./,$!d'
		printf '.fi\n'
	fi
}

"$lf" help >"$tmp/all"
awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 } f && /^$/ { exit }' "$tmp/all" >"$tmp/cmds"
"$lf" __complete --list | awk -F'\t' '$2 == "shell" { print $1 }' >"$tmp/shcmds"

{
	# SYNOPSIS: the usage lines of `lightfs --help`
	"$lf" --help | awk 'NR == 1 { sub(/^usage: /, ""); print; next } /^       / { sub(/^ +/, ""); print; next } { exit }' |
		esc | sed -e 's/^/.br\n/' | sed -e '1d'
} >"$tmp/syn"
while read -r c; do section "$c"; done <"$tmp/cmds" >"$tmp/commands"
while read -r c; do section "$c"; done <"$tmp/shcmds" >"$tmp/shell"

version=$("$lf" --version | awk '{ print $2 }')
awk -v syn="$tmp/syn" -v cmds="$tmp/commands" -v sh="$tmp/shell" -v ver="$version" '
	function cat(f,   l) { while ((getline l < f) > 0) print l; close(f) }
	/^@SYNOPSIS@$/ { cat(syn); next }
	/^@COMMANDS@$/ { cat(cmds); next }
	/^@SHELL_COMMANDS@$/ { cat(sh); next }
	{ gsub(/@VERSION@/, ver); gsub(/@DATE@/, "2026"); print }' "$tpl"
