# mk/demo.mk — `make demo`: the README's main-job command.
.PHONY: demo
demo: all
	$(Q)sh tests/demo.sh

# lib/replay/replay.c calls the engine through weak references while
# lib/vfs has no sources (so every binary links before the engine exists);
# once lib/vfs/*.c exist they are strong (-DLFS_ENGINE_LINKED), which pulls
# the engine out of the library, and replay.o is rebuilt when it appears.
REPLAY_ENGINE_SRCS := $(wildcard lib/vfs/*.c)
ifneq ($(REPLAY_ENGINE_SRCS),)
REPLAY_OBJS := $(foreach d,rel asan,build/$(d)/lib/replay/replay.o build/$(d)/cmd/demo.o)
$(REPLAY_OBJS): REL_CFLAGS += -DLFS_ENGINE_LINKED=1
$(REPLAY_OBJS): ASAN_CFLAGS += -DLFS_ENGINE_LINKED=1
$(REPLAY_OBJS): $(REPLAY_ENGINE_SRCS)
endif
