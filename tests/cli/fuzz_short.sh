# Run each libFuzzer harness briefly (FUZZ_TEST_SECONDS, default 10) over its
# seed corpus; any crash fails the test.  Long runs: make fuzz FUZZ_SECONDS=N.
. "$TOP/tests/cli/lib.sh"
secs=${FUZZ_TEST_SECONDS:-10}
found=0
for f in "$TOP"/build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	found=1
	n=${f##*/fuzz_}
	mkdir -p "$TMPDIR/c_$n"
	if "$f" -print_final_stats=1 -max_total_time="$secs" -rss_limit_mb=2048 "$TMPDIR/c_$n" "$TOP/tests/fuzz/corpus/$n" >"$TMPDIR/f_$n.log" 2>&1; then
		pass "fuzz_$n ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$TMPDIR/f_$n.log" | awk '{print $2}') execs)"
		grep -q stat:: "$TMPDIR/f_$n.log" || true
	else
		fail "fuzz_$n" "$(grep -m3 -E 'ERROR|SUMMARY' "$TMPDIR/f_$n.log")"
	fi
done
[ $found = 1 ] || skip fuzz_short "no harnesses built"
