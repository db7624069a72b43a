"""Writes the task fixtures in test/fixtures/tasks: scorers and a two-label tagger exported by torch, whose
outputs read known patches of the input, so a test knows where every saliency map must be (issue 13).

Why torch: the models a user brings are torch exports (Conv, Slice, ReduceMean, Gemm, Sigmoid as the
exporter writes them), not graphs we wrote ourselves; the task must be read from such a graph with no flag,
and the maps must land where the analytic head says.

Every model takes [N, 3, 64, 64] and starts with the same hand-set 1x1 convolution (luma: 0.299 R + 0.587 G
+ 0.114 B, no bias), so a patch's mean of that plane is a known number for a known input:
  scorer_sigmoid.onnx  [N, 1]  sigmoid(mean of the luma plane over PATCH)                final Sigmoid
  scorer_raw.onnx      [N, 1]  the mean itself (a raw float, no sigmoid)
  scorer_rank1.onnx    [N]     the same raw mean, as a rank-1 output (torch exports .mean(...) so)
  tagger.onnx          [N, 2]  sigmoid(Linear(2, 2)(means over TAG_PATCHES)), the weight diagonal, so
                               label t reads patch t only                                 final Sigmoid
  tagger_changed.onnx  [N, 2]  tagger with label 1's head (weight row 1 and bias 1) redrawn at random,
                               its weight on patch 0 included; label 0's head untouched
plus tasks.json (the patches, the heads, torch's outputs on the two test inputs, versions) and
astronaut64.png, the test photo: skimage's astronaut (public domain, NASA; Debian python3-skimage 0.19.3)
resized to 64x64 with PIL's bilinear filter. The inputs are the photo's values / 255 and an all-ones
image (a white photo with mean 0 and std 1).

Deterministic: a fixed seed draws the changed head, nothing else is random.

  /usr/bin/python3 scripts/golden/task_models.py [--out test/fixtures/tasks]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import export_onnx, seed_everything, versions, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "test" / "fixtures" / "tasks"
PHOTO = ROOT.parent / "shared" / "images" / "astronaut.png"  # ../shared/images, as the tests read it
SIZE = 64
OPSET = 17
LUMA = (0.299, 0.587, 0.114)
# Patches as x0, y0, x1, y1 (end exclusive), input pixels. The scorer's is a quarter of the image, away
# from the borders; the tagger's two do not overlap.
PATCH = (24, 8, 56, 40)
TAG_PATCHES = ((0, 0, 32, 32), (32, 32, 64, 64))
TAG_HEAD = {"weight": [[2.0, 0.0], [0.0, 1.5]], "bias": [-0.5, -1.0]}


def luma() -> nn.Conv2d:
    conv = nn.Conv2d(3, 1, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(LUMA).view(1, 3, 1, 1))
    return conv


def patch_mean(plane: torch.Tensor, patch: tuple) -> torch.Tensor:
    """[N, 1, H, W] -> [N, 1]: the mean over the patch."""
    x0, y0, x1, y1 = patch
    return plane[:, :, y0:y1, x0:x1].mean(dim=(2, 3))


class Scorer(nn.Module):
    def __init__(self, sigmoid: bool, rank1: bool = False):
        super().__init__()
        self.mix = luma()
        self.sigmoid = sigmoid
        self.rank1 = rank1

    def forward(self, x):
        m = patch_mean(self.mix(x), PATCH)
        if self.sigmoid:
            m = torch.sigmoid(m)
        return m[:, 0] if self.rank1 else m


class Tagger(nn.Module):
    def __init__(self, weight, bias):
        super().__init__()
        self.mix = luma()
        self.head = nn.Linear(2, 2)
        with torch.no_grad():
            self.head.weight.copy_(torch.tensor(weight))
            self.head.bias.copy_(torch.tensor(bias))

    def forward(self, x):
        plane = self.mix(x)
        means = torch.cat([patch_mean(plane, p) for p in TAG_PATCHES], dim=1)
        return torch.sigmoid(self.head(means))


def changed_head() -> dict:
    """Label 1's row and bias redrawn (weight on patch 0 included); label 0's row kept bit for bit."""
    generator = torch.Generator().manual_seed(13)
    row = (torch.randn(2, generator=generator) * 3).tolist()
    bias = float(torch.randn(1, generator=generator)[0] * 2)
    return {"weight": [TAG_HEAD["weight"][0], row], "bias": [TAG_HEAD["bias"][0], bias]}


def photo(out: Path) -> np.ndarray:
    image = Image.open(PHOTO).convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
    image.save(out / "astronaut64.png", optimize=True)
    # Read back what was written, so the test and this script start from the same bytes.
    pixels = np.asarray(Image.open(out / "astronaut64.png").convert("RGB"), dtype=np.float32) / 255
    return pixels.transpose(2, 0, 1)[None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    seed_everything(13)

    inputs = {"white": np.ones((1, 3, SIZE, SIZE), np.float32), "astronaut64.png": photo(args.out)}
    models = {
        "scorer_sigmoid": Scorer(sigmoid=True),
        "scorer_raw": Scorer(sigmoid=False),
        "scorer_rank1": Scorer(sigmoid=False, rank1=True),
        "tagger": Tagger(**TAG_HEAD),
        "tagger_changed": Tagger(**changed_head()),
    }
    example = torch.from_numpy(inputs["white"])
    meta = {"size": SIZE, "luma": LUMA, "patch": PATCH, "tag_patches": TAG_PATCHES, "models": {}}
    for name, module in models.items():
        module.eval()
        export_onnx(module, example, args.out / f"{name}.onnx", OPSET)
        with torch.no_grad():
            outputs = {k: module(torch.from_numpy(v)).numpy() for k, v in inputs.items()}
        entry = {"file": f"{name}.onnx", "output_shape": list(outputs["white"].shape)}
        entry["outputs"] = {k: v.reshape(-1).astype(float).tolist() for k, v in outputs.items()}
        if isinstance(module, Tagger):
            entry["head"] = {
                "weight": module.head.weight.detach().tolist(),
                "bias": module.head.bias.detach().tolist(),
            }
        meta["models"][name] = entry
    # The tagger's label 0 must not feel the change of label 1's head, here in torch already.
    before = models["tagger"].head.weight[0].detach()
    after = models["tagger_changed"].head.weight[0].detach()
    assert torch.equal(before, after), "label 0's head changed"
    meta["inputs"] = "white: all ones; astronaut64.png: the photo's RGB values / 255 (mean 0, std 1)"
    meta["photo"] = "skimage astronaut.png (public domain, NASA; Debian python3-skimage 0.19.3), PIL bilinear"
    meta["opset"] = OPSET
    meta["versions"] = versions()
    write_json(args.out / "tasks.json", meta)
    for name in models:
        print(name, (args.out / f"{name}.onnx").stat().st_size, "bytes", meta["models"][name]["outputs"]["white"])


if __name__ == "__main__":
    main()
