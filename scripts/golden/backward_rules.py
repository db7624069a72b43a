"""Fixtures for the backward-rule methods (issue 18): Guided Backprop, DeconvNet and FullGrad.

Why: our autodiff replaces ReLU-like ops' backward rules in the ONNX graph; the reference is PyTorch with
backward hooks on the activation modules, as Captum's GuidedBackprop and Deconvolution do it:
  guided:    grad_input  -> clamp(grad_input, min=0)   (forward mask, then only positive gradients)
  deconvnet: grad_input  -> clamp(grad_output, min=0)  (positive gradients, forward mask ignored)
computed in float64 on a copy of the float32 weights. The network mixes ReLU, ReLU6 and LeakyReLU with conv,
max pooling and linear layers, so each ReLU-like rule is exercised.

FullGrad (Srinivas & Fleuret 2019): a ReLU CNN with batch norm (eval mode, folded into the convolutions on
export); the reference records the score, the input-gradient x input sum and each bias's gradient sum, whose
total is the score (completeness), and the FullGrad map computed as the paper's code does (abs, min-max over
each layer's C x h x w, channel sum, bilinear upsampling with half-pixel centres as pytorch-grad-cam's cv2.resize).

Run by hand (CI has no torch), from the repository root:
    /usr/bin/python3 scripts/golden/backward_rules.py
It writes test/fixtures/backward-rules/{guided.onnx, guided.json, fullgrad.onnx, fullgrad.json} (a few KB each).
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from common import export_onnx, seed_everything  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "backward-rules"
SIZE = 12
TARGET = 2


class GuidedNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.act1 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 8, 3, padding=1)
        self.act2 = nn.ReLU6()
        self.conv3 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.act3 = nn.LeakyReLU(0.1)
        self.fc1 = nn.Linear(8 * 3 * 3, 16)
        self.act4 = nn.ReLU()
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x):
        x = self.pool(self.act1(self.conv1(x)))
        x = self.act3(self.conv3(self.act2(self.conv2(x))))
        return self.fc2(self.act4(self.fc1(torch.flatten(x, 1))))


def hooked_gradient(module: nn.Module, x: np.ndarray, mode: str) -> np.ndarray:
    m = copy.deepcopy(module).double()
    hooks = []
    for sub in m.modules():
        if isinstance(sub, (nn.ReLU, nn.ReLU6, nn.LeakyReLU)):
            if mode == "guided":
                fn = lambda _m, gin, _gout: (torch.clamp(gin[0], min=0),)  # noqa: E731
            else:
                fn = lambda _m, _gin, gout: (torch.clamp(gout[0], min=0),)  # noqa: E731
            hooks.append(sub.register_full_backward_hook(fn))
    xt = torch.from_numpy(x).double().requires_grad_(True)
    out = m(xt)
    (grad,) = torch.autograd.grad(out[:, TARGET].sum(), xt)
    for h in hooks:
        h.remove()
    return grad.numpy()


def guided_fixture() -> None:
    seed_everything(1801)
    net = GuidedNet().eval()
    # Positive biases keep a fair share of units above 0 (and some of the ReLU6 ones above 6).
    with torch.no_grad():
        net.conv2.weight.mul_(8)
        net.conv2.bias.add_(2.0)
    x = np.random.default_rng(1801).standard_normal((1, 3, SIZE, SIZE)).astype(np.float32) * 2
    export_onnx(net, torch.from_numpy(x), OUT / "guided.onnx", opset=13)
    m = copy.deepcopy(net).double()
    xt = torch.from_numpy(x).double().requires_grad_(True)
    out = m(xt)
    (plain,) = torch.autograd.grad(out[:, TARGET].sum(), xt)
    act2 = m.act2(m.conv2(m.pool(m.act1(m.conv1(xt))))).detach().numpy()
    ref = {
        "why": "Guided Backprop and DeconvNet input gradients of GuidedNet (ReLU, ReLU6, LeakyReLU 0.1) "
        "from PyTorch backward hooks in float64; see scripts/golden/backward_rules.py",
        "target": TARGET,
        "dims": list(x.shape),
        "input": x.ravel().tolist(),
        "plain": plain.numpy().ravel().tolist(),
        "guided": hooked_gradient(net, x, "guided").ravel().tolist(),
        "deconvnet": hooked_gradient(net, x, "deconv").ravel().tolist(),
        "relu6Saturated": int((act2 >= 6).sum()),
        "relu6Inside": int(((act2 > 0) & (act2 < 6)).sum()),
    }
    (OUT / "guided.json").write_text(json.dumps(ref))


class FullGradNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 6, 3, padding=1),
            nn.BatchNorm2d(6),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
        )
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


def postprocess(t: torch.Tensor, size: int) -> np.ndarray:
    """The paper's code: |t|, min-max over each image's C x h x w, channel sum, bilinear upsampling."""
    t = t.abs()
    flat = t.view(t.shape[0], -1)
    lo = flat.min(1, keepdim=True)[0].view(-1, 1, 1, 1)
    hi = flat.max(1, keepdim=True)[0].view(-1, 1, 1, 1)
    t = (t - lo) / (hi - lo + 1e-6)
    t = t.sum(1, keepdim=True)
    if t.shape[-1] != size:
        t = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)
    return t[0, 0].numpy()


def fullgrad_fixture() -> None:
    seed_everything(1803)
    net = FullGradNet()
    with torch.no_grad():
        for bn in (net.features[1], net.features[5]):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
    net.eval()
    x = np.random.default_rng(1803).standard_normal((1, 3, SIZE, SIZE)).astype(np.float32)
    export_onnx(net, torch.from_numpy(x), OUT / "fullgrad.onnx", opset=13)
    # The reference works on the folded network the ONNX file holds: conv weights w·γ/σ, biases (b − μ)γ/σ + β.
    m = copy.deepcopy(net).double()
    convs = []
    for conv, bn in ((m.features[0], m.features[1]), (m.features[4], m.features[5])):
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        folded = nn.Conv2d(conv.in_channels, conv.out_channels, 3, padding=1).double()
        with torch.no_grad():
            folded.weight.copy_(conv.weight * scale[:, None, None, None])
            folded.bias.copy_((conv.bias - bn.running_mean) * scale + bn.bias)
        convs.append(folded)
    xt = torch.from_numpy(x).double().requires_grad_(True)
    z1 = convs[0](xt)
    z2 = convs[1](F.max_pool2d(F.relu(z1), 2))
    z3 = m.fc(F.adaptive_avg_pool2d(F.relu(z2), 1).flatten(1))
    score = z3[0, TARGET]
    gx, g1, g2, g3 = torch.autograd.grad(score, (xt, z1, z2, z3))
    parts = [
        (g1 * convs[0].bias[None, :, None, None]),
        (g2 * convs[1].bias[None, :, None, None]),
        (g3 * m.fc.bias[None, :]),
    ]
    input_part = float((gx * xt).sum())
    bias_parts = [float(p.sum()) for p in parts]
    fullgrad = postprocess((gx * xt).detach(), SIZE)
    for p in parts[:2]:
        fullgrad = fullgrad + postprocess(p.detach(), SIZE)
    ref = {
        "why": "FullGrad of FullGradNet (conv + BN folded + ReLU) in float64; see scripts/golden/backward_rules.py",
        "target": TARGET,
        "dims": list(x.shape),
        "input": x.ravel().tolist(),
        "score": float(score),
        "inputPart": input_part,
        "biasParts": bias_parts,
        "map": fullgrad.ravel().tolist(),
    }
    (OUT / "fullgrad.json").write_text(json.dumps(ref))


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    guided_fixture()
    fullgrad_fixture()
    for p in sorted(OUT.iterdir()):
        print(p.name, p.stat().st_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
