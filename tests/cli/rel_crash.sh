# Short whole-tool crash campaign (issue 8) inside make test: a few kill -9
# and power-loss cases of cp -r, rm -r, mv, compact and replay --image on a
# smaller tree (release binary).  Long runs: make check-crash /
# check-powerloss (tests/reliability/crash_tool.sh).
. "$TOP/tests/cli/lib.sh"
pl=$TOP/build/rel/tests/libpowerloss.so
rt=$TOP/build/rel/tests/rel_tree
[ -x "$rt" ] || { skip rel_crash "rel_tree not built"; exit 0; }
export LIGHTFS=$LIGHTFS_REL RT=$rt PL_LIB=$pl LFS_KEEP_FAIL=$TOP/build/rel-fail
export CRASH_TREE="/usr/include/linux/netfilter /usr/include/linux/usb" CRASH_BIG=1048576
sh "$TOP/tests/reliability/crash_tool.sh" kill 10
[ -f "$pl" ] && sh "$TOP/tests/reliability/crash_tool.sh" powerloss 10
exit 0
