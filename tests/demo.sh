#!/bin/sh
# tests/demo.sh — `make demo`, the README's main job: format an image, copy
# a real tree in and back out (compared byte for byte), then replay a
# shipped trace of a real program (sqlite3) through the page cache → KV
# pipeline and print the layer-by-layer report.  The image, the copy and
# the HTML report stay in $DEMO_DIR (default /tmp/lightfs-demo).
set -e
cd "$(dirname "$0")/.."
dir=${DEMO_DIR:-/tmp/lightfs-demo}
rm -rf "$dir"
./lightfs --version
./lightfs demo "$dir"
