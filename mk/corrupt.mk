# mk/corrupt.mk — the corruption campaign (issue 8): random bit flips and
# zeroed ranges in images of several sizes; open / fsck / read never crash
# nor return wrong bytes, fsck reports the damage and --repair recovers every
# undamaged file.  `make check-corrupt CORRUPT_CASES=N [CORRUPT_SEED=S]`;
# a short run is tests/cli/rel_corrupt.sh in make test.
CORRUPT_CASES ?= 300
CORRUPT_LIST ?= tests/reliability/corrupt.list
CORRUPT_TOOL_ASAN := build/asan/tests/corrupt_tool
CORRUPT_TOOL_REL  := build/rel/tests/corrupt_tool

$(CORRUPT_TOOL_ASAN): build/asan/tests/reliability/corrupt_tool.o $(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LIBS)
$(CORRUPT_TOOL_REL): build/rel/tests/reliability/corrupt_tool.o $(REL_LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(REL_LDFLAGS) -o $@ $^ $(LIBS)

# (test-build's prerequisites are expanded before mk/*.mk is read: name it)
test-build: $(CORRUPT_TOOL_ASAN) $(CORRUPT_TOOL_REL)

.PHONY: check-corrupt
check-corrupt: build/rel/lightfs $(CORRUPT_TOOL_REL)
	$(Q)LIGHTFS=build/rel/lightfs CORRUPT_TOOL=$(CORRUPT_TOOL_REL) \
	  $(if $(CORRUPT_LIST),CORRUPT_LIST=$(CORRUPT_LIST)) \
	  $(if $(CORRUPT_IMAGES),CORRUPT_IMAGES="$(CORRUPT_IMAGES)") \
	  sh tests/reliability/corrupt.sh $(CORRUPT_CASES) $(CORRUPT_SEED)
