# mk/kv.mk — a release build of the KV scale-test helper: the scale test
# (tests/cli/kv_scale.sh) writes 6 million records, too slow under ASan.
build/rel/tests/tools/kv_scale: build/rel/tests/tools/kv_scale.o $(REL_LIB)
	$(Q)$(CC) $(REL_LDFLAGS) -o $@ $^ $(LIBS)
TEST_EXTRA += build/rel/tests/tools/kv_scale
