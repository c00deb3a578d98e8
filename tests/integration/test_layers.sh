#!/bin/bash
# test_layers.sh: every #include between modules of src/ points down the
# layer order of scripts/check-layers (docs/architecture.md); the failures
# name each include that points up. Needs no root and no build.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/integration/lib.sh
. tests/integration/lib.sh

out=$(scripts/check-layers 2>&1) || it_die "includes against the layer order:
$out"
it_finish
