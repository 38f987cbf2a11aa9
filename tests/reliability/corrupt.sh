# tests/reliability/corrupt.sh — corruption campaign (issue 8).
#
#   sh tests/reliability/corrupt.sh CASES [SEED]
#   env: LIGHTFS (the binary), CORRUPT_TOOL (tests/reliability/corrupt_tool),
#        TMPDIR, CORRUPT_VERBOSE=1 (one line per case), CORRUPT_LIST=FILE
#        ("SEED I" lines: cases to run first, e.g. failures to replay),
#        CORRUPT_IMAGES="NAME..." (the images to damage, see SPECS),
#        CORRUPT_SALVAGE=1 (each case also zeroes the first 64 bytes of the
#        two newest indexes: the store does not open, every repair is a
#        salvage that replays the log, with the random damage in it, from an
#        older index or from the start),
#        CORRUPT_FAILDIR (default build/rel-fail/corrupt: each failed case's
#        base and damaged image, manifest and outputs, as SEED-I.*; the
#        images built through the API differ from run to run, so a seed
#        alone may not replay a failure)
#        CORRUPT_MAXZERO=BYTES (the largest zeroed range, default 8192),
#        CORRUPT_KEEP_RELOCATED=1 (keep the images of cases where undamaged
#        files were moved intact to lost+found, too: reloc-SEED-I.*)
#
# Images of several sizes and geometries are built through the API (a tree
# of files of many sizes, a hard link, a symlink, history).  Each case copies
# one, damages it (random bit flips or a zeroed range, seeded) and checks:
#   - `fsck` exits 0 or 4 (8 when the header slots or the whole log are
#     gone: nothing left to rebuild from), never crashes; damage to a live
#     record is reported;
#   - reading every file (mount read-only, and `lightfs cat` when present)
#     never crashes and never returns wrong bytes: a file reads correctly or fails;
#   - `fsck --repair` fixes it (exit 0/1), a second `fsck` is clean, and
#     every file whose records the damage did not touch reads back
#     byte-identical at its path.
# Prints each failure with its case seed and a summary line.
set -u
CASES=${1:-100}
SEED=${2:-}
[ -n "$SEED" ] || SEED=$(( $(date +%s) % 1000000 ))
LF=${LIGHTFS:?LIGHTFS unset}
TOOL=${CORRUPT_TOOL:?CORRUPT_TOOL unset}
: "${TMPDIR:=/tmp}"
W=$(mktemp -d "$TMPDIR/corrupt.XXXXXX")
trap 'rm -rf "$W"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:exitcode=86"
echo "corrupt: $CASES random cases, seed $SEED (replay: CORRUPT_SEED=$SEED)"

# base images: name:nfiles:maxbytes:pagesize:compression; image n of seed S
# is built (once, when a case needs it) with tree seed S + n - 1
# (host: a real tree, /usr/include/x86_64-linux-gnu/bits, copied in with
# `lightfs cp -r`, compared with the host files; hostz: the same in a zstd
# image, with history: the tree also copied to /u, a file of /t rewritten
# through a second copy, then /u removed — four commands, four groups)
# The first six are the default pool (case i of seed S damages image
# (S + i) % 6 + 1, so seeds replay); CORRUPT_IMAGES="zstd zbig z16k" picks
# the pool instead (e.g. only the zstd images, BLOCK records).
SPECS="small:12:9000:4096:none medium:40:60000:4096:none big:90:400000:4096:none \
zstd:40:60000:4096:zstd p512:30:20000:512:none host:0:0:4096:none \
zbig:90:400000:4096:zstd z16k:60:200000:16384:zstd hostz:0:0:4096:zstd"
HOSTDIR=${CORRUPT_HOSTDIR:-/usr/include/x86_64-linux-gnu/bits}
POOL="1 2 3 4 5 6"
[ -d "$HOSTDIR" ] || POOL="1 2 3 4 5"
if [ -n "${CORRUPT_IMAGES:-}" ]; then
	POOL=
	for want in $CORRUPT_IMAGES; do
		n=$(echo $SPECS | tr ' ' '\n' | cut -d: -f1 | grep -nx "$want" | cut -d: -f1)
		[ -n "$n" ] || { echo "corrupt: no image named $want" >&2; exit 2; }
		case $want in host*) [ -d "$HOSTDIR" ] || continue;; esac
		POOL="$POOL $n"
	done
	echo "corrupt: images $CORRUPT_IMAGES"
