"""Exports torchvision ResNet18, VGG11-BN and MobileNetV2 with random weights (batch norm calibrated, as the zoo
does) for the DeepLIFT summation-to-delta check of issue 18 (scripts/deeplift-zoo.ts). Too large to commit, so
run by hand:
    /usr/bin/python3 scripts/golden/deeplift_zoo.py --out /tmp/deeplift-zoo
    npx tsx scripts/deeplift-zoo.ts /tmp/deeplift-zoo
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torchvision

sys.path.insert(0, str(Path(__file__).parent))
from common import calibrate_batchnorm, export_onnx, seed_everything  # noqa: E402

MODELS = ["resnet18", "vgg11_bn", "mobilenet_v2"]
SIZE = 224


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(MODELS):
        seed_everything(1800 + i)
        model = torchvision.models.get_model(name, weights=None)
        model = calibrate_batchnorm(model.eval(), (4, 3, SIZE, SIZE), seed=1)
        export_onnx(model, torch.zeros(1, 3, SIZE, SIZE), args.out / f"{name}.onnx", opset=13)
        print(f"{name}: exported", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
