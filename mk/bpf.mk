# mk/bpf.mk — eBPF programs: bpf/X.bpf.c → build/bpf/X.bpf.o (clang -target
# bpf, CO-RE) → build/bpf/X.skel.h (bpftool gen skeleton), included by the
# recorder.  Kernel types come from build/bpf/vmlinux.h, dumped from the
# running kernel's BTF when it has one, else the checked-in minimal CO-RE
# header bpf/compat/vmlinux.h (enough for bpf/*.bpf.c; CO-RE relocates it).
BPFTOOL   ?= bpftool
BPF_ARCH  := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Ibuild/bpf -Ibpf -Wall -Werror \
              -Wno-unused-function
BTF_VMLINUX ?= /sys/kernel/btf/vmlinux

build/bpf/vmlinux.h: | build/.deps-build
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  GEN     $@")
	$(Q)if [ -r $(BTF_VMLINUX) ] && $(BPFTOOL) btf dump file $(BTF_VMLINUX) format c >$@.tmp 2>/dev/null; \
	then mv $@.tmp $@; else rm -f $@.tmp; cp bpf/compat/vmlinux.h $@; fi

build/bpf/%.bpf.o: bpf/%.bpf.c bpf/%.h build/bpf/vmlinux.h build/.deps-build
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  BPF     $<")
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

build/bpf/%.skel.h: build/bpf/%.bpf.o
	$(if $(Q),@echo "  SKEL    $@")
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf >$@.tmp && mv $@.tmp $@

.PRECIOUS: build/bpf/%.bpf.o
