"""Prints the share of RISE's expected map (infinitely many masks) that lies inside a patch, per grid size,
for a score linear in the patch's mean: what RISE's mask blur alone allows, before Monte Carlo noise.

Why: issue 13 asks RISE to put 80% of the map's mass (above its minimum) inside the patch a scorer reads;
test/unit/tasks-torch.test.ts measures it on the torch scorers of task_models.py and finds about 0.60. This
says how much of the shortfall no number of masks can recover at a given grid size.

For f = mean of the mask M over the patch P (the raw scorer on a white photo: the input is the mask), the
centred RISE map is Σ_i (f_i − f̄) M_i(q) / (p N) → Cov(f, M(q)) / p, and with M(q) = Σ_j w_j(q) c_j (cells c_j
independent, kept with probability p; w_j the bilinear taps after the random shift) that is
(1 − p) / |P| · E_shift[Σ_j w_j(q) Σ_{r in P} w_j(r)]. The taps and shifts are those of
src/methods/perturbation/rise.ts (grid g, cells of ⌈size / g⌉ pixels, upsampled to (g + 1) cells, shift
below one cell, uniform). The expected map is non-negative with minimum about 0 far from the patch, so
"above its minimum" changes nothing here.

  /usr/bin/python3 scripts/golden/rise_bound.py [--size 64] [--patch 24 8 56 40] [GRID ...]
"""

from __future__ import annotations

import argparse
import math

import numpy as np


def taps(g: int, cell: int) -> np.ndarray:
    """[(g + 1) · cell, g]: the weight of each grid cell at each upsampled position (rise.ts's tap())."""
    up = (g + 1) * cell
    out = np.zeros((up, g))
    for pos in range(up):
        src = min(g - 1, max(0, ((pos + 0.5) * g) / up - 0.5))
        i0 = math.floor(src)
        i1 = min(g - 1, i0 + 1)
        out[pos, i0] += 1 - (src - i0)
        out[pos, i1] += src - i0
    return out


def expected_map(g: int, size: int, patch: tuple) -> np.ndarray:
    x0, y0, x1, y1 = patch
    cell = math.ceil(size / g)
    t = taps(g, cell)
    acc = np.zeros((size, size))
    for sy in range(cell):
        rows = t[sy : sy + size]
        for sx in range(cell):
            cols = t[sx : sx + size]
            # Σ_{r in P} w_j(r) for every cell j = (a, b), then Σ_j w_j(q) · that for every pixel q.
            in_patch = rows[y0:y1].sum(0)[:, None] * cols[x0:x1].sum(0)[None, :]
            acc += rows @ in_patch @ cols.T
    return acc


def share_inside(m: np.ndarray, patch: tuple) -> float:
    x0, y0, x1, y1 = patch
    m = m - m.min()
    return float(m[y0:y1, x0:x1].sum() / m.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--patch", type=int, nargs=4, default=(24, 8, 56, 40), metavar=("X0", "Y0", "X1", "Y1"))
    parser.add_argument("grids", type=int, nargs="*", default=[5, 7, 10, 12, 14, 16, 20, 24, 32])
    args = parser.parse_args()
    for g in args.grids:
        m = expected_map(g, args.size, tuple(args.patch))
        print(f"grid {g:3d} (cells of {math.ceil(args.size / g)} px): {share_inside(m, tuple(args.patch)):.4f} inside")


if __name__ == "__main__":
    main()
