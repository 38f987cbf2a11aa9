#!/bin/sh
# traces/record.sh — re-record the shipped traces (as root, on a machine
# with BTF; needs tar, gzip, sqlite3, git, gcc).  Every trace is a real run
# of a real program captured by `lightfs trace record`; the workloads run in
# /tmp/lightfs-wl so `--root /tmp/lightfs-wl` selects just their files.
#   sh traces/record.sh [NAME...]      NAME: tar-xf sqlite git-commit gcc cp-r
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
LF=${LIGHTFS:-$top/lightfs}
out=$top/traces
wl=/tmp/lightfs-wl
names=${*:-tar-xf sqlite git-commit gcc cp-r}

prepare() {
	rm -rf "$wl"; mkdir -p "$wl"; cd "$wl"
	# inputs: a real source tree (googletest from /usr/src, else lightfs's lib/)
	src=/usr/src/googletest; [ -d "$src" ] || src=$top/lib
	tar czf src.tar.gz -C "$(dirname "$src")" "$(basename "$src")"
	mkdir tree && tar xzf src.tar.gz -C tree
	mkdir prog && cat > prog/main.c <<'C'
#include <stdio.h>
#include "util.h"
int main(void) { printf("%d\n", triple(14)); return 0; }
C
	cat > prog/util.c <<'C'
#include "util.h"
int triple(int x) { return 3 * x; }
C
	printf 'int triple(int x);\n' > prog/util.h
	sync
}

rec() {  # rec NAME CMD...
	name=$1; shift
	"$LF" trace record -q -o "$out/$name.trace" -- "$@"
	echo "recorded $name: $(du -h "$out/$name.trace" | cut -f1) ($*)"
}

for n in $names; do
	prepare
	case $n in
	tar-xf)     # the biggest: a tarball of /usr/include (C headers, ~130 MB)
		tar czf inc.tar.gz -C /usr include
		rec tar-xf sh -c 'cd /tmp/lightfs-wl && mkdir x && tar xzf inc.tar.gz -C x' ;;
	sqlite)     rec sqlite sh -c 'cd /tmp/lightfs-wl && sqlite3 test.db "
			CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);
			BEGIN; WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<20000)
			INSERT INTO t(name, v) SELECT printf(\"row-%d\", i), i*0.5 FROM c; COMMIT;
			CREATE INDEX tv ON t(v);
			INSERT INTO t(name, v) VALUES (\"a\", 1); INSERT INTO t(name, v) VALUES (\"b\", 2);
			SELECT count(*), sum(v) FROM t WHERE v > 100;" >/dev/null &&
		for i in $(seq 1 200); do echo "INSERT INTO t(name, v) VALUES (\"txn-$i\", $i);"; done |
		sqlite3 test.db && sqlite3 test.db "
			UPDATE t SET v = v + 1 WHERE id % 10 = 0;
			DELETE FROM t WHERE id % 7 = 0; VACUUM;
			SELECT count(*), sum(v) FROM t WHERE v > 100;
			SELECT name FROM t WHERE id % 997 = 0;" >/dev/null' ;;
	git-commit) rec git-commit sh -c 'cd /tmp/lightfs-wl/tree && git init -q && git add -A &&
			git -c user.name=lightfs -c user.email=lightfs@example.org commit -q -m import' ;;
	gcc)        rec gcc sh -c 'cd /tmp/lightfs-wl/prog && gcc -O2 -o prog main.c util.c && ./prog >/dev/null' ;;
	cp-r)       rec cp-r sh -c 'cd /tmp/lightfs-wl && cp -r tree tree-copy' ;;
	*) echo "unknown trace $n" >&2; exit 2 ;;
	esac
done
rm -rf "$wl"