fi
NIMG=$(echo $POOL | wc -w)
mkhost() {
	rm -f "$1"
	if [ "$2" = zstd ]; then
		f1=$(cd "$HOSTDIR" && ls | head -1)
		"$LF" mkfs --compress zstd "$1" && "$LF" cp -r "$HOSTDIR" "$1:/t" &&
		"$LF" cp -r "$HOSTDIR" "$1:/u" && "$LF" cp "$HOSTDIR/$f1" "$1:/t/$f1" &&
		"$LF" rm -r "$1:/u" && "$TOOL" hostman "$1" "$HOSTDIR" /t
	else
		"$LF" mkfs "$1" && "$LF" cp -r "$HOSTDIR" "$1:/t" && "$TOOL" hostman "$1" "$HOSTDIR" /t
	fi
}
base() {
	spec=$(echo $SPECS | tr ' ' '\n' | sed -n "$2p")
	bname=${spec%%:*}; r=${spec#*:}
	nf=${r%%:*}; r=${r#*:}; mb=${r%%:*}; r=${r#*:}; ps=${r%%:*}; comp=${r#*:}
	b=$W/base-$1-$bname.img
	case $bname in host*) b=$W/base-$bname.img;; esac
	if [ "$nf" = 0 ] && [ ! -f "$b" ] && ! mkhost "$b" "$comp" >"$W/mk.log" 2>&1; then
		echo "FAIL corrupt: building image $bname: $(head -3 "$W/mk.log")" >&2
		rm -f "$b"
		return 1
	fi
	if [ ! -f "$b" ] && ! "$TOOL" mktree "$b" "$(($1 + $2 - 1))" "$nf" "$mb" "$ps" "$comp" >"$W/mk.log" 2>&1; then
		echo "FAIL corrupt: building image $bname: $(head -3 "$W/mk.log")" >&2
		rm -f "$b"
		return 1
	fi
	echo "$b"
}

# the cases: "SEED I" lines (CORRUPT_LIST, e.g. past failures), then CASES random ones
: >"$W/cases"
if [ -n "${CORRUPT_LIST:-}" ] && [ -f "$CORRUPT_LIST" ]; then
	grep -v '^#' "$CORRUPT_LIST" | awk 'NF == 2' >>"$W/cases"
	echo "corrupt: $(wc -l <"$W/cases") listed cases from $CORRUPT_LIST"
fi
k=0
while [ $k -lt "$CASES" ]; do echo "$SEED $k" >>"$W/cases"; k=$((k + 1)); done
NCASES=$(wc -l <"$W/cases")

# does `lightfs cat` exist yet (the image CLI)?
CAT=0
# (on a generated image of the pool: a host image's manifest has no sizes)
catimg=1
for n in $POOL; do
	case $(echo $SPECS | tr ' ' '\n' | sed -n "${n}p") in host*) ;; *) catimg=$n; break;; esac
done
small=$(base "$SEED" $catimg) || exit 1
first=$(sed -n 2p "$small.manifest" | cut -d' ' -f5-)
if [ -n "$first" ] && "$LF" cat "$small:$first" >"$W/cat.out" 2>/dev/null &&
   "$TOOL" expect "$small" "$first" | cmp -s - "$W/cat.out"; then
	CAT=1
fi

