#!/bin/sh
# tests/bench/cp.sh — `lightfs cp` against the tools users would pick
# instead, side by side in one run, durable on both sides (each timed
# command ends with sync).  Run by `make bench` (tests/bench/run.sh) in a
# fresh journaled ext4 ($BENCH_DIR, the current directory).
#
#   (1) a 1 GiB file of random bytes and a 1 GiB compressible text file
#       copied in (MB/s) and read back to /dev/null (MB/s); every tool
#       takes turns with the others for CP_BENCH_ROUNDS rounds and the
#       medians are compared (a tool over CP_BENCH_FAR times slower than
#       lightfs in the first round runs once: its row says so);
#   (2) /usr/include copied in and extracted (files/s), image sizes.
# Peers: cp + sync, tar, tar --zstd, sqlite3 -A (sqlar), mcopy into a FAT
# image (mtools), debugfs write and mke2fs -d into ext4, mksquashfs -comp
# zstd (level 3, as tar --zstd).  A peer that is not installed is left out (named).  Ratios are
# lightfs / peer (> 1 means lightfs is faster, or smaller for sizes).
#   CP_BENCH_MB=256 sh tests/bench/cp.sh     smaller large files
LF=${LIGHTFS:?run through make bench}
MB=${CP_BENCH_MB:-1024}
TREE=${CP_BENCH_TREE:-/usr/include}
B=$PWD/cp-bench
rm -rf "$B" && mkdir -p "$B" && cd "$B" || exit 1
trap 'cd /; rm -rf "$B"' EXIT INT TERM

have() { command -v "$1" >/dev/null 2>&1; }
# ms CMD: wall milliseconds of `sh -c CMD` (failures named, empty result)
ms() {
	s=$(date +%s%N)
	if ! sh -c "$1" >/dev/null 2>"$B/err"; then
		echo "  (failed: $1: $(head -c 200 "$B/err"))" >&2
		echo ""
		return
	fi
	e=$(date +%s%N)
	echo $(((e - s) / 1000000))
}
rate() { [ -n "$2" ] && awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / (t > 0 ? t : 1) * 1000 }'; }
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
row() {   # LABEL VALUE UNIT [REF_VALUE]
	if [ -z "$2" ]; then printf '  %-58s %12s\n' "$1" "failed"; return; fi
	if [ -n "${4:-}" ]; then
		printf '  %-58s %12s %-8s lightfs/peer %s\n' "$1" "$2" "$3" "$(ratio "$4" "$2")"
	else
		printf '  %-58s %12s %s\n' "$1" "$2" "$3"
	fi
}
fresh() { rm -rf "$@"; sync; }
# rec NAME TIME: record a time of NAME (a failed run: x); med NAME: the
# median of NAME's times (empty if one failed).  Commands that are timed
# more than once run CP_BENCH_ROUNDS times (default 3), taking turns with
# their peers: on a shared 2-core machine one run swings by up to 2x.
R=${CP_BENCH_ROUNDS:-3}
rec() { eval "T_$1=\"\${T_$1:-} \${2:-x}\""; }
med() {
	eval "l=\${T_$1:-}"
	case " $l " in *" x "*|"  ") echo ""; return ;; esac
	echo $l | tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

LCAT="$LF cat"
echo x >probe && "$LF" mkfs probe.lfs >/dev/null 2>&1 && "$LF" cp probe probe.lfs:/p >/dev/null 2>&1 &&
	"$LF" cat probe.lfs:/p >/dev/null 2>&1 || LCAT="$LF cp --no-progress"
rm -f probe probe.lfs
case $LCAT in *cp*) LCATSUF=" -" ;; *) LCATSUF="" ;; esac

missing=""
for t in mcopy mkfs.vfat sqlite3 debugfs mke2fs mksquashfs unsquashfs zstd; do
	have $t || missing="$missing $t"
done
[ -n "$missing" ] && echo "  not installed (left out):$missing (make deps-bench installs them)"

# ------------------------------------------------------------ large files
echo "  making ${MB} MiB random and ${MB} MiB text files..."
head -c $((MB * 1048576)) /dev/urandom >random.bin
: >text.txt
while [ "$(stat -c %s text.txt)" -lt $((MB * 1048576)) ]; do
	find "$TREE" -type f -name '*.h' -exec cat {} + >>text.txt 2>/dev/null
done
truncate -s $((MB * 1048576)) text.txt
sync
bytes=$((MB * 1048576))
imgsz=$(((MB + 256) * 1048576))

