"""Writes test/fixtures/targets: a small torch segmenter and a small torch embedding model (random weights),
exported to ONNX, with torch's own numbers for one target of each kind:
  segment:    class c's logits summed over the pixels torch's argmax gives c (pytorch-grad-cam's
              SemanticSegmentationTarget), c the class with the most pixels;
  similarity: cos(embedding, reference) with the reference a random vector, as a text embedding would be
              (an untrained network embeds any two noise inputs almost alike, cos ≈ 0.9996, where the
              gradient is a difference of nearly equal terms).
For each: the target's value, its input gradient (autograd) and Grad-CAM on a named layer (a forward hook
keeps the activations; autograd gives their gradient), all on a float64 copy of the module.

Why: test/unit/targets-torch.test.ts checks that Sightline's target head (src/engines/onnx/target-head.ts),
appended to torch's own export and differentiated by our autodiff, gives torch's numbers: the value, the
input gradient and the layer gradient that Grad-CAM reads.

Files: segmenter.onnx, embedder.onnx, targets.json (layer names, class, values, tolerances, versions),
<model>.input.npy [1, 3, 32, 32], <model>.grad.npy (input gradient), <model>.cam.npy (Grad-CAM at the
layer's size), segmenter.mask.npy (torch's region, 1/0), embedder.reference.npy [16] (the reference vector).

  /usr/bin/python3 scripts/golden/make_target_fixtures.py [--out test/fixtures/targets]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torch import nn

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import export_onnx, seed_everything  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "test" / "fixtures" / "targets"
SIZE = 32
OPSET = 13
# The same ε core/targets.ts adds under the square root of the cosine.
COSINE_EPSILON = 1e-12


class Segmenter(nn.Module):
    """conv-relu-pool, conv-relu (the CAM layer, 16 × 16), 1 × 1 conv to 4 classes, bilinear ×2: [N, 4, 32, 32]."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.body = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        logits = self.head(self.body(self.stem(x)))
        return F.interpolate(logits, scale_factor=2, mode="bilinear", align_corners=False)


class Embedder(nn.Module):
    """conv-relu-pool, conv-relu (the CAM layer, 16 × 16), global average pool, linear: [N, 16]."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.body = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.fc = nn.Linear(8, 16)

    def forward(self, x):
        return self.fc(self.body(self.stem(x)).mean(dim=(2, 3)))


def seed_for(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def layer_output(path: Path, index: int) -> str:
    """The output name of the graph's `index`-th Relu (the body's ReLU is the second)."""
    relus = [n for n in onnx.load(str(path)).graph.node if n.op_type == "Relu"]
    return relus[index].output[0]


def gradients(module: nn.Module, x: np.ndarray, target):
    """(value, d value / d x, Grad-CAM on module.body) in float64, with the body's activations hooked."""
    m = copy.deepcopy(module).double().eval()
    kept = {}
    m.body.register_forward_hook(lambda _m, _i, out: kept.__setitem__("a", out))
    xt = torch.from_numpy(x).double().requires_grad_(True)
    value = target(m(xt))
    grad_x, grad_a = torch.autograd.grad(value, [xt, kept["a"]])
    a = kept["a"]
    alpha = grad_a.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((alpha * a).sum(dim=1))[0]
    return float(value), grad_x.numpy(), cam.detach().numpy()


def save(out: Path, name: str, array: np.ndarray) -> None:
    np.save(out / name, np.ascontiguousarray(array, dtype=np.float32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    meta = {"torch": torch.__version__, "opset": OPSET, "size": SIZE}

    seed_everything(seed_for("segmenter"))
    seg = Segmenter().eval()
    x = np.random.default_rng(seed_for("segmenter")).normal(size=(1, 3, SIZE, SIZE)).astype(np.float32)
    export_onnx(seg, torch.from_numpy(x), out / "segmenter.onnx", OPSET)
    with torch.no_grad():
        logits = seg.double()(torch.from_numpy(x).double())
    seg.float()
    owner = logits.argmax(dim=1)[0]
    counts = torch.bincount(owner.flatten(), minlength=4)
    c = int(counts.argmax())
    mask = (owner == c).double()
    value, grad, cam = gradients(seg, x, lambda y: (y[0, c] * mask).sum())
    save(out, "segmenter.input.npy", x)
    save(out, "segmenter.mask.npy", mask.numpy())
    save(out, "segmenter.grad.npy", grad)
    save(out, "segmenter.cam.npy", cam)
    meta["segmenter"] = {
        "layer": layer_output(out / "segmenter.onnx", 1),
        "class": c,
        "pixels": int(mask.sum()),
        "value": value,
    }

    seed_everything(seed_for("embedder"))
    emb = Embedder().eval()
    rng = np.random.default_rng(seed_for("embedder"))
    x = rng.normal(size=(1, 3, SIZE, SIZE)).astype(np.float32)
    reference = rng.normal(size=16).astype(np.float32)
    export_onnx(emb, torch.from_numpy(x), out / "embedder.onnx", OPSET)
    r = torch.from_numpy(reference).double()
    r_hat = r / r.norm()

    def cosine(e):
        return (e[0] * r_hat).sum() / torch.sqrt((e[0] * e[0]).sum() + COSINE_EPSILON)

    value, grad, cam = gradients(emb, x, cosine)
    save(out, "embedder.input.npy", x)
    save(out, "embedder.reference.npy", reference)
    save(out, "embedder.grad.npy", grad)
    save(out, "embedder.cam.npy", cam)
    meta["embedder"] = {"layer": layer_output(out / "embedder.onnx", 1), "value": value}
    # float32 graphs against float64 torch: 1e-7 to 4e-7 relative as measured (ORT 1.x, this machine); 1e-4
    # leaves room for ORT's kernel order without hiding a wrong region, class or reference (errors of O(1)).
    meta["tolerance"] = {"value": 1e-5, "gradient": 1e-4, "cam": 1e-4}
    (out / "targets.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
