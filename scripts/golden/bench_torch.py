"""Times saliency methods in plain PyTorch on CPU: the reference point for Sightline's ONNX autodiff and
perturbation methods in `npm run bench` (the same networks, weights and images, run through onnxruntime-node).

For each network (torchvision MobileNetV2 / ResNet50, random seeded weights with calibrated BatchNorm
statistics, 224x224, torch.set_num_threads(2), eval mode) and each batch size, it times in seconds per image:
  forward     the network alone, no autograd
  vanilla     d score_target / d input                                   (1 forward+backward per image)
  ig          Integrated Gradients, black baseline, --steps midpoint steps:
              (x - b) * mean_k grad(b + a_k (x - b)), a_k = (k + 0.5) / steps
  smoothgrad  mean of --samples gradients at x + N(0, (0.15 (max x - min x))^2)
  gradcam     ReLU(sum_k w_k A_k), w_k = spatial mean of d score / d A_k, A = the last conv block
  occlusion   softmax drop of the target under a zero window (--window, default 1/8 of the side) every
              --stride pixels (default half the window): 226 passes at 224x224
  rise        --rise-masks random 7x7 masks, bilinear upsampled with a random shift (eq. 6 of Petsiuk et al.)
vanilla, gradcam and forward run all --images images in chunks of the batch size; ig, smoothgrad, occlusion
and rise run on the first --pooled images, their samples streamed through full batches of the batch size
(as Sightline splits them), so one image gives the same seconds per image as many.
Modes: "default" keeps torch's default requires_grad=True on the parameters (the issue's baseline);
"frozen" sets requires_grad=False (autograd records only what the input or layer gradient needs). Gradients
are taken with torch.autograd.grad(..., inputs) as Captum does, so parameter .grad is never filled in.
Timed runs: the fastest of --repeats (--cheap-repeats for forward, vanilla and Grad-CAM). Methods are implemented here in plain torch (no captum).

  /usr/bin/python3 scripts/golden/bench_torch.py [--models mobilenet_v2 resnet50] [--batches 1 16]
      [--modes default frozen] [--methods ...] [--images 16] [--pooled 1] [--export DIR] [--export-only]

--export DIR writes DIR/<model>.onnx (same weights, dynamic batch, opset 17), DIR/<model>.input.npy (the
benchmark images) and DIR/<model>.json, so a Node benchmark can run the very same network and images.
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
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402

from common import calibrate_batchnorm, export_onnx, save_npy, seed_everything, versions, write_json  # noqa: E402

# Where Grad-CAM reads its activations: the last convolutional block of each network.
CAM_LAYERS = {"mobilenet_v2": "features.18", "resnet50": "layer4"}
GRADIENT_METHODS = ("vanilla", "ig", "smoothgrad", "gradcam")
ALL_METHODS = (*GRADIENT_METHODS, "occlusion", "rise")
# Seconds each: timed --cheap-repeats times (other jobs only ever add time), the rest --repeats times.
CHEAP = ("vanilla", "gradcam")


def build(name: str, size: int, width_mult: float = 1.0, classes: int = 1000) -> torch.nn.Module:
    seed_everything(0)
    extra = {"width_mult": width_mult} if width_mult != 1.0 else {}
    model = torchvision.models.get_model(name, weights=None, num_classes=classes, **extra)
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


def stream(x, batch: int, samples: int, make, run):
    """Calls run(pairs, inputs) on full batches of (image, sample) pairs, inputs built by make(i, k)."""
    pairs = [(i, k) for i in range(x.shape[0]) for k in range(samples)]
    for start in range(0, len(pairs), batch):
        part = pairs[start : start + batch]
        run(part, torch.stack([make(i, k) for i, k in part]))


def pooled_gradients(model, x, targets, batch, samples: int, make) -> torch.Tensor:
    """Mean input gradient over `samples` inputs per image, where make(i, k) builds image i's sample k."""
    total = torch.zeros_like(x)

    def run(part, xb):
        grad = input_gradient(model, xb, targets[[i for i, _ in part]])
        for (i, _), g in zip(part, grad):
            total[i] += g

    stream(x, batch, samples, make, run)
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


@torch.no_grad()
def masked_scores(model, x, targets, batch, masks: torch.Tensor) -> torch.Tensor:
    """Softmax target probability of every image under every mask [M, H, W] (zero = the mean grey)."""
    out = torch.empty(x.shape[0], masks.shape[0])
    make = lambda i, k: x[i] * masks[k]

    def run(part, xb):
        p = F.softmax(model(xb), 1).gather(1, targets[[i for i, _ in part]][:, None])[:, 0]
        for (i, k), v in zip(part, p):
            out[i, k] = v

    stream(x, batch, masks.shape[0], make, run)
    return out


def occlusion(model, x, targets, batch, window=28, stride=14):
    size = x.shape[-1]
    starts = list(range(0, size - window + 1, stride))
    if starts[-1] != size - window:
        starts.append(size - window)
    masks = torch.ones(len(starts) ** 2 + 1, size, size)
    for n, (y0, x0) in enumerate((y, x) for y in starts for x in starts):
        masks[n + 1, y0 : y0 + window, x0 : x0 + window] = 0
    p = masked_scores(model, x, targets, batch, masks)
    drop = p[:, :1] - p[:, 1:]
    return torch.einsum("nm,mhw->nhw", drop, 1 - masks[1:]) / (1 - masks[1:]).sum(0).clamp(min=1)


