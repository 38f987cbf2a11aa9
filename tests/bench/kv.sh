#!/bin/sh
# tests/bench/kv.sh — lib/kv against LMDB and SQLite (tests/bench/kv_bench.c).
# KV_BENCH_N / KV_BENCH_N4K: keys for the 100-byte and 4 KiB runs.
"$BENCHBIN/kv_bench" -n "${KV_BENCH_N:-500000}" -N "${KV_BENCH_N4K:-50000}" -d "${BENCH_DIR:-.}"
