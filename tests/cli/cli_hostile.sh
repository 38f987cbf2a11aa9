# Damaged images the public API cannot make (entries written straight into
# the KV store by tests/tools/cp_craft): a directory loop must end ls -R,
# tree and rm -r with exit 4 and a message, not recurse forever; entries
# named "..", "a/b" or "" are refused as corruption (exit 4), never crash.
. "$TOP/tests/cli/lib.sh"
T=$TMPDIR
C=$TOOLS/cp_craft
[ -x "$C" ] || { skip cli_hostile "no $C in this build"; exit 0; }
cd "$T" || exit 1
"$LF" mkfs -q loop.lfs && "$LF" mkdir -p loop.lfs:/d/e && "$LF" touch loop.lfs:/d/f &&
	"$C" loop.lfs link /d/e loop /d >/dev/null 2>&1 || { fail cli_hostile_setup "cp_craft"; exit 0; }
for cmd in "ls -R" "ls -lR --json" "tree" "rm -r" "rm -rn"; do
	cp loop.lfs l.lfs
	n=hostile_loop_$(echo "$cmd" | tr -c 'a-zA-Z\n' _)
	# shellcheck disable=SC2086
	timeout 60 "$LF" $cmd l.lfs:/d >/dev/null 2>"$T/e"; rc=$?
	if [ $rc -eq 4 ] && grep -q "directory loop" "$T/e"; then pass "$n"; else
		fail "$n" "exit $rc: $(head -c 300 "$T/e")"; fi
done
cp loop.lfs l.lfs
"$LF" rm -r l.lfs:/d >/dev/null 2>&1
expect_out hostile_loop_rm_kept_the_rest "d" "$LF" ls l.lfs:/

for name in '..' '.' 'a/b' '' 'x\ny'; do
	"$LF" mkfs -q -f n.lfs && "$LF" mkdir n.lfs:/d && "$LF" touch n.lfs:/d/f &&
		"$C" n.lfs link /d "$name" /d/f >/dev/null 2>&1 || { fail hostile_name_setup "[$name]"; continue; }
	bad=""
	for cmd in "ls -la" "ls -R --json" "tree" "stat" "rm -r"; do
		# shellcheck disable=SC2086
		timeout 60 "$LF" $cmd n.lfs:/d >/dev/null 2>"$T/e"; rc=$?
		[ $rc -ge 5 ] || grep -q "AddressSanitizer\|runtime error" "$T/e" && bad="$bad [$cmd]=$rc"
	done
	label=$(printf '%s' "$name" | od -An -c | tr -s ' ' | tr ' ' '_')
	[ -z "$bad" ] && pass "hostile_name${label}_no_crash" || fail "hostile_name${label}" "$bad $(head -c 200 "$T/e")"
done

# a legal but deep tree (800 levels, a 1600-byte path; 8 MiB of stack ran
# out at about 700 levels when each level kept its path buffers): the recursive
# commands must not run out of stack
"$LF" mkfs -q -f deep.lfs
p=$(awk 'BEGIN { for (i = 0; i < 800; i++) printf "/d" }')
if "$LF" mkdir -p "deep.lfs:$p" 2>"$T/e"; then
	expect_out deep_tree "800 directories, 0 files" sh -c "'$LF' tree deep.lfs: | tail -1"
	expect_out deep_ls_R "2401" sh -c "'$LF' ls -R deep.lfs: | wc -l | tr -d ' '"
	ok deep_rm_r "$LF" rm -r deep.lfs:/d
	expect_out deep_rm_r_empty "" "$LF" ls deep.lfs:
else
	fail deep_mkdir_p "$(head -c 300 "$T/e")"
fi
