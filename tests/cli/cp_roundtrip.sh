#!/bin/sh
# Round trips of real trees no one here wrote: copied into an image with
# `cp -rp` and back out, they must be identical under `diff -r` (contents,
# symlinks not followed) with modes, symlink targets and mtimes preserved —
# with the default image, with `mkfs --compress zstd` and with `-b 16384`.
# The ASan binary copies subsets, the release build (when built) the full
# /usr/include and /usr/share/zoneinfo.  Works in /dev/shm when it can (the
# test tmp dir may be on an ext4 whose file creation after deletes is slow).
. "$TOP/tests/cli/lib.sh"
REL=${LIGHTFS_REL:-}
W=$(mktemp -d /dev/shm/lfs-cp-rt.XXXXXX 2>/dev/null) || W=$TMPDIR/rt
mkdir -p "$W" && cd "$W" || exit 1
trap 'cd /; rm -rf "$W"' EXIT INT TERM

# one line per entry: type, mode, mtime (ns), symlink target, size of
# non-directories, path (directory sizes are the host filesystem's own)
listing() {
	(cd "$1" && find . -printf '%y %m %T@ %l %p\n' | sort) >"$2.l1"
	(cd "$1" && find . ! -type d -printf '%s %p\n' | sort) >"$2.l2"
	cat "$2.l1" "$2.l2"
}

fsck_ok() {   # NAME IMAGE
	if "$1" help fsck 2>/dev/null | grep -q '^usage' && ! "$1" fsck "$3" 2>&1 | grep -q 'not implemented'; then
		ok "$2" "$1" fsck "$3"
	else
		skip "$2" "lightfs fsck is not implemented yet"
	fi
}

# rt NAME BINARY SRC [MKFS OPTIONS...]
rt() {
	name=$1 bin=$2 src=$3
	shift 3
	img=$W/$name.lfs
	rm -rf "$W/$name.out" "$img"
	if ! "$bin" mkfs "$@" "$img" >/dev/null 2>"$W/err"; then
		fail "${name}_mkfs" "mkfs $*: $(head -c 300 "$W/err")"
		return
	fi
	ok "${name}_in" "$bin" cp -rp "$src" "$img:/tree"
	ok "${name}_out" "$bin" cp -rp "$img:/tree" "$W/$name.out"
	if diff -r --no-dereference "$src" "$W/$name.out" >"$W/diff" 2>&1; then
		pass "${name}_diff"
	else
		fail "${name}_diff" "$(head -c 400 "$W/diff")"
	fi
	listing "$src" "$W/a" >"$W/la"
	listing "$W/$name.out" "$W/b" >"$W/lb"
	if cmp -s "$W/la" "$W/lb"; then
		pass "${name}_attrs"
	else
		fail "${name}_attrs" "$(diff "$W/la" "$W/lb" | head -6)"
	fi
	fsck_ok "$bin" "${name}_fsck" "$img"
	rm -rf "$W/$name.out" "$img"
}

# ASan: subsets
rt rt_zoneinfo_asan "$LF" /usr/share/zoneinfo
rt rt_linux_zstd_asan "$LF" /usr/include/linux --compress zstd
rt rt_linux_b16k_asan "$LF" /usr/include/linux -b 16384

# release build: the full trees
if [ -n "$REL" ] && [ -x "$REL" ]; then
	rt rt_include "$REL" /usr/include
	rt rt_include_zstd "$REL" /usr/include --compress zstd
	rt rt_include_b16k "$REL" /usr/include -b 16384
	rt rt_zoneinfo_zstd "$REL" /usr/share/zoneinfo --compress zstd
else
	skip rt_include "release build ($REL) not built"
fi
