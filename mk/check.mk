# mk/check.mk — reliability campaigns (issue 8).  Each target prints its
# figures (iterations, cases, crashed mid-command, failures, seed).
#   make check-powerloss  PL_CASES=200 KV_CASES=100   LD_PRELOAD power loss
#   make check-crash      CRASH_CASES=200 KV_CASES=100  kill -9
#   make check            both (check-valgrind is separate: mk/valgrind.mk)
# Whole-tool campaigns: tests/reliability/crash_tool.sh (cp -r, rm -r, mv,
# compact, replay --image onto an image file); KV-level: pl_kv.sh.
# LFS_SEED=N replays a run.  Images of failed cases: build/rel-fail/.
PL_CASES    ?= 200
CRASH_CASES ?= 200
KV_CASES    ?= 100
PL_LIB := build/rel/tests/libpowerloss.so
REL_TREE := build/rel/tests/rel_tree

$(PL_LIB): tests/reliability/powerloss.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=c11 -Wall -Wextra -Werror -Wshadow -O2 -g -fPIC -shared -o $@ $< -ldl -pthread

# release build of the manifest tool: the campaigns run it after every case
$(REL_TREE): tests/tools/rel_tree.c $(REL_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $< $(REL_LIB) $(LIBS)

TEST_EXTRA += $(PL_LIB) $(REL_TREE)

.PHONY: check check-powerloss check-crash
check-powerloss: build/rel/lightfs $(PL_LIB) $(REL_TREE)
	$(Q)rc=0; sh tests/reliability/pl_kv.sh powerloss $(KV_CASES) || rc=1; \
	  sh tests/reliability/crash_tool.sh powerloss $(PL_CASES) || rc=1; exit $$rc
check-crash: build/rel/lightfs $(REL_TREE)
	$(Q)rc=0; sh tests/reliability/pl_kv.sh kill $(KV_CASES) || rc=1; \
	  sh tests/reliability/crash_tool.sh kill $(CRASH_CASES) || rc=1; exit $$rc
check: check-powerloss check-crash check-corrupt
