#!/bin/sh
# tests/bench/engine.sh — the engine against plain files on the same
# filesystem (tests/bench/engine_bench.c): 1 GiB sequential write + fsync,
# cold-cache sequential read, 10,000 random 4 KiB reads and writes, peak RSS
# with a 64 MiB cache.  ENGINE_BENCH_MIB / ENGINE_BENCH_OPS change the sizes.
"$BENCHBIN/engine_bench" -d "${BENCH_DIR:-.}" -s "${ENGINE_BENCH_MIB:-1024}" \
	-n "${ENGINE_BENCH_OPS:-10000}" -c 64