# Every tool of this part takes turns with the others for R rounds and is
# compared by its median.  A peer more than FAR (4) times slower than
# lightfs in the first round is far behind whatever the load: it is timed
# in that round only (said in its row) to keep the bench short.
FAR=${CP_BENCH_FAR:-4}
# in_setup/in_cmd TOOL: prepare for and the command of TOOL copying $f in
in_setup() {
	case $1 in
	li) fresh l.lfs; "$LF" mkfs l.lfs >/dev/null ;;
	lz) fresh lz.lfs; "$LF" mkfs --compress zstd lz.lfs >/dev/null ;;
	cpi) fresh out.bin ;;
	tar) fresh x.tar ;;
	tarz) fresh x.tar.zst ;;
	sqlar) fresh x.sqlar ;;
	mcopy) fresh fat.img; mkfs.vfat -C fat.img $((imgsz / 1024)) >/dev/null 2>&1; sync ;;
	debugfs) fresh e2.img; mke2fs -q -F -t ext4 e2.img $((imgsz / 1024))k >/dev/null 2>&1; sync ;;
	mke2fs) fresh e2d.img; mkdir -p d && ln -f $f d/f ;;
	sq) fresh sq.img; mkdir -p d && ln -f $f d/f ;;
	esac
}
in_cmd() {
	case $1 in
	li) echo "'$LF' cp --no-progress $f l.lfs:/f && sync" ;;
	lz) echo "'$LF' cp --no-progress $f lz.lfs:/f && sync" ;;
	cpi) echo "cp $f out.bin && sync" ;;
	tar) echo "tar cf x.tar $f && sync" ;;
	tarz) echo "tar --zstd -cf x.tar.zst $f && sync" ;;
	sqlar) echo "sqlite3 x.sqlar -Ac $f && sync" ;;
	mcopy) echo "mcopy -i fat.img $f ::/f && sync" ;;
	debugfs) echo "debugfs -w -R 'write $f f' e2.img && sync" ;;
	mke2fs) echo "mke2fs -q -F -t ext4 -d d e2d.img $((imgsz / 1024))k && sync" ;;
	sq) echo "mksquashfs d sq.img -comp zstd -Xcompression-level 3 -noappend -quiet -no-progress && sync" ;;
	esac
}
# after timing: what is not read back later is removed (disk space)
in_done() {
	case $1 in
	cpi) fresh out.bin ;; tar) fresh x.tar ;; tarz) fresh x.tar.zst ;;
	sqlar)   # sqlite3 -A exits 0 even when the blob is over SQLite's 1e9-byte limit
		[ "$(sqlite3 x.sqlar "select sz from sqlar" 2>/dev/null)" = "$bytes" ] ||
			{ eval "T_sqlar=\"\${T_sqlar% *} x\""; sqlbig=1; }
		fresh x.sqlar ;;
	mke2fs) fresh e2d.img ;;
	esac
}
out_cmd() {
	case $1 in
	lc) echo "$LCAT l.lfs:/f$LCATSUF >/dev/null" ;;
	lzc) echo "$LCAT lz.lfs:/f$LCATSUF >/dev/null" ;;
	cat) echo "cat $f >/dev/null" ;;
	mtype) echo "mtype -i fat.img ::/f >/dev/null" ;;
	dcat) echo "debugfs -R 'cat f' e2.img >/dev/null" ;;
	uncat) echo "unsquashfs -cat sq.img f >/dev/null" ;;
	esac
}
# rounds LIGHTFS TOOL...: R rounds taking turns (each rotated by one so no
# tool always follows the same one); SETUP/CMD/DONE are the $pre functions.
# Sets T_TOOL (times) and N_TOOL (rounds run).
rounds() {
	ref=$1; shift
	for t in "$@"; do eval "T_$t= N_$t=0 F_$t="; done
	for r in $(seq "$R"); do
		for t in "$@"; do
			eval "far=\$F_$t"
			[ -n "$far" ] && continue
			[ "$pre" = in ] && in_setup "$t"
			rec "$t" "$(ms "$(${pre}_cmd "$t")")"
			eval "N_$t=\$((N_$t + 1))"
			[ "$pre" = in ] && in_done "$t"
		done
		if [ "$r" = 1 ]; then
			eval "t0=\$(echo \$T_$ref)"
			for t in "$@"; do
				eval "t1=\$(echo \$T_$t)"
				if [ "$t1" = x ]; then
					eval "F_$t=failed"     # not retried
				elif [ "$t0" != x ] && [ "$t" != "$ref" ] && [ "$t1" -gt $((t0 * FAR)) ]; then
					eval "F_$t=far"
				fi
			done
		fi
		set -- "$@" "$1"; shift   # rotate the order for the next round
	done
}
# the row label's suffix: how many rounds TOOL's median is of
of() { eval "n=\$N_$1 w=\$F_$1"; [ "$w" = far ] && echo " [$n round: > ${FAR}x lightfs]"; }

