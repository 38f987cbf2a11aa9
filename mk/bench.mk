# mk/bench.mk — `make bench`: release builds of tests/bench/*.c (linked with
# the peers LMDB and SQLite), then tests/bench/run.sh runs every
# tests/bench/*.sh in name order.  BENCH=name runs one.
BENCH_SRCS := $(sort $(wildcard tests/bench/*.c))
BENCH_BINS := $(patsubst tests/bench/%.c,build/rel/bench/%,$(BENCH_SRCS))
BENCH_LIBS := -llmdb -lsqlite3

build/rel/bench/%: tests/bench/%.c $(REL_LIB) build/.deps-bench
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC bench $<")
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $< $(REL_LIB) $(LIBS) $(BENCH_LIBS)

.PHONY: bench
bench: deps-bench build/rel/lightfs $(BENCH_BINS)
	$(Q)sh tests/bench/run.sh $(BENCH)
