#!/usr/bin/env bash
# `npm run test:zoo [-- MODEL ...]`: installs Debian torch if needed, exports the torchvision zoo with
# random weights and float64 autograd gradients into a temporary folder (scripts/golden/zoo_export.py),
# then checks our ONNX autodiff against it (scripts/zoo.ts) and prints the table. Exit status: the check's.
#   SIGHTLINE_ZOO_DIR=DIR   use (and keep) this folder instead of a temporary one
#   SIGHTLINE_ZOO_SKIP_EXPORT=1  reuse the exports already in SIGHTLINE_ZOO_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
start=$(date +%s)

bash "$here/install.sh"

if [[ -n "${SIGHTLINE_ZOO_DIR:-}" ]]; then
  dir="$SIGHTLINE_ZOO_DIR"
  mkdir -p "$dir"
else
  dir="$(mktemp -d -t sightline-zoo-XXXXXX)"
  trap 'rm -rf "$dir"' EXIT
fi

if [[ -z "${SIGHTLINE_ZOO_SKIP_EXPORT:-}" ]]; then
  /usr/bin/python3 "$here/zoo_export.py" --out "$dir" "$@"
fi
status=0
(cd "$root" && npx tsx scripts/zoo.ts "$dir" "$@") || status=$?
echo "zoo: $(($(date +%s) - start)) s in all" >&2
exit "$status"
