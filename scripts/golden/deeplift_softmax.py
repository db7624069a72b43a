"""Fixture for DeepLIFT's softmax rule (issue 18): a small ReLU/Tanh CNN ending in nn.Softmax.

Why: our autodiff's `deeplift` rule set rewrites Softmax's backward step in the ONNX graph; the reference is
PyTorch with backward hooks on the activation modules as Captum's DeepLift sets them (captum/attr/_core/
deep_lift.py, `nonlinear` and `softmax`), the batch holding the input and then its reference:
  ReLU, Tanh: grad_input -> where(|dx| < eps, grad_input, grad_output * dy / dx)
  Softmax:    the same, minus its mean over the softmax's classes, per row.
Captum subtracts one mean over the whole grad_input tensor (both rows); with one input and one reference both
rows are equal away from the fallback, so the two means agree here, and the script checks that they do.
Computed in float64 on a copy of the float32 weights; eps is 1e-6 as in our rules (rules/rescale.ts).

Run by hand (CI has no torch), from the repository root:
    /usr/bin/python3 scripts/golden/deeplift_softmax.py
It writes test/fixtures/deeplift/{softmax.onnx, softmax.json} (a few KB each).
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from common import export_onnx, seed_everything  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "deeplift"
SIZE = 8
CLASSES = 5
EPS = 1e-6


class SoftmaxNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.act1 = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        self.act2 = nn.Tanh()
        self.fc1 = nn.Linear(4 * 4 * 4, 8)
        self.act3 = nn.ReLU()
        self.fc2 = nn.Linear(8, CLASSES)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x = self.act2(self.conv2(self.act1(self.conv1(x))))
        return self.softmax(self.fc2(self.act3(self.fc1(torch.flatten(x, 1)))))


def differences(t: torch.Tensor) -> torch.Tensor:
    """t[:n] - t[n:], repeated for both halves."""
    a, b = t.chunk(2)
    return torch.cat([a - b, a - b])


def multipliers(module: nn.Module, x: np.ndarray, reference: np.ndarray, target: int) -> tuple[np.ndarray, float]:
    """DeepLIFT's multipliers for the input row, and the largest gap between Captum's softmax mean and ours."""
    m = copy.deepcopy(module).double()
    saved: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]] = {}
    gap = [0.0]

    def keep(mod, inputs, output):
        saved[mod] = (inputs[0].detach(), output.detach())

    def rescale(mod, grad_input, grad_output):
        x_in, y_out = saved[mod]
        d_in, d_out = differences(x_in), differences(y_out)
        safe = torch.where(d_in.abs() < EPS, torch.ones_like(d_in), d_in)
        raw = torch.where(d_in.abs() < EPS, grad_input[0], grad_output[0] * d_out / safe)
        if not isinstance(mod, nn.Softmax):
            return (raw,)
        ours = raw - raw.mean(dim=1, keepdim=True)
        captum = raw - raw.sum() / raw.numel()
        gap[0] = max(gap[0], float((ours - captum).abs().max()))
        return (ours,)

    hooks = []
    for sub in m.modules():
        if isinstance(sub, (nn.ReLU, nn.Tanh, nn.Softmax)):
            hooks.append(sub.register_forward_hook(keep))
            hooks.append(sub.register_full_backward_hook(rescale))
    batch = torch.from_numpy(np.concatenate([x, reference])).double().requires_grad_(True)
    out = m(batch)
    (grad,) = torch.autograd.grad(out[:, target].sum(), batch)
    for h in hooks:
        h.remove()
    return grad[:1].numpy(), gap[0]


def main() -> None:
    seed_everything(1818)
    OUT.mkdir(parents=True, exist_ok=True)
    net = SoftmaxNet().eval()
    x = np.random.uniform(-2, 2, (1, 3, SIZE, SIZE)).astype(np.float32)
    references = {
        "black": np.zeros_like(x),
        "noise": np.random.uniform(-2, 2, x.shape).astype(np.float32),
    }
    export_onnx(net, torch.from_numpy(x), OUT / "softmax.onnx", opset=13)
    cases = []
    with torch.no_grad():
        scores = net.double()(torch.from_numpy(np.concatenate([x, *references.values()])).double()).numpy()
    net.float()
    for i, (name, reference) in enumerate(references.items()):
        for target in (1, 3):
            m, gap = multipliers(net, x, reference, target)
            assert gap < 1e-12, f"Captum's whole-tensor mean and ours differ by {gap}"
            attribution = (x.astype(np.float64) - reference) * m
            cases.append(
                {
                    "reference": name,
                    "target": target,
                    "multipliers": m.ravel().tolist(),
                    "attributionSum": float(attribution.sum()),
                    "scoreChange": float(scores[0, target] - scores[1 + i, target]),
                }
            )
            print(name, target, "sum", cases[-1]["attributionSum"], "change", cases[-1]["scoreChange"])
    doc = {
        "why": "DeepLIFT multipliers with Captum's softmax rule, PyTorch backward hooks in float64 "
        "(scripts/golden/deeplift_softmax.py)",
        "dims": [1, 3, SIZE, SIZE],
        "input": x.ravel().tolist(),
        "references": {k: v.ravel().tolist() for k, v in references.items()},
        "cases": cases,
    }
    (OUT / "softmax.json").write_text(json.dumps(doc))


if __name__ == "__main__":
    main()
