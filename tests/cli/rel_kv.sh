# Short reliability campaign (issue 8) inside make test: a few power-loss
# cases through the LD_PRELOAD layer and a few kill -9 cases on `kv load`.
# Long runs: make check-powerloss / check-crash.
. "$TOP/tests/cli/lib.sh"
pl=$TOP/build/rel/tests/libpowerloss.so
if [ ! -f "$pl" ]; then skip rel_kv "libpowerloss.so not built"; exit 0; fi
LIGHTFS=$LIGHTFS_REL PL_LIB=$pl sh "$TOP/tests/reliability/pl_kv.sh" powerloss 12
LIGHTFS=$LIGHTFS_REL sh "$TOP/tests/reliability/pl_kv.sh" kill 6
exit 0
