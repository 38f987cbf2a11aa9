# ls -lR and stat -c against GNU ls and stat on a real tree no one here
# wrote (/usr/include/linux, copied in with cp -r -p): every file and
# symlink line must be the same (modes, links, owner, group, size, time,
# name, target), blanks squeezed since directory sizes differ (0 in an
# image, 4096 on ext4) and so do column widths.
. "$TOP/tests/cli/lib.sh"
T=$TMPDIR
src=/usr/include/linux
[ -d "$src" ] || { skip cli_ls_gnu "no $src"; exit 0; }
export TZ=UTC LC_ALL=C
"$LF" mkfs -q "$T/img.lfs" && "$LF" cp -r -p "$src" "$T/img.lfs:/linux" >"$T/cp.out" 2>&1 ||
	{ fail cli_ls_gnu_setup "mkfs/cp -r -p: $(head -c 300 "$T/cp.out")"; exit 0; }
"$LF" ls -lR "$T/img.lfs:/linux" 2>"$T/e" | grep -v '^total\|^d' | sed "s|^$T/img.lfs:/linux|X|" |
	tr -s ' ' >"$T/ours"
(cd "$(dirname "$src")" && ls -lR "$(basename "$src")") | grep -v '^total\|^d' |
	sed "s|^$(basename "$src")|X|" | tr -s ' ' >"$T/gnu"
n=$(grep -c '^[-l]' "$T/gnu")
if [ "$n" -gt 100 ] && cmp -s "$T/ours" "$T/gnu"; then pass "ls_lR_matches_gnu ($n files and links)"; else
	fail ls_lR_matches_gnu "$(diff "$T/ours" "$T/gnu" | head -6 | tr '\n' '|') $(head -c 200 "$T/e")"; fi
# stat -c on a sample of files and links
fmt='%n|%s|%a|%A|%h|%u|%g|%F|%Y|%X'
(cd "$(dirname "$src")" && find "$(basename "$src")" \( -type f -o -type l \) | sort | head -200) >"$T/list"
set --
while read -r p; do set -- "$@" "$T/img.lfs:/$p"; done <"$T/list"
"$LF" stat -c "$fmt" "$@" 2>&1 | sed "s|^$T/img.lfs:/||" >"$T/stat.ours"
(cd "$(dirname "$src")" && xargs -d '\n' stat -c "$fmt" <"$T/list") >"$T/stat.gnu"
if [ -s "$T/stat.gnu" ] && cmp -s "$T/stat.ours" "$T/stat.gnu"; then pass "stat_c_matches_gnu ($(wc -l <"$T/list") paths)"; else
	fail stat_c_matches_gnu "$(diff "$T/stat.ours" "$T/stat.gnu" | head -6 | tr '\n' '|')"; fi
# ls -C (the default on a terminal) against GNU ls -C at several widths:
# the same columns, widths and tab/space padding
bad=""
for w in 80 132 40 7; do
	COLUMNS=$w "$LF" ls -C "$T/img.lfs:/linux" >"$T/c.ours" 2>&1
	(cd "$src" && COLUMNS=$w ls -C) >"$T/c.gnu"
	cmp -s "$T/c.ours" "$T/c.gnu" || bad="$bad $w:$(diff "$T/c.ours" "$T/c.gnu" | head -3 | tr '\n' '|')"
done
[ -z "$bad" ] && [ "$(wc -l <"$T/c.gnu")" -gt 10 ] && pass "ls_C_matches_gnu (widths 80 132 40 7)" ||
	fail ls_C_matches_gnu "$bad"
# -1 wins over -C, and a pipe gets one name per line
COLUMNS=80 "$LF" ls -C -1 "$T/img.lfs:/linux" >"$T/one" 2>&1
"$LF" ls "$T/img.lfs:/linux" >"$T/pipe" 2>&1
(cd "$src" && ls -1) >"$T/one.gnu"
cmp -s "$T/one" "$T/one.gnu" && cmp -s "$T/pipe" "$T/one.gnu" && pass ls_1_in_pipe ||
	fail ls_1_in_pipe "$(diff "$T/one" "$T/one.gnu" | head -3 | tr '\n' '|')"