fails=0; live_cases=0; detected=0; files_ok=0; files_lost=0; recovered=0; unopen=0
cats=0; lostrec=0; relocated=0; destroyed=0
FAILDIR=${CORRUPT_FAILDIR:-build/rel-fail/corrupt}
fail_case() {
	fails=$((fails + 1))
	echo "FAIL case $i of seed $cseed (image $img, damage seed $cs): $*"
	if mkdir -p "$FAILDIR" 2>/dev/null; then
		f=$FAILDIR/$cseed-$i
		cp "$b" "$f.base.img"; cp "$W/dmg.img" "$f.damaged.img"; cp "$b.manifest" "$f.base.img.manifest"
		cp "$b.manifest" "$f.damaged.img.manifest"; cp "$W/affected" "$f.affected"
		cat "$W/fsck1" "$W/fsck2" "$W/v2" >"$f.log" 2>/dev/null
		echo "  (images kept: $f.*)"
	fi
}
crashed() { [ "$1" -ge 128 ] || [ "$1" -eq 86 ]; }
while read -r cseed i <&3; do
	n=$(echo $POOL | cut -d' ' -f$(( (cseed + i) % NIMG + 1 )))
	img=$(echo $SPECS | tr ' ' '\n' | sed -n "${n}p" | cut -d: -f1)
	cs=$((cseed * 1000 + i))
	c=$W/case.img
	b=$(base "$cseed" "$n") || { fails=$((fails + 1)); continue; }
	cp "$b" "$c"; cp "$b.manifest" "$c.manifest"
	echo "$img" >>"$W/imgs"
	rm -f "$c.compact~"
	what=$("$TOOL" damage "$c" "$cs" "$W/affected" ${CORRUPT_SALVAGE:+salvage} 2>&1); rc=$?
	if [ $rc -ne 0 ]; then fail_case "damage tool: $what"; i=$((i + 1)); continue; fi
	live=$(echo "$what" | sed -n 's/.*live \([0-9]*\).*/\1/p')
	cp "$c" "$W/dmg.img"
	: >"$W/fsck1"; : >"$W/fsck2"; : >"$W/v2"
	[ "${CORRUPT_VERBOSE:-0}" = 1 ] && echo "case $i $img: $what"
	# 1. check
	"$LF" fsck "$c" >"$W/fsck1" 2>&1; rc=$?
	if crashed $rc; then fail_case "fsck crashed (exit $rc): $(grep -m2 -E 'ERROR|runtime error' "$W/fsck1")"
	elif [ $rc -ne 0 ] && [ $rc -ne 4 ] && [ $rc -ne 8 ]; then fail_case "fsck exit $rc: $(tail -2 "$W/fsck1")"
	elif [ $rc -eq 8 ] && ! echo "$what" | grep -q header && ! grep -q "no intact log record left" "$W/fsck1"; then fail_case "fsck exit 8 without header damage: $(tail -1 "$W/fsck1")"
	fi
	if [ "${live:-0}" -gt 0 ]; then
		live_cases=$((live_cases + 1))
		if [ $rc -eq 4 ] || [ $rc -eq 8 ]; then detected=$((detected + 1)); else
			fail_case "damage to $live live records not reported (fsck exit $rc)"; fi
	fi
	grep -q "image unreadable" "$W/fsck1" && unopen=$((unopen + 1))
	# 2. read everything from the damaged image
	"$TOOL" verify "$c" >"$W/v1" 2>&1; rc=$?
	if crashed $rc; then fail_case "read crashed (exit $rc): $(grep -m2 -E 'ERROR|runtime error' "$W/v1")"
	elif [ $rc -eq 3 ]; then fail_case "wrong bytes read from the damaged image: $(grep -m3 WRONG "$W/v1" | tr '\n' ' ')"
	elif [ $rc -ne 0 ]; then fail_case "verify exit $rc: $(tail -2 "$W/v1")"; fi
	if [ $CAT = 1 ]; then
		for p in $(sed -n '2,$p' "$c.manifest" | grep -v ' /f g/' | cut -f1 | awk 'NR % 7 == 1 { print $NF }'); do
			cats=$((cats + 1))
			"$LF" cat "$c:$p" >"$W/cat.out" 2>"$W/cat.err"; rc=$?
			if crashed $rc; then fail_case "cat $p crashed (exit $rc)"
			elif [ $rc -eq 0 ] && ! "$TOOL" expect "$c" "$p" | cmp -s - "$W/cat.out"; then
				fail_case "cat $p: wrong bytes (exit 0)"; fi
		done
	fi
	# 3. repair, re-check, and every undamaged file must be back
	"$LF" fsck --repair "$c" >"$W/fsck2" 2>&1; rc=$?
	stale=
	if [ $rc -eq 4 ] && grep -q 'records lost entirely' "$W/fsck2"; then
		lostrec=$((lostrec + 1)); stale=--stale-ok; rc=1   # said so: older contents possible
	fi
	if [ $rc -eq 8 ] && grep -q 'no intact log record left' "$W/fsck2"; then
		destroyed=$((destroyed + 1))   # nothing left to rebuild from: said so; reads must still fail
	elif crashed $rc; then fail_case "fsck --repair crashed (exit $rc): $(grep -m2 -E 'ERROR|runtime error' "$W/fsck2")"
	elif [ $rc -ne 0 ] && [ $rc -ne 1 ]; then fail_case "fsck --repair exit $rc: $(grep -v '^\(nlink\|size\)' "$W/fsck2" | tail -3 | tr '\n' ' ')"
	else
		"$LF" fsck "$c" >"$W/fsck3" 2>&1; rc=$?
		[ $rc -eq 0 ] || fail_case "fsck after repair exit $rc: $(tail -3 "$W/fsck3" | tr '\n' ' ')"
	fi
	"$TOOL" verify "$c" "$W/affected" $stale >"$W/v2" 2>&1; rc=$?
	set -- $(tail -1 "$W/v2")
	if [ "${1:-}" = ok ]; then files_ok=$((files_ok + $2)); files_lost=$((files_lost + $8)); relocated=$((relocated + ${10})); fi
	if [ "${1:-}" = ok ] && [ "${10}" -gt 0 ] && [ -n "${CORRUPT_KEEP_RELOCATED:-}" ] && mkdir -p "$FAILDIR"; then
		# not a failure: undamaged files fsck moved to lost+found intact
		f=$FAILDIR/reloc-$cseed-$i
		cp "$b" "$f.base.img"; cp "$W/dmg.img" "$f.damaged.img"; cp "$b.manifest" "$f.base.img.manifest"
		cp "$b.manifest" "$f.damaged.img.manifest"; cp "$W/affected" "$f.affected"
		cat "$W/fsck1" "$W/fsck2" "$W/v2" >"$f.log" 2>/dev/null
		echo "case $i of seed $cseed ($img): $what: ${10} undamaged files relocated (kept: $f.*)"
	fi
	if crashed $rc; then fail_case "read after repair crashed (exit $rc)"
	elif [ $rc -eq 3 ]; then fail_case "wrong bytes after repair: $(grep -m3 WRONG "$W/v2" | tr '\n' ' ')"
	elif [ $rc -eq 5 ]; then fail_case "undamaged files lost: $(grep -m3 LOST "$W/v2" | tr '\n' ' ')"
	elif [ $rc -ne 0 ]; then fail_case "verify after repair exit $rc: $(tail -2 "$W/v2")"
	else recovered=$((recovered + 1)); fi
done 3<"$W/cases"
[ -f "$W/imgs" ] && echo "corrupt: cases per image$( [ -n "${CORRUPT_SALVAGE:-}" ] && echo ' (salvage mode)'): $(sort "$W/imgs" | uniq -c | awk '{ printf "%s%s %d", (NR > 1 ? ", " : ""), $2, $1 }')"
echo "corrupt: $NCASES cases ($live_cases hit live records, $detected reported by fsck; $unopen unopenable, $lostrec with log records lost entirely$( [ $destroyed = 0 ] || echo ", $destroyed with no intact record left")), $recovered fully recovered, files read back intact $files_ok, undamaged files relocated intact to lost+found $relocated, undamaged files lost $files_lost, cat checks $cats$( [ $CAT = 1 ] || echo ' (cat command not available)'), failures $fails (seed $SEED)"
[ $fails -eq 0 ]
