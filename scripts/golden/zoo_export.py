"""Exports the torchvision classification zoo to ONNX with random (seeded) weights and writes, per model, the
float64 PyTorch autograd input gradient of sum(seed * output) — the Python half of `npm run test:zoo`.

Why: the golden fixtures prove each op rule on tiny graphs; the zoo proves the autodiff on the real
networks people export (residuals, concatenations, squeeze-excite, channel shuffle, attention, windows).
Nothing is downloaded: weights=None everywhere; BatchNorm statistics are calibrated on random inputs so
activations and gradients sit at a trained network's scale (see common.calibrate_batchnorm).

Writes into --out, per model, the same six files as the committed fixtures (<model>.onnx, .json,
.input.npy, .seed.npy, .output.npy, .grad.npy). A model whose export fails gets only <model>.json with
"export_error". Exits 0 even then: scripts/zoo.ts decides what fails.

  /usr/bin/python3 scripts/golden/zoo_export.py --out DIR [MODEL ...]
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from torch import nn  # noqa: E402

from common import calibrate_batchnorm, seed_everything, versions, write_case, write_json  # noqa: E402

BATCH = 2
OPSET = 17
# name → (input size, constructor keyword arguments beyond weights=None)
MODELS: dict[str, tuple[int, dict]] = {
    "resnet18": (224, {}),
    "resnet50": (224, {}),
    "mobilenet_v2": (224, {}),
    "mobilenet_v3_large": (224, {}),
    "efficientnet_b0": (224, {}),
    "densenet121": (224, {}),
    "vgg11_bn": (224, {}),
    "squeezenet1_1": (224, {}),
    "shufflenet_v2_x1_0": (224, {}),
    "googlenet": (224, {"aux_logits": False, "init_weights": True}),
    "inception_v3": (299, {"aux_logits": False, "init_weights": True}),
    "regnet_y_400mf": (224, {}),
    "convnext_tiny": (224, {}),
    "alexnet": (224, {}),
    "vit_b_16": (224, {}),
    "swin_t": (224, {}),
}


def build(name: str) -> nn.Module:
    size, kwargs = MODELS[name]
    model = torchvision.models.get_model(name, weights=None, **kwargs)
    if name == "vit_b_16":
        # torchvision starts ViT's head at zero, which would make every input gradient zero.
        nn.init.normal_(model.heads.head.weight, std=0.02)
    return calibrate_batchnorm(model.eval(), (4, 3, size, size), seed=1)


def export(name: str, out: Path) -> dict:
    size, _ = MODELS[name]
    seed_everything(1000 + list(MODELS).index(name))
    model = build(name)
    rng = np.random.default_rng(list(MODELS).index(name))

    def draw():
        x = rng.standard_normal((BATCH, 3, size, size)).astype(np.float32)
        return x, rng.standard_normal((BATCH, 1000)).astype(np.float32)

    extra = {"description": f"torchvision {name}, random weights", "size": size}
    return write_case(name, model, draw, out, OPSET, extra, conditioning=None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("models", nargs="*", help=f"default: all of {', '.join(MODELS)}")
    args = parser.parse_args()
    unknown = sorted(set(args.models) - set(MODELS))
    if unknown:
        raise SystemExit(f"unknown model(s): {', '.join(unknown)}; known: {', '.join(MODELS)}")
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.models or list(MODELS):
        t0 = time.perf_counter()
        try:
            meta = export(name, args.out)
            meta["python_seconds"] = round(time.perf_counter() - t0, 2)
            write_json(args.out / f"{name}.json", meta)
            print(f"zoo: {name:20s} exported in {meta['python_seconds']:6.1f} s "
                  f"(float32 torch grad rel err {meta['torch_float32']['grad_rel_error']:.1e})", file=sys.stderr)
        except Exception as error:
            reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            write_json(args.out / f"{name}.json", {
                "name": name,
                "export_error": reason,
                "python_seconds": round(time.perf_counter() - t0, 2),
                "versions": versions(),
            })
            print(f"zoo: {name:20s} FAILED: {reason}", file=sys.stderr)
            traceback.print_exc(limit=3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
