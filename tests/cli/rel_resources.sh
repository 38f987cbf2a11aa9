# Resources (issue 8): the image's filesystem full (a 6 MiB tmpfs), few file
# descriptors (ulimit -n 4..16: with 3 the loader cannot map the libraries), the image on a read-only filesystem (a
# read-only bind mount).  Every command either succeeds or fails with a clear
# message naming the cause (exit 1, never a signal); nothing acknowledged
# before is lost; the image still opens and reads whole afterwards.
# Needs root for the mounts (skips otherwise).  Commands the build does not
# have yet (cp, ls, compact, fsck) are skipped by name.
. "$TOP/tests/cli/lib.sh"
REL=${LIGHTFS_REL:-$LF}
RT=$TOOLS/rel_tree
d=$TMPDIR/res
mkdir -p "$d"
have() { "$LF" help "$1" >"$d/help" 2>&1 && ! grep -q "not implemented yet" "$d/help"; }
mnt=$d/mnt ro=$d/ro
cleanup() { umount "$mnt" 2>/dev/null; umount "$ro" 2>/dev/null; }
trap cleanup EXIT
# clear failure: rc 1 (or 4 for corrupt: never expected here) and stderr
# naming the cause; never a signal, a sanitizer report or silence
clear_fail() { # clear_fail NAME TEXT CMD...
	n=$1 text=$2; shift 2
	"$@" >"$d/out" 2>"$d/err"; rc=$?
	if [ $rc -eq 1 ] && grep -qF -- "$text" "$d/err" && grep -q "^lightfs: " "$d/err" &&
	   ! grep -qE 'Sanitizer|runtime error' "$d/err"; then
		pass "$n (exit 1: $(grep -m1 "^lightfs: " "$d/err" | head -c 140))"
	else fail "$n" "rc $rc, want 1 with [$text]: $(head -c 300 "$d/err")"; fi
}
mkimg() { # mkimg IMG: an empty image (mkfs, or the engine's API)
	if have mkfs; then "$REL" mkfs -f "$1" >/dev/null 2>&1
	else "$TOOLS/shell_mkimg" "$1" 0 >/dev/null 2>&1; fi
}

# ---- ENOSPC -------------------------------------------------------------------
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=6m tmpfs "$mnt" 2>"$d/err"; then
	skip rel_resources_enospc "cannot mount a tmpfs: $(head -c 100 "$d/err")"
else
	img=$mnt/img.lfs
	"$REL" kv --create "$img" put acked/1 "first value" >/dev/null 2>&1
	"$REL" kv "$img" put acked/2 "second value" >/dev/null 2>&1
	"$REL" kv "$img" scan >"$d/before" 2>/dev/null
	# 12 MB of incompressible values into 6 MB: refused whole
	head -c 9000000 /dev/urandom | base64 -w 3000 | awk '{ printf "big/%05d\t%s\n", NR, $0 }' >"$d/batch"
	clear_fail "enospc: kv load of 12 MB" "No space left on device" "$LF" kv "$img" load <"$d/batch"
	"$REL" kv "$img" scan >"$d/after" 2>"$d/err"
	if cmp -s "$d/before" "$d/after"; then pass "enospc: kv image opens, acknowledged keys intact, nothing of the failed batch"
	else fail enospc_kv_after "$(head -c 200 "$d/err"; diff "$d/before" "$d/after" | head -3)"; fi
	ok "enospc: kv put works again once the failed batch is gone" "$LF" kv "$img" put acked/3 third
	rm -f "$img"*
	# replay writing a 24 MB workload onto the full filesystem
	clear_fail "enospc: replay --image" "No space left on device" "$LF" replay --image "$img" "$TOP/traces/tar-xf.trace"
	if [ -s "$img" ]; then
		"$RT" image "$img" >/dev/null 2>"$d/err" && pass "enospc: replayed image opens and reads whole" ||
			fail enospc_replay_after "$(head -c 300 "$d/err")"
	else pass "enospc: replay left no image"; fi
	rm -f "$img"*
	if have cp && mkimg "$img"; then
		mkdir -p "$d/small" "$d/big"
		for k in 1 2 3; do head -c 100000 /dev/urandom >"$d/small/s$k"; done
		for k in $(seq 1 10); do head -c 1000000 /dev/urandom >"$d/big/b$k"; done
		ok "enospc: cp of a small tree" "$LF" cp -r "$d/small" "$img:/small"
		clear_fail "enospc: cp -r of 10 MB" "No space left on device" "$LF" cp -r "$d/big" "$img:/big"
		if "$RT" image "$img" "/small" >"$d/got" 2>"$d/err" && "$RT" host "$d/small" >"$d/want" && cmp -s "$d/want" "$d/got"; then
			pass "enospc: image opens after cp failed, the acknowledged tree intact"
		else fail enospc_cp_after "$(head -c 300 "$d/err")"; fi
		if have fsck; then ok "enospc: fsck clean after the failed cp" "$LF" fsck "$img"; fi
		if have compact; then
			# fill the filesystem: compaction needs room for the new file
			head -c 100000000 /dev/zero >"$mnt/filler" 2>/dev/null
			"$LF" compact "$img" >"$d/out" 2>"$d/err"; rc=$?
			if [ $rc -eq 0 ] || { [ $rc -eq 1 ] && grep -q "No space left on device" "$d/err"; }; then
				pass "enospc: compact on a full filesystem: rc $rc $(head -c 100 "$d/err")"
			else fail enospc_compact "rc $rc: $(head -c 300 "$d/err")"; fi
			"$RT" image "$img" "/small" >"$d/got" 2>"$d/err" && cmp -s "$d/want" "$d/got" &&
				pass "enospc: image intact after compact on a full filesystem" ||
				fail enospc_compact_after "$(head -c 300 "$d/err")"
			rm -f "$mnt/filler"
		fi
	else
		skip enospc_cp "no cp in this build"
	fi
	umount "$mnt"