def rise(model, x, targets, batch, masks=500, grid=7, keep=0.5, seed=0):
    size = x.shape[-1]
    cell = -(-size // grid)
    generator = torch.Generator().manual_seed(seed)
    grids = (torch.rand(masks, 1, grid, grid, generator=generator) < keep).float()
    up = F.interpolate(grids, size=((grid + 1) * cell,) * 2, mode="bilinear", align_corners=False)[:, 0]
    shifts = torch.randint(0, cell, (masks, 2), generator=generator)
    planes = torch.stack([up[m, dy : dy + size, dx : dx + size] for m, (dy, dx) in enumerate(shifts.tolist())])
    p = masked_scores(model, x, targets, batch, planes)
    return torch.einsum("nm,mhw->nhw", p, planes) / (masks * keep)


def timed(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_model(name: str, args) -> dict:
    model = build(name, args.size, args.width_mult, args.classes)
    gen = torch.Generator().manual_seed(2)
    x = torch.randn((args.images, 3, args.size, args.size), generator=gen)
    if args.export:
        args.export.mkdir(parents=True, exist_ok=True)
        export_onnx(model, x[:1], args.export / f"{name}.onnx", 17)
        save_npy(args.export / f"{name}.input.npy", x.numpy())
        write_json(args.export / f"{name}.json", {
            "name": name, "model": f"{name}.onnx", "input": {"name": "input", "shape": list(x.shape)},
            "cam_layer": CAM_LAYERS[name], "weights": "torchvision random init, seed 0, BatchNorm calibrated (seed 1)",
            "versions": versions(),
        })
    if args.export_only:
        return {}
    with torch.no_grad():
        targets = model(x).argmax(1)
    pooled, pooled_targets = x[: args.pooled], targets[: args.pooled]
    methods = {
        "vanilla": (lambda m, b: vanilla(m, x, targets, b), x.shape[0]),
        "ig": (lambda m, b: integrated_gradients(m, pooled, pooled_targets, b, args.steps), args.pooled),
        "smoothgrad": (lambda m, b: smoothgrad(m, pooled, pooled_targets, b, args.samples), args.pooled),
        "gradcam": (lambda m, b: gradcam(m, x, targets, b, CAM_LAYERS[name]), x.shape[0]),
        "occlusion": (lambda m, b: occlusion(m, pooled, pooled_targets, b, args.window, args.stride), args.pooled),
        "rise": (lambda m, b: rise(m, pooled, pooled_targets, b, args.rise_masks), args.pooled),
    }
    result = {}
    for b in args.batches:
        result[str(b)] = per_batch = {}
        with torch.no_grad():
            model(x[:b])  # warm-up
            per_batch["forward"] = timed(lambda: [model(xb) for xb in chunks(x, b)], args.cheap_repeats) / x.shape[0]
        for mode in args.modes:
            for p in model.parameters():
                p.requires_grad_(mode == "default")
            vanilla(model, x[:b], targets[:b], b)  # warm-up: allocator, kernels
            per_batch[mode] = {}
            for method in args.methods:
                # The forward-only methods do not depend on requires_grad: timed once, in the first mode.
                if method not in GRADIENT_METHODS and mode != args.modes[0]:
                    continue
                run, images = methods[method]
                repeats = args.cheap_repeats if method in CHEAP else args.repeats
                per_batch[mode][method] = timed(lambda: run(model, b), repeats) / images
                print(f"bench: {name} batch {b} {mode} {method} {per_batch[mode][method]:.3f} s/image", file=sys.stderr)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["mobilenet_v2", "resnet50"], choices=sorted(CAM_LAYERS))
    parser.add_argument("--methods", nargs="+", default=list(ALL_METHODS), choices=ALL_METHODS)
    parser.add_argument("--modes", nargs="+", default=["default", "frozen"], choices=["default", "frozen"])
    parser.add_argument("--batches", nargs="+", type=int, default=[16])
    parser.add_argument("--images", type=int, default=16, help="images for forward, vanilla and Grad-CAM")
    parser.add_argument("--pooled", type=int, default=1, help="images for IG, SmoothGrad, occlusion and RISE")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--width-mult", type=float, default=1.0, help="MobileNetV2 width (quick runs: 0.35)")
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=50, help="Integrated Gradients steps")
    parser.add_argument("--samples", type=int, default=25, help="SmoothGrad samples")
    parser.add_argument("--rise-masks", type=int, default=500, help="RISE masks")
    parser.add_argument("--window", type=int, default=0, help="occlusion window (0: 1/8 of the side)")
    parser.add_argument("--stride", type=int, default=0, help="occlusion stride (0: half the window)")
    parser.add_argument("--repeats", type=int, default=1, help="timed runs per method; the fastest counts")
    parser.add_argument("--cheap-repeats", type=int, default=3, help="timed runs of forward, vanilla, Grad-CAM")
    parser.add_argument("--export", type=Path, help="folder for <model>.onnx/.input.npy/.json")
    parser.add_argument("--export-only", action="store_true", help="write the --export files and time nothing")
    args = parser.parse_args()
    args.window = args.window or max(1, round(args.size / 8))
    args.stride = args.stride or max(1, args.window // 2)
    torch.set_num_threads(args.threads)
    out = {
        "unit": "seconds per image",
        "batches": args.batches, "images": args.images, "pooled": args.pooled, "size": args.size,
        "threads": args.threads, "ig_steps": args.steps, "smoothgrad_samples": args.samples,
        "rise_masks": args.rise_masks, "occlusion": {"window": args.window, "stride": args.stride}, "modes": args.modes,
        "versions": versions(),
        "models": {name: bench_model(name, args) for name in args.models},
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
