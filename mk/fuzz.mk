# mk/fuzz.mk — libFuzzer harnesses tests/fuzz/fuzz_<name>.c, built with clang
# (-fsanitize=fuzzer,address,undefined) against a clang build of lib/.
# Seed corpus: tests/fuzz/corpus/<name>/.  `make fuzz FUZZ_SECONDS=N` runs each
# for N seconds; make test runs each briefly (tests/cli/fuzz_short.sh).
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
FUZZ_CFLAGS := $(filter-out -MMD -MP,$(BASEFLAGS)) -O1 -g -fno-omit-frame-pointer \
               -fsanitize=fuzzer-no-link,address,undefined -DLFS_TESTING=1 -DLFS_FUZZING=1
FUZZ_SECONDS ?= 60
FUZZ_LIB_OBJS := $(patsubst %.c,build/fuzz/%.o,$(LIB_SRCS))

build/fuzz/lib/%.o: lib/%.c build/.deps-build | $(SKELS)
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@
build/fuzz/liblightfs.a: $(FUZZ_LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) build/fuzz/liblightfs.a
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  FUZZ    $<")
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< build/fuzz/liblightfs.a $(LIBS)

TEST_EXTRA += $(FUZZ_BINS)

.PHONY: fuzz
fuzz: $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do n=$${f#build/fuzz/fuzz_}; mkdir -p build/fuzz/corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  if $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -rss_limit_mb=2048 \
	      build/fuzz/corpus/$$n tests/fuzz/corpus/$$n >build/fuzz/$$n.log 2>&1; then \
	    grep -E 'stat::number_of_executed_units' build/fuzz/$$n.log; \
	  else grep -E 'ERROR|SUMMARY' build/fuzz/$$n.log; echo "fuzz $$n: crash (log build/fuzz/$$n.log)"; exit 1; fi; done
