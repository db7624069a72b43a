"""Writes the Sobol direction numbers Sightline's Sobol attribution uses, and a reference run of the sequence.

Why: Sobol attribution (src/methods/perturbation/sobol.ts) draws its masks from an unscrambled Sobol sequence,
as xplique's default sampler (scipy.stats.qmc.Sobol, scramble=False) does. The direction numbers are Joe and
Kuo's (new-joe-kuo-6.21201, the table scipy ships); we keep the first MAX_DIMS of them in
src/methods/perturbation/sobol-directions.ts, and test/fixtures/sobol/scipy-256x288.u8 holds scipy's first
256 points in MAX_DIMS dimensions (each point is k / 256 there, stored as the byte k, point-major), which
test/unit/methods-sobol.test.ts compares our generator with.

Run by hand with a Python that has scipy (the pyenv `python3` here; Debian's has none):
    python3 scripts/golden/sobol_directions.py
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import scipy
from scipy.stats import qmc

MAX_DIMS = 288  # 2 · 12²: two mask designs of the largest grid (12 × 12) the method offers
POINTS = 256

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    table = np.load(os.path.join(os.path.dirname(scipy.__file__), "stats", "_sobol_direction_numbers.npz"))
    poly, vinit = table["poly"], table["vinit"]
    entries = []
    for d in range(MAX_DIMS):
        degree = int(poly[d]).bit_length() - 1
        entries.append(" ".join(str(int(v)) for v in [poly[d], *vinit[d][: max(degree, 1)]]))
    lines = []
    line = ""
    for entry in entries:
        piece = entry + ";"
        if len(line) + len(piece) > 100:
            lines.append(line)
            line = ""
        line += piece
    lines.append(line)
    body = "\n".join(f"  '{l}' +" for l in lines)[: -len(" +")]
    (ROOT / "src/methods/perturbation/sobol-directions.ts").write_text(
        "// Written by scripts/golden/sobol_directions.py from the table scipy ships (Joe & Kuo, new-joe-kuo-6.21201):\n"
        "// per dimension, the primitive polynomial with its leading and trailing bits (3 = x + 1) and the initial\n"
        "// direction numbers m_1 … m_s, s the polynomial's degree; dimension 0 is van der Corput's (all m = 1).\n"
        f"export const SOBOL_MAX_DIMS = {MAX_DIMS};\n\n"
        "export const SOBOL_DIRECTIONS =\n" + body + ";\n"
    )
    points = qmc.Sobol(MAX_DIMS, scramble=False).random(POINTS)
    (ROOT / "test/fixtures/sobol/scipy-256x288.u8").write_bytes(np.round(points * 256).astype(np.uint8).tobytes())


if __name__ == "__main__":
    main()
