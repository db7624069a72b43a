"""Times gradient saliency methods in plain PyTorch on CPU: the reference point for Sightline's ONNX autodiff
benchmark (the same networks, weights and batch size, run through onnxruntime-node).

For MobileNetV2 and ResNet50 (torchvision, random seeded weights with calibrated BatchNorm statistics,
224x224, batch 16, torch.set_num_threads(2), eval mode) it times, in seconds per image:
  vanilla     d score_target / d input                                   (1 forward+backward per image)
  ig          Integrated Gradients, black baseline, 50 midpoint steps:
              (x - b) * mean_k grad(b + a_k (x - b)), a_k = (k + 0.5) / 50, batched 16 at a time
  smoothgrad  mean of 25 gradients at x + N(0, (0.15 (max x - min x))^2), batched 16 at a time
  gradcam     ReLU(sum_k w_k A_k), w_k = spatial mean of d score / d A_k, A = the last conv block
each (a) with parameters requires_grad=False ("frozen", the fair baseline: autograd records only what the
input or layer gradient needs) and (b) with torch's default requires_grad=True ("default"). Gradients are
taken with torch.autograd.grad(..., inputs) as Captum does, so parameter .grad is never filled in either
case. The target of each image is its top class. Methods are implemented here in plain torch (no captum).

  /usr/bin/python3 scripts/golden/bench_torch.py [--models mobilenet_v2 resnet50] [--export DIR]

--export DIR writes DIR/<model>.onnx (same weights, dynamic batch, opset 17), DIR/<model>.input.npy (the
benchmark batch) and DIR/<model>.json, so a Node benchmark can run the very same network and images.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402

from common import calibrate_batchnorm, export_onnx, save_npy, seed_everything, versions, write_json  # noqa: E402

# Where Grad-CAM reads its activations: the last convolutional block of each network.
CAM_LAYERS = {"mobilenet_v2": "features.18", "resnet50": "layer4"}


def build(name: str, size: int) -> torch.nn.Module:
    seed_everything(0)
    model = torchvision.models.get_model(name, weights=None)
    return calibrate_batchnorm(model.eval(), (8, 3, size, size), seed=1)


def chunks(x: torch.Tensor, batch: int):
    for i in range(0, x.shape[0], batch):
        yield x[i : i + batch]


def input_gradient(model, x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    scores = model(x)
    (grad,) = torch.autograd.grad(scores.gather(1, targets[:, None]).sum(), x)
    return grad


def vanilla(model, x, targets, batch):
    return torch.cat([input_gradient(model, xb, tb) for xb, tb in zip(chunks(x, batch), chunks(targets, batch))])


def pooled_gradients(model, x, targets, batch, samples: int, make) -> torch.Tensor:
    """Mean input gradient over `samples` inputs per image, where make(i, ks) builds image i's samples ks.
    All (image, sample) pairs stream through full batches, so no batch runs half empty."""
    n = x.shape[0]
    pairs = [(i, k) for i in range(n) for k in range(samples)]
    total = torch.zeros_like(x)
    for start in range(0, len(pairs), batch):
        part = pairs[start : start + batch]
        xb = torch.stack([make(i, k) for i, k in part])
        grad = input_gradient(model, xb, targets[[i for i, _ in part]])
        for (i, _), g in zip(part, grad):
            total[i] += g
    return total / samples


def integrated_gradients(model, x, targets, batch, steps=50):
    baseline = torch.zeros_like(x)
    alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
    mean_grad = pooled_gradients(
        model, x, targets, batch, steps, lambda i, k: baseline[i] + alphas[k] * (x[i] - baseline[i])
    )
    return (x - baseline) * mean_grad


def smoothgrad(model, x, targets, batch, samples=25, spread=0.15, seed=0):
    generator = torch.Generator().manual_seed(seed)
    sigma = spread * (x.amax((1, 2, 3)) - x.amin((1, 2, 3)))
    noise = lambda i, k: x[i] + sigma[i] * torch.randn(x.shape[1:], generator=generator)
    return pooled_gradients(model, x, targets, batch, samples, noise)


def gradcam(model, x, targets, batch, layer: str):
    module = dict(model.named_modules())[layer]
    captured = {}

    def hook(_module, _inputs, output):
        if not output.requires_grad:  # frozen weights: start the graph here, record nothing before it
            output = output.detach().requires_grad_(True)
        captured["a"] = output
        return output

    handle = module.register_forward_hook(hook)
    try:
        maps = []
        for xb, tb in zip(chunks(x, batch), chunks(targets, batch)):
            scores = model(xb.detach())
            a = captured["a"]
            (grad,) = torch.autograd.grad(scores.gather(1, tb[:, None]).sum(), a)
            weights = grad.mean((2, 3), keepdim=True)
            maps.append(torch.relu((weights * a).sum(1)).detach())
        return torch.cat(maps)
    finally:
        handle.remove()


def timed(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_model(name: str, args) -> dict:
    model = build(name, args.size)
    gen = torch.Generator().manual_seed(2)
    x = torch.randn((args.images or args.batch, 3, args.size, args.size), generator=gen)
    if args.export:
        args.export.mkdir(parents=True, exist_ok=True)
        export_onnx(model, x[:1], args.export / f"{name}.onnx", 17)
        save_npy(args.export / f"{name}.input.npy", x.numpy())
        write_json(args.export / f"{name}.json", {
            "name": name, "model": f"{name}.onnx", "input": {"name": "input", "shape": list(x.shape)},
            "cam_layer": CAM_LAYERS[name], "weights": "torchvision random init, seed 0, BatchNorm calibrated (seed 1)",
            "versions": versions(),
        })
    with torch.no_grad():
        targets = model(x).argmax(1)
    n = x.shape[0]
    b = args.batch
    methods = {
        "vanilla": lambda m: vanilla(m, x, targets, b),
        "ig": lambda m: integrated_gradients(m, x, targets, b, args.steps),
        "smoothgrad": lambda m: smoothgrad(m, x, targets, b, args.samples),
        "gradcam": lambda m: gradcam(m, x, targets, b, CAM_LAYERS[name]),
    }
    result = {}
    with torch.no_grad():
        model(x)  # warm-up
        result["forward"] = timed(lambda: model(x), args.repeats) / n
    for mode, requires_grad in (("frozen", False), ("default", True)):
        for p in model.parameters():
            p.requires_grad_(requires_grad)
        vanilla(model, x[:b], targets[:b], b)  # warm-up: allocator, kernels
        gradcam(model, x[:b], targets[:b], b, CAM_LAYERS[name])
        result[mode] = {}
        for method, run in methods.items():
            if method not in args.methods:
                continue
            result[mode][method] = timed(lambda: run(model), args.repeats) / n
            print(f"bench: {name} {mode} {method} {result[mode][method]:.3f} s/image", file=sys.stderr)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["mobilenet_v2", "resnet50"], choices=sorted(CAM_LAYERS))
    parser.add_argument("--methods", nargs="+", default=["vanilla", "ig", "smoothgrad", "gradcam"])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--images", type=int, help="images to explain (default: --batch); IG and SmoothGrad "
                        "pool all samples into full batches, so fewer images give the same seconds per image")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=50, help="Integrated Gradients steps")
    parser.add_argument("--samples", type=int, default=25, help="SmoothGrad samples")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per method; the fastest counts")
    parser.add_argument("--export", type=Path, help="folder for <model>.onnx/.input.npy/.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = {
        "unit": "seconds per image",
        "batch": args.batch, "images": args.images or args.batch, "size": args.size, "threads": args.threads,
        "ig_steps": args.steps, "smoothgrad_samples": args.samples,
        "versions": versions(),
        "models": {name: bench_model(name, args) for name in args.models},
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
