# tests/cli/trace_lib.sh — helpers for the trace tests (sourced after lib.sh).
# trace_need_bpf: SKIP (with the kernel's reason) when eBPF tracing cannot
# run here; these machines run as root with BTF, so normally it runs.
trace_need_bpf() {
	if [ "$(id -u)" != 0 ]; then skip trace_bpf "not root: eBPF capture needs root"; return 1; fi
	if [ ! -r /sys/kernel/btf/vmlinux ]; then skip trace_bpf "kernel has no BTF (/sys/kernel/btf/vmlinux)"; return 1; fi
	if ! "$LF" trace record -q -o "$TMPDIR/probe.trace" -- true 2>"$TMPDIR/probe.err"; then
		if grep -q "cannot load\|cannot attach\|cannot open the BPF" "$TMPDIR/probe.err"; then
			skip trace_bpf "kernel refused the BPF program: $(head -c 200 "$TMPDIR/probe.err")"; return 1
		fi
	fi
	return 0
}
