#!/usr/bin/env bash
# Installs the Python side of the golden fixtures and the zoo check: Debian's PyTorch and torchvision.
# They run under Debian's own interpreter (/usr/bin/python3), never a pyenv or venv python, and nothing comes
# from pip. torch.onnx.export in Debian's torch 1.13 works without the `onnx` Python package, so it is not
# installed. Idempotent: when the packages are present it only checks that they import.
set -euo pipefail

# libopenblas0-pthread replaces the reference BLAS that Debian torch would otherwise use for float64 (20x slower).
PACKAGES=(python3-torch python3-torchvision python3-numpy libopenblas0-pthread)
PY=/usr/bin/python3

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "golden/install: installing ${missing[*]} with apt" >&2
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  if ! "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

if ! "$PY" -c 'import torch, torchvision, numpy' 2>/dev/null; then
  echo "golden/install: $PY cannot import torch, torchvision and numpy after installing ${PACKAGES[*]}" >&2
  exit 1
fi
