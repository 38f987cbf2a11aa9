#!/bin/sh
# The demo behind `make demo` (replaced as the product grows).
set -e
cd "$(dirname "$0")/.."
./lightfs --version
./lightfs help
