# lightfs — top-level Makefile.
#
#   make            build build/rel/liblightfs.a and ./lightfs (release, -O2)
#   make test       build everything with ASan+UBSan and run every test
#   make bench      run the benchmarks side by side with their peers
#   make fuzz       run every libFuzzer harness for FUZZ_SECONDS each
#   make deps       install missing Debian packages (every target needs it)
#
# Sources are discovered, not listed: lib/<layer>/*.c go into the library,
# cmd/*.c into the binary, tests/unit/test_<layer>_*.c become unit-test
# binaries linked against <layer> and the layers beneath it, tests/tools/*.c
# become helper programs for the shell tests, tests/fuzz/fuzz_*.c harnesses.
# Extra rules live in mk/*.mk (bpf skeletons, bench, fuzz, install, checks).

VERSION   := 0.1.0
CC        ?= gcc
CLANG     ?= clang
V         ?= 0
Q         := $(if $(filter 1,$(V)),,@)

PKGS_BUILD := build-essential clang llvm libbpf-dev libzstd-dev libreadline-dev libelf-dev \
              zlib1g-dev bpftool pkg-config libclang-rt-14-dev
PKGS_TEST  := strace tmux zsh fish e2fsprogs valgrind zstd python3 sqlite3 bash-completion man-db groff-base
PKGS_BENCH := liblmdb-dev libsqlite3-dev mtools squashfs-tools bpftrace linux-perf hyperfine \
              dosfstools e2fsprogs sqlite3 zstd

WARN      := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
BASEFLAGS := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -DLFS_VERSION=\"$(VERSION)\" \
             -Ilib -Ibuild/bpf -MMD -MP -pthread $(WARN)
REL_CFLAGS  := $(BASEFLAGS) -O2 -g
ASAN_CFLAGS := $(BASEFLAGS) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined -DLFS_TESTING=1
REL_LDFLAGS  := -pthread
ASAN_LDFLAGS := -pthread -fsanitize=address,undefined
LIBS := -lbpf -lelf -lz -lzstd -lreadline -lm

LAYERS   := common kv io txn fs pagecache vfs trace replay tools
# Which library layers a unit test of <layer> links (itself and everything beneath).
DEPS_common    := common
DEPS_kv        := common kv
DEPS_io        := $(DEPS_kv) io
DEPS_txn       := $(DEPS_io) txn
DEPS_fs        := $(DEPS_txn) fs
DEPS_pagecache := $(DEPS_fs) pagecache
DEPS_vfs       := $(DEPS_pagecache) vfs
DEPS_trace     := common trace
DEPS_replay    := $(DEPS_vfs) trace replay
DEPS_tools     := $(DEPS_replay) tools

LIB_SRCS  := $(sort $(wildcard $(foreach l,$(LAYERS),lib/$(l)/*.c)))
CMD_SRCS  := $(sort $(wildcard cmd/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
BPF_SRCS  := $(sort $(wildcard bpf/*.bpf.c))
SKELS     := $(patsubst bpf/%.bpf.c,build/bpf/%.skel.h,$(BPF_SRCS))

objs = $(patsubst %.c,build/$(1)/%.o,$(2))
layer_srcs = $(filter $(foreach l,$(DEPS_$(1)),lib/$(l)/%),$(LIB_SRCS))
unit_layer = $(word 2,$(subst _, ,$(notdir $(basename $(1)))))

REL_LIB  := build/rel/liblightfs.a
ASAN_LIB := build/asan/liblightfs.a
UNIT_BINS := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRCS))
TOOL_BINS := $(patsubst tests/tools/%.c,build/asan/tests/tools/%,$(TOOL_SRCS))

.PHONY: all deps deps-test deps-bench test test-build bench fuzz clean asan unit
.DEFAULT_GOAL := all

all: deps lightfs

# ---------------------------------------------------------------- deps
# Every build target depends on a stamp written once the packages are present.
build/.deps-build: Makefile
	$(Q)mkdir -p build
	$(Q)PKGS="$(PKGS_BUILD)" sh tests/deps.sh && touch $@
build/.deps-test: Makefile build/.deps-build
	$(Q)PKGS="$(PKGS_TEST)" sh tests/deps.sh && touch $@
build/.deps-bench: Makefile build/.deps-build
	$(Q)PKGS="$(PKGS_BENCH)" sh tests/deps.sh && touch $@
deps: build/.deps-build
deps-test: build/.deps-test
deps-bench: build/.deps-bench

# ---------------------------------------------------------------- compile
build/rel/%.o: %.c build/.deps-build | $(SKELS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(REL_CFLAGS) -c $< -o $@
build/asan/%.o: %.c build/.deps-build | $(SKELS)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC asan $<")
	$(Q)$(CC) $(ASAN_CFLAGS) -c $< -o $@

$(REL_LIB): $(call objs,rel,$(LIB_SRCS))
	$(Q)rm -f $@ && ar rcs $@ $^
$(ASAN_LIB): $(call objs,asan,$(LIB_SRCS))
	$(Q)rm -f $@ && ar rcs $@ $^

build/rel/lightfs: $(call objs,rel,$(CMD_SRCS)) $(REL_LIB)
	$(if $(Q),@echo "  LD      $@")
	$(Q)$(CC) $(REL_LDFLAGS) -o $@ $^ $(LIBS)
build/asan/lightfs: $(call objs,asan,$(CMD_SRCS)) $(ASAN_LIB)
	$(if $(Q),@echo "  LD asan $@")
	$(Q)$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LIBS)

lightfs: build/rel/lightfs
	$(Q)cp $< $@

# A unit test of layer L links only L and the layers beneath it, so a layer
# can be tested while a layer above it is still being written.
.SECONDEXPANSION:
$(UNIT_BINS): build/asan/tests/%: build/asan/tests/unit/%.o $$(call objs,asan,$$(call layer_srcs,$$(call unit_layer,$$*)))
	$(Q)$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LIBS)
$(TOOL_BINS): build/asan/tests/tools/%: build/asan/tests/tools/%.o $(ASAN_LIB)
	$(Q)$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LIBS)

asan: build/asan/lightfs
unit: $(UNIT_BINS)

# ---------------------------------------------------------------- test
# $$(TEST_EXTRA): expanded after mk/*.mk (below) has added to it
test-build: deps-test build/asan/lightfs build/rel/lightfs $(UNIT_BINS) $(TOOL_BINS) $$(TEST_EXTRA)
test: test-build
	$(Q)sh tests/run.sh $(T)

clean:
	rm -rf build lightfs

-include mk/*.mk
-include $(shell find build -name '*.d' 2>/dev/null)
