# mk/valgrind.mk — valgrind memcheck over the CLI test suite (issue 8).
#   make check-valgrind             every tests/cli/*.sh
#   make check-valgrind VG_T=kv     only tests whose path contains "kv"
# The tests run with $LIGHTFS / $LIGHTFS_REL pointing at a wrapper that runs
# the release binary under memcheck (tests/reliability/valgrind.sh); per test
# it prints processes, memcheck errors and the test's own results.  Logs:
# build/valgrind/.  Fails on any memcheck error.
VG_T ?=
.PHONY: check-valgrind
check-valgrind: test-build
	$(Q)sh tests/reliability/valgrind.sh $(VG_T)
