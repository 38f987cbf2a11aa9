# mk/shell.mk — the shell (cmd/shell*.c, cmd/complete.c) calls the engine
# through weak references while lib/vfs has no sources yet, so the binary
# links before the engine exists; once lib/vfs/*.c exist the references are
# strong (-DLFS_ENGINE_LINKED), which pulls the engine out of the library.
# The objects depend on the engine's sources so they are rebuilt when it
# appears.
SHELL_ENGINE_SRCS := $(wildcard lib/vfs/*.c)
ifneq ($(SHELL_ENGINE_SRCS),)
SHELL_OBJS := $(foreach d,rel asan,$(foreach f,shell shell_complete complete,build/$(d)/cmd/$(f).o))
$(SHELL_OBJS): REL_CFLAGS += -DLFS_ENGINE_LINKED=1
$(SHELL_OBJS): ASAN_CFLAGS += -DLFS_ENGINE_LINKED=1
$(SHELL_OBJS): $(SHELL_ENGINE_SRCS)
endif

# tests/shell/mkimg.c builds the shell tests' image through the C API (for
# when the image commands are not there yet); it needs the engine, so it is
# built only once the engine exists.
ifneq ($(SHELL_ENGINE_SRCS),)
build/asan/tests/tools/shell_mkimg: build/asan/tests/shell/mkimg.o $(ASAN_LIB)
	$(Q)$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LIBS)
# (test-build's prerequisites are expanded before mk/*.mk is read, so
# TEST_EXTRA += would come too late: name the target directly)
test-build: build/asan/tests/tools/shell_mkimg
endif

# the shell line parser's libFuzzer harness, run briefly by fuzz_short
test-build: build/fuzz/fuzz_shell
