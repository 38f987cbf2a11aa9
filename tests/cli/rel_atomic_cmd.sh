# A command is one atomic transaction (DESIGN.md), checked where the whole-
# tool campaign (crash_tool.sh) does not look:
#   - the shell: `mkdir /first; put -r TREE /new; mkdir /second` dies at
#     every mutating operation on the image (libpowerloss.so, drop and tear
#     modes; release binary): the image is always exactly the state after
#     some whole number of the commands — /new is absent or complete;
#   - partial failure: a command that fails on one argument (exit 1) still
#     commits the others (rm -r, cp of several sources, mkdir).
. "$TOP/tests/cli/lib.sh"
pl=$TOP/build/rel/tests/libpowerloss.so
LR=${LIGHTFS_REL:-$TOP/build/rel/lightfs}
W=$TMPDIR/ac
mkdir -p "$W/tree/d1/d2" "$W/tree/e" && cd "$W" || exit 1
i=0
while [ $i -lt 30 ]; do
	head -c $((i * 517 + 1)) /dev/urandom >"tree/d1/f$i"
	printf 'small %d\n' $i >"tree/e/s$i"
	i=$((i + 1))
done
head -c 300000 /dev/urandom >tree/d1/d2/big
ln -s ../e/s1 tree/d1/link

# ---- partial failure commits what succeeded ---------------------------------
img=$W/p.lfs
"$LF" mkfs "$img" >/dev/null
ok atomic_partial_setup "$LF" mkdir "$img:/a" "$img:/b" "$img:/c"
expect_exit 1 atomic_partial_rm "$LF" rm -r "$img:/a" "$img:/missing" "$img:/b"
expect_out atomic_partial_rm_kept "c" "$LF" ls "$img:/"
expect_exit 1 atomic_partial_cp "$LF" cp -r tree/e "$W/no-such-source" "$img:/c/"
expect_out atomic_partial_cp_kept "30" sh -c "'$LF' ls '$img:/c/e' | wc -l"
expect_exit 1 atomic_partial_mkdir "$LF" mkdir "$img:/x" "$img:/nodir/y" "$img:/z"
expect_out atomic_partial_mkdir_kept "c x z" sh -c "'$LF' ls '$img:/' | tr '\n' ' ' | sed 's/ \$//'"
ok atomic_partial_fsck "$LF" fsck "$img"

# ---- the shell, crashed at every mutating operation --------------------------
if [ ! -f "$pl" ]; then
	skip atomic_shell_powerloss "$pl not built"
	exit 0
fi
base=$W/base.lfs
"$LR" mkfs "$base" >/dev/null
script="mkdir /first; put -r $W/tree /new; mkdir /second"
cp "$base" run.lfs
LD_PRELOAD=$pl LFS_PL_MATCH=$W/run.lfs LFS_PL_COUNT_FILE=$W/cnt "$LR" shell -c "$script" run.lfs >/dev/null 2>&1 ||
	fail atomic_shell_reference "the script fails uninterrupted"
tot=$(cat "$W/cnt" 2>/dev/null || echo 0)
"$LR" ls -R run.lfs:/new >new.ref 2>&1
states() { # the image's state as a word: 0 (nothing), 1 (/first), 2 (+ /new whole), 3 (+ /second)
	top=$("$LR" ls "$1:/" 2>/dev/null | tr '\n' ' ')
	case "$top" in
	"") echo 0 ;;
	"first ") echo 1 ;;
	"first new ")
		"$LR" ls -R "$1:/new" >new.got 2>&1
		cmp -s new.got new.ref && echo 2 || echo "partial-new" ;;
	"first new second ") echo 3 ;;
	*) echo "unexpected:$top" ;;
	esac
}
bad=0 n=0
seen=""
at=1
while [ "$at" -le "$tot" ]; do
	for mode in drop tear; do
		cp "$base" run.lfs
		LD_PRELOAD=$pl LFS_PL_MATCH=$W/run.lfs LFS_PL_CRASH_AT=$at LFS_PL_MODE=$mode LFS_PL_SEED=$at \
			"$LR" shell -c "$script" run.lfs >/dev/null 2>&1
		s=$(states run.lfs)
		n=$((n + 1))
		case $s in
		0|1|2|3) seen="$seen $s" ;;
		*) bad=$((bad + 1)); echo "# crash at op $at/$tot ($mode): $s" ;;
		esac
		if ! "$LR" fsck run.lfs >fsck.out 2>&1; then
			bad=$((bad + 1)); echo "# crash at op $at/$tot ($mode): fsck: $(head -c 200 fsck.out)"
		fi
	done
	at=$((at + 1))
done
echo "# $n crashes over $tot mutating operations; states seen:$(echo "$seen" | tr ' ' '\n' | sort | uniq -c | tr -s ' \n' ' ')"
if [ "$tot" -gt 2 ] && [ $bad -eq 0 ]; then
	pass atomic_shell_powerloss
else
	fail atomic_shell_powerloss "$bad of $n crashed images were not a whole number of commands (ops: $tot)"
fi
