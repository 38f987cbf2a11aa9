# Short corruption campaign (issue 8) inside make test: random bit flips and
# zeroed ranges in images of several sizes, with the ASan build: fsck and
# reads never crash nor return wrong bytes, fsck reports the damage, --repair
# recovers every undamaged file.  Long runs: make check-corrupt.  (The
# failures the campaign found are kept as exact scenarios in fsck_cli.sh
# and test_fs_fsck.c: a seed replays differently once record layouts change;
# the plain-image ones that still replay are listed in
# tests/reliability/corrupt.list and run first.)
. "$TOP/tests/cli/lib.sh"
tool=$TOP/build/asan/tests/corrupt_tool
[ -x "$tool" ] || { skip rel_corrupt "corrupt_tool not built"; exit 0; }
# a fixed seed here (CORRUPT_SEED overrides): the random exploration is
# `make check-corrupt` (README.md, FSCK AND CORRUPTION: its figures, the
# failures it found, each fixed with an exact test, and the known limits)
out=$(LIGHTFS=$LF CORRUPT_TOOL=$tool CORRUPT_LIST=$TOP/tests/reliability/corrupt.list sh "$TOP/tests/reliability/corrupt.sh" "${CORRUPT_TEST_CASES:-20}" \
	"${CORRUPT_SEED:-777}" 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
if [ $rc -eq 0 ]; then pass "rel_corrupt ($(echo "$out" | tail -1 | sed 's/^corrupt: //'))"
else fail rel_corrupt "$(echo "$out" | grep -m3 '^FAIL' | tr '\n' ' ')"; fi