fi

# ---- EMFILE -------------------------------------------------------------------
img=$d/fd.lfs
"$REL" kv --create "$img" put acked/1 one >/dev/null 2>&1
mkdir -p "$d/tree"
for k in $(seq 1 30); do echo "file $k" >"$d/tree/f$k"; done
emfile() { # emfile NAME CMD...: with 4..16 fds, exit 0 or a clear 1
	n=$1; shift
	bad=""; oks=0; refusals=0
	for lim in 4 5 6 7 8 10 12 16; do
		(ulimit -n $lim && exec "$@") >"$d/out" 2>"$d/err"; rc=$?
		if [ $rc -eq 0 ]; then oks=$((oks + 1))
		elif [ $rc -eq 1 ] && grep -q "^lightfs: .*: Too many open files" "$d/err"; then refusals=$((refusals + 1))
		else bad="$bad [ulimit -n $lim: rc $rc $(head -c 160 "$d/err")]"; fi
	done
	[ -z "$bad" ] && pass "emfile: $n ($oks ran, $refusals refused with EMFILE)" || fail "emfile_$n" "$bad"
}
emfile "kv put" "$REL" kv "$img" put k v
emfile "kv scan" "$REL" kv "$img" scan
emfile "trace stat" "$REL" trace stat "$TOP/traces/gcc.trace"
emfile "replay --image" "$REL" replay --image "$d/fd2.lfs" "$TOP/traces/gcc.trace"
if have cp; then
	mkimg "$d/cp.lfs"
	emfile "cp -r in" "$REL" cp -r "$d/tree" "$d/cp.lfs:/t"
	"$REL" cp -r "$d/tree" "$d/cp.lfs:/t" >/dev/null 2>&1
	rm -rf "$d/outt"
	emfile "cp -r out" "$REL" cp -r "$d/cp.lfs:/t" "$d/outt"
	# every file any of those copies left in the image is whole (the
	# copies nest: /t, /t/tree, ...; compare by file name)
	"$RT" host "$d/tree" >"$d/want"
	if "$RT" image "$d/cp.lfs" /t >"$d/got" 2>"$d/err" &&
	   awk -F'\t' 'FILENAME == ARGV[1] { w[$1] = $2; next }
		$2 ~ /^f / { n = split($1, p, "/"); if (w[p[n]] != $2) { print "half-written: " $0; bad = 1 } }
		END { exit bad }' "$d/want" "$d/got" >"$d/why"; then
		pass "emfile: image reads whole after the EMFILE runs, every copied file whole ($(grep -c '	f ' "$d/got") files)"
	else fail emfile_after "$(head -c 300 "$d/err" "$d/why")"; fi
fi
"$REL" kv "$img" get acked/1 >"$d/v" 2>&1 && [ "$(cat "$d/v")" = one ] &&
	pass "emfile: acknowledged key intact" || fail emfile_kv_after "$(cat "$d/v")"

# ---- read-only filesystem -------------------------------------------------------
mkdir -p "$d/rosrc" "$ro"
img=$d/rosrc/img.lfs
"$REL" kv --create "$img" put acked/1 one >/dev/null 2>&1
if have cp && mkimg "$d/rosrc/fs.lfs"; then "$REL" cp -r "$d/tree" "$d/rosrc/fs.lfs:/t" >/dev/null 2>&1; fi
if ! mount --bind "$d/rosrc" "$ro" 2>"$d/err" || ! mount -o remount,bind,ro "$ro" 2>>"$d/err"; then
	skip rel_resources_rofs "cannot make a read-only bind mount: $(head -c 100 "$d/err")"
else
	cp "$img" "$d/img.copy"
	expect_out "rofs: kv get reads" "one" "$LF" kv "$ro/img.lfs" get acked/1
	ok "rofs: kv scan reads" "$LF" kv "$ro/img.lfs" scan
	clear_fail "rofs: kv put refused" "Read-only file system" "$LF" kv "$ro/img.lfs" put k v
	clear_fail "rofs: replay --image refused" "Read-only file system" "$LF" replay --image "$ro/img.lfs" "$TOP/traces/gcc.trace"
	clear_fail "rofs: kv compact refused" "Read-only file system" "$LF" kv "$ro/img.lfs" compact
	if [ -f "$d/rosrc/fs.lfs" ]; then
		have ls && ok "rofs: ls reads" "$LF" ls "$ro/fs.lfs:/t"
		have cat && expect_out "rofs: cat reads" "file 7" "$LF" cat "$ro/fs.lfs:/t/f7"
		rm -rf "$d/outt"
		ok "rofs: cp out reads" "$LF" cp -r "$ro/fs.lfs:/t" "$d/outt"
		clear_fail "rofs: cp in refused" "Read-only file system" "$LF" cp "$d/tree/f1" "$ro/fs.lfs:/new"
		have compact && clear_fail "rofs: compact refused" "Read-only file system" "$LF" compact "$ro/fs.lfs"
		have fsck && ok "rofs: fsck (check only) reads" "$LF" fsck "$ro/fs.lfs"
	fi
	cmp -s "$img" "$d/img.copy" && pass "rofs: image unchanged" || fail rofs_unchanged "image bytes changed"
	umount "$ro"
fi
exit 0