for f in random.bin text.txt; do
	echo
	echo "  $f ($MB MiB) in, durable (MB/s; every tool the median of $R alternating rounds):"
	tools="li cpi lz tar"
	have zstd && tools="$tools tarz"
	have sqlite3 && tools="$tools sqlar"
	have mcopy && have mkfs.vfat && tools="$tools mcopy"
	have debugfs && have mke2fs && tools="$tools debugfs mke2fs"
	have mksquashfs && tools="$tools sq"
	sqlbig=
	pre=in; rounds li $tools
	r_l=$(rate $MB "$(med li)")
	row "lightfs cp" "$r_l" MB/s
	row "lightfs cp (--compress zstd)$(of lz)" "$(rate $MB "$(med lz)")" MB/s
	r_cp=$(rate $MB "$(med cpi)"); row "cp + sync" "$r_cp" MB/s "$r_l"
	row "tar + sync$(of tar)" "$(rate $MB "$(med tar)")" MB/s "$r_l"
	have zstd && row "tar --zstd + sync$(of tarz)" "$(rate $MB "$(med tarz)")" MB/s "$r_l"
	if have sqlite3; then
		[ -n "$sqlbig" ] && echo "  (sqlite3 -A did not store $f: SQLite blobs are limited to 1e9 bytes)"
		row "sqlite3 -A + sync$(of sqlar)" "$(rate $MB "$(med sqlar)")" MB/s "$r_l"
	fi
	best=""
	for t in mcopy debugfs mke2fs sq; do
		case " $tools " in *" $t "*) ;; *) continue ;; esac
		case $t in
		mcopy) lab="mcopy (FAT image) + sync" ;;
		debugfs) lab="debugfs write (ext4 image) + sync" ;;
		mke2fs) lab="mke2fs -d + sync" ;;
		sq) lab="mksquashfs -comp zstd (level 3) + sync" ;;
		esac
		v=$(rate $MB "$(med $t)")
		row "$lab$(of $t)" "$v" MB/s "$r_l"
		[ -n "$v" ] && { [ -z "$best" ] || [ "$v" -gt "${best%% *}" ]; } && best="$v ${lab% + sync}"
	done
	[ -n "$r_cp" ] && [ -n "$r_l" ] && echo "  target: >= 0.80 x cp+sync: $(ratio "$r_l" "$r_cp")"
	[ -n "$best" ] && [ -n "$r_l" ] && echo "  target: ahead of every image tool: lightfs / best ($(echo "${best#* }")) = $(ratio "$r_l" "${best%% *}")"
	pr=""
	set -- $T_cpi
	for a in $T_li; do
		[ "$a" != x ] && [ "${1:-x}" != x ] && pr="$pr $(ratio "$1" "$a")"
		shift
	done
	echo "    lightfs cp / cp + sync, each round:$pr"
	pr=""
	for t in mcopy sq; do
		eval "tl=\$T_$t"
		set -- $tl
		[ $# = "$R" ] || continue
		p=""
		for a in $T_li; do
			[ "$a" != x ] && [ "${1:-x}" != x ] && p="$p $(ratio "$1" "$a")"
			shift
		done
		pr="$pr $t:$p"
	done
	[ -n "$pr" ] && echo "    lightfs cp / image tool, each round: $pr"

	echo "  $f read back to /dev/null (MB/s; every tool the median of $R alternating rounds):"
	cat $f >/dev/null
	tools="lc cat lzc"
	[ -f fat.img ] && tools="$tools mtype"
	[ -f e2.img ] && tools="$tools dcat"
	[ -f sq.img ] && tools="$tools uncat"
	pre=out; rounds lc $tools
	r_lc=$(rate $MB "$(med lc)")
	row "lightfs ${LCAT#"$LF" }" "$r_lc" MB/s
	row "lightfs (--compress zstd)$(of lzc)" "$(rate $MB "$(med lzc)")" MB/s
	r_cat=$(rate $MB "$(med cat)"); row "cat (host file, OS cache)" "$r_cat" MB/s "$r_lc"
	[ -f fat.img ] && row "mtype (FAT image)$(of mtype)" "$(rate $MB "$(med mtype)")" MB/s "$r_lc"
	[ -f e2.img ] && row "debugfs cat (ext4 image)$(of dcat)" "$(rate $MB "$(med dcat)")" MB/s "$r_lc"
	[ -f sq.img ] && row "unsquashfs -cat$(of uncat)" "$(rate $MB "$(med uncat)")" MB/s "$r_lc"
	[ -n "$r_cat" ] && [ -n "$r_lc" ] && echo "  target: >= 0.50 x cat: $(ratio "$r_lc" "$r_cat")"
	pr=""
	set -- $T_cat
	for a in $T_lc; do
		[ "$a" != x ] && [ "${1:-x}" != x ] && pr="$pr $(ratio "$1" "$a")"
		shift
	done
	echo "    lightfs cat / cat, each round:$pr"
	fresh l.lfs lz.lfs fat.img e2.img sq.img d
done
fresh random.bin text.txt

# ------------------------------------------------------------ a tree
# Every command of this part runs R times (see rec/med).
n=$(find "$TREE" | wc -l)
echo
echo "  $TREE ($n entries, $(du -sh "$TREE" | cut -f1)) in, durable (files/s; median of $R rounds):"
tp=$(dirname "$TREE") tb=$(basename "$TREE")
have zstd && HZ=1 || HZ=
have sqlite3 && HS=1 || HS=
have mcopy && have mkfs.vfat && HM=1 || HM=
have mke2fs && HE=1 || HE=
have mksquashfs && HQ=1 || HQ=
T_lz= T_tar= T_tarz= T_sqlar= T_mcopy= T_mke2fs= T_sq=   # (used by the large-file part)
for r in $(seq "$R"); do
	fresh t.lfs; "$LF" mkfs t.lfs >/dev/null
	rec lcp "$(ms "'$LF' cp -r --no-progress $TREE t.lfs:/t && sync")"
	fresh t.lfs; "$LF" mkfs t.lfs >/dev/null
	rec lcpp "$(ms "'$LF' cp -rp --no-progress $TREE t.lfs:/t && sync")"
	fresh tz.lfs; "$LF" mkfs --compress zstd tz.lfs >/dev/null
	rec lz "$(ms "'$LF' cp -rp --no-progress $TREE tz.lfs:/t && sync")"
	fresh ct
	rec cpr "$(ms "cp -r $TREE ct && sync")"
	fresh ct t.tar
	rec tar "$(ms "tar cf t.tar -C $tp $tb && sync")"
	[ -n "$HZ" ] && { fresh t.tar.zst; rec tarz "$(ms "tar --zstd -cf t.tar.zst -C $tp $tb && sync")"; }
	[ -n "$HS" ] && { fresh t.sqlar; rec sqlar "$(ms "cd $tp && sqlite3 $B/t.sqlar -Ac $tb && sync")"; }
	if [ -n "$HM" ]; then
		fresh tfat.img; mkfs.vfat -C tfat.img $((512 * 1024)) >/dev/null 2>&1; sync
		# FAT has no symlinks: mcopy skips them and exits 1, the rest is copied
		rec mcopy "$(ms "mcopy -s -i tfat.img $TREE ::/; sync")"
	fi
	[ -n "$HE" ] && { fresh t2.img; rec mke2fs "$(ms "mke2fs -q -F -t ext4 -d $TREE t2.img 512m && sync")"; }
	[ -n "$HQ" ] && { fresh tsq.img; rec sq "$(ms "mksquashfs $TREE tsq.img -comp zstd -Xcompression-level 3 -noappend -quiet -no-progress && sync")"; }
done
f_l=$(rate $n "$(med lcp)")
f_lp=$(rate $n "$(med lcpp)")
row "lightfs cp -r" "$f_l" files/s
row "lightfs cp -rp" "$f_lp" files/s
row "lightfs cp -rp (--compress zstd)" "$(rate $n "$(med lz)")" files/s
best=""
peer() {   # LABEL FILES/S: keep the fastest peer
	row "$1" "$2" files/s "$f_lp"
	[ -n "$2" ] && { [ -z "$best" ] || [ "$2" -gt "${best%% *}" ]; } && best="$2 $1"
}
peer "cp -r + sync" "$(rate $n "$(med cpr)")"
f_tar=$(rate $n "$(med tar)")
peer "tar + sync" "$f_tar"
[ -n "$HZ" ] && peer "tar --zstd + sync" "$(rate $n "$(med tarz)")"
[ -n "$HS" ] && peer "sqlite3 -A + sync" "$(rate $n "$(med sqlar)")"
[ -n "$HM" ] && peer "mcopy -s (FAT image) + sync" "$(rate $n "$(med mcopy)")"
[ -n "$HE" ] && peer "mke2fs -d + sync" "$(rate $n "$(med mke2fs)")"
[ -n "$HQ" ] && peer "mksquashfs -comp zstd (level 3) + sync" "$(rate $n "$(med sq)")"
[ -n "$best" ] && echo "  target: ahead of every peer: lightfs cp -rp / best peer (${best#* }) = $(ratio "$f_lp" "${best%% *}")"
[ -n "$f_tar" ] && echo "  lightfs cp -r / tar + sync = $(ratio "$f_l" "$f_tar")"
pr=""
set -- $T_tar
for a in $T_lcpp; do
	[ "$a" != x ] && [ "${1:-x}" != x ] && pr="$pr $(ratio "$1" "$a")"
	shift
done
echo "    lightfs cp -rp / tar + sync, each round:$pr"

echo "  $TREE out (extract), durable (files/s; median of $R rounds):"
for r in $(seq "$R"); do
	fresh o
	rec olcp "$(ms "'$LF' cp -rp --no-progress t.lfs:/t o && sync")"
	fresh o
	rec olz "$(ms "'$LF' cp -rp --no-progress tz.lfs:/t o && sync")"
	fresh o; mkdir o
	rec otar "$(ms "tar xf t.tar -C o && sync")"
	fresh o; mkdir o
	[ -f t.tar.zst ] && { rec otarz "$(ms "tar --zstd -xf t.tar.zst -C o && sync")"; fresh o; mkdir o; }
	[ -f t.sqlar ] && { rec osqlar "$(ms "cd o && sqlite3 $B/t.sqlar -Ax && sync")"; fresh o; mkdir o; }
	[ -f tfat.img ] && { rec omcopy "$(ms "mcopy -s -i tfat.img ::/$tb o/; sync")"; fresh o; mkdir o; }
	[ -f t2.img ] && { rec odebugfs "$(ms "debugfs -R 'rdump / o' t2.img && sync")"; fresh o; }
	[ -f tsq.img ] && { rec osq "$(ms "unsquashfs -d o -no-progress tsq.img && sync")"; fresh o; }
done
o_l=$(rate $n "$(med olcp)")
row "lightfs cp -rp (out)" "$o_l" files/s
row "lightfs cp -rp (--compress zstd)" "$(rate $n "$(med olz)")" files/s
o_tar=$(rate $n "$(med otar)")
row "tar x + sync" "$o_tar" files/s "$o_l"
[ -f t.tar.zst ] && row "tar --zstd x + sync" "$(rate $n "$(med otarz)")" files/s "$o_l"
[ -f t.sqlar ] && row "sqlite3 -Ax + sync" "$(rate $n "$(med osqlar)")" files/s "$o_l"
[ -f tfat.img ] && row "mcopy -s out + sync" "$(rate $n "$(med omcopy)")" files/s "$o_l"
[ -f t2.img ] && row "debugfs rdump + sync" "$(rate $n "$(med odebugfs)")" files/s "$o_l"
[ -f tsq.img ] && row "unsquashfs + sync" "$(rate $n "$(med osq)")" files/s "$o_l"
[ -n "$o_tar" ] && [ -n "$o_l" ] && echo "  target: >= 0.90 x tar x: $(ratio "$o_l" "$o_tar")"

echo "  $TREE image sizes (bytes):"
sz() { [ -f "$1" ] && stat -c %s "$1"; }
s_lz=$(sz tz.lfs)
row "lightfs (--compress zstd)" "$s_lz" bytes
row "lightfs (uncompressed)" "$(sz t.lfs)" bytes
[ -f t.tar.zst ] && row "tar --zstd" "$(sz t.tar.zst)" bytes
[ -f tsq.img ] && row "mksquashfs -comp zstd (level 3)" "$(sz tsq.img)" bytes
row "tar" "$(sz t.tar)" bytes
[ -f t.tar.zst ] && echo "  target: zstd image within 10% of tar --zstd: size ratio $(ratio "$s_lz" "$(sz t.tar.zst)")"
exit 0
