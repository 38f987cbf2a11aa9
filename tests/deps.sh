#!/bin/sh
# Install the Debian packages named in $PKGS that are missing.
# Called by the Makefile's deps stamps; says what to do when it cannot.
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "lightfs: deps: installing missing Debian packages:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "lightfs: deps: not root; run as root or: sudo apt-get install$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends $missing >build/apt.log 2>&1; then
    apt-get update -q >>build/apt.log 2>&1
    if ! apt-get install -y -q --no-install-recommends $missing >>build/apt.log 2>&1; then
        echo "lightfs: deps: apt-get install failed (see build/apt.log); install by hand:$missing" >&2
        exit 1
    fi
fi
exit 0
