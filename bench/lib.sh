# Sourced by the bench scripts after `set -euo pipefail`: the build folder from their first
# argument (default `build`), the ddrr binary in it, and a scratch folder removed on exit.
build=${1:-build}
ddrr="$build/bin/ddrr"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The samples' file rendezvous, in the scratch folder.
use_sample_bootstrap() {
  export DDRR_SAMPLE_BOOTSTRAP_DIR="$out/bootstrap"
  mkdir -p "$DDRR_SAMPLE_BOOTSTRAP_DIR"
}
