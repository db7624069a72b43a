"""Shared pieces of the golden-gradient scripts: export a torch module to ONNX and compute its reference
input gradient with PyTorch autograd.

Why float64: the reference answer is computed on a float64 copy of the module (the float32 weights widen
exactly), so it is as close to the true gradient as we can get, and the only error left in a comparison is
the float32 arithmetic of the graph under test. We also record how far float32 PyTorch itself lands from
that reference, so a failing tolerance can be judged against what float32 achieves at all.

Run these scripts with Debian's interpreter, /usr/bin/python3 (see install.sh), never a pyenv python.
"""

from __future__ import annotations

import copy
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
import torchvision

INPUT_NAME = "input"
OUTPUT_NAME = "output"


def seed_everything(seed: int) -> None:
    """Same seed, same weights, inputs and output seeds, on every run."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def export_onnx(module: torch.nn.Module, example: torch.Tensor, path: Path, opset: int) -> None:
    """Exports `module` (already in eval mode) with a dynamic batch axis and constant folding.

    Parameters require grad while tracing: in eval mode with frozen weights nn.MultiheadAttention takes its
    fused fast path (aten::_native_multi_head_attention), which torch 1.13 cannot export.
    """
    frozen = [p for p in module.parameters() if not p.requires_grad]
    for p in frozen:
        p.requires_grad_(True)
    try:
        _export(module, example, path, opset)
    finally:
        for p in frozen:
            p.requires_grad_(False)


def _export(module: torch.nn.Module, example: torch.Tensor, path: Path, opset: int) -> None:
    with torch.enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=opset,
            do_constant_folding=True,
        )


def input_gradient(module: torch.nn.Module, x: np.ndarray, seed: np.ndarray, dtype: torch.dtype):
    """Returns (output, d sum(seed * output) / d input) computed by autograd in `dtype`."""
    xt = torch.from_numpy(x).to(dtype).requires_grad_(True)
    out = module(xt)
    if tuple(out.shape) != seed.shape:
        raise ValueError(f"the module's output has shape {tuple(out.shape)}, the seed {seed.shape}")
    (grad,) = torch.autograd.grad((out * torch.from_numpy(seed).to(dtype)).sum(), xt)
    return out.detach().numpy(), grad.numpy()


def relative_max_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """max |actual - expected| / max |expected| (0 when both are all zero)."""
    scale = float(np.abs(expected).max())
    err = float(np.abs(actual.astype(np.float64) - expected.astype(np.float64)).max())
    return err / scale if scale > 0 else err


def golden(module: torch.nn.Module, x: np.ndarray, seed: np.ndarray) -> dict:
    """Float64 reference output and gradient, plus float32 PyTorch's own distance from them."""
    module = module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    wide = copy.deepcopy(module).double()
    out64, grad64 = input_gradient(wide, x, seed, torch.float64)
    out32, grad32 = input_gradient(module, x, seed, torch.float32)
    if not np.isfinite(grad64).all() or not np.isfinite(out64).all():
        raise ValueError("the reference output or gradient is not finite")
    if np.abs(grad64).max() == 0:
        raise ValueError("the reference gradient is all zero; the fixture would test nothing")
    return {
        "output": out64.astype(np.float32),
        "grad": grad64.astype(np.float32),
        "torch_float32": {
            "output_rel_error": relative_max_error(out32, out64),
            "grad_rel_error": relative_max_error(grad32, grad64),
        },
    }


def versions() -> dict:
    return {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    }


def save_npy(path: Path, array: np.ndarray) -> None:
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


# Default comparison rule for the Node checks: max |ours - golden| <= rel * max |golden| + abs.
TOLERANCES = {"output": {"rel": 1e-4, "abs": 1e-8}, "grad": {"rel": 1e-4, "abs": 1e-8}}


def randomize_batchnorm(module: torch.nn.Module, spread: float = 1.0) -> torch.nn.Module:
    """Non-trivial running statistics and affine parameters, so eval-mode BatchNorm does something.
    `spread` scales how far they stray from the identity (deep networks want less)."""
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5 * spread, 0.5 * spread)
                m.running_var.uniform_(1 - 0.5 * spread, 1 + spread)
                m.weight.uniform_(1 - 0.5 * spread, 1 + 0.5 * spread)
                m.bias.uniform_(-0.5 * spread, 0.5 * spread)
    return module


def calibrate_batchnorm(module: torch.nn.Module, shape: tuple, seed: int = 0, batches: int = 2) -> torch.nn.Module:
    """Sets BatchNorm running statistics from random normal inputs of `shape`, as training would.

    A randomly initialised network in eval mode has identity BatchNorm statistics, so its activations and
    input gradients shrink or grow layer by layer (mobilenet_v2 at 64x64 ends with gradients near 1e-9);
    calibrated statistics keep every layer near unit scale, like a trained network, so the fixture tests
    the arithmetic at a realistic scale."""
    norms = [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return module.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a plain average over the calibration batches
    generator = torch.Generator().manual_seed(seed)
    module.train()
    with torch.no_grad():
        for _ in range(batches):
            module(torch.randn(shape, generator=generator))
        for m in norms:
            # Channels that are (nearly) constant on the calibration data, e.g. dead after a ReLU, would
            # divide by sqrt(eps) and amplify rounding noise a thousandfold; trained networks rarely do.
            m.running_var.clamp_(min=0.05 * float(m.running_var.mean()))
    return module.eval()


def write_case(
    name: str,
    module: torch.nn.Module,
    draw,
    out: Path,
    opset: int,
    extra: dict | None = None,
    tries: int = 5,
    conditioning: float | None = 1e-5,
) -> dict:
    """Exports `module` and writes <name>.{onnx,json,input.npy,seed.npy,output.npy,grad.npy} into `out`.

    `draw()` returns a fresh (input, seed) pair. A draw where float32 PyTorch itself misses the float64
    gradient by more than `conditioning` (relative) puts some activation within rounding of a kink (ReLU at
    0, ReLU6 at 6, a max-pool tie) and would test luck, not arithmetic: such draws are replaced, up to
    `tries` times, and the number used is recorded. With `conditioning=None` the first draw is kept
    whatever float32 does (full-size networks, where some flips are unavoidable; the JSON records it)."""
    module = module.eval()
    for attempt in range(1, tries + 1):
        x, seed = draw()
        ref = golden(module, x, seed)
        if conditioning is None or ref["torch_float32"]["grad_rel_error"] <= conditioning:
            break
    else:
        raise ValueError(
            f"{name}: float32 torch misses the float64 gradient by {ref['torch_float32']['grad_rel_error']:.1e} "
            f"(> {conditioning:.0e}) on all {tries} draws"
        )
    export_onnx(module, torch.from_numpy(x), out / f"{name}.onnx", opset)
    for kind, array in (("input", x), ("seed", seed), ("output", ref["output"]), ("grad", ref["grad"])):
        save_npy(out / f"{name}.{kind}.npy", array)
    meta = {
        "name": name,
        **(extra or {}),
        "model": f"{name}.onnx",
        "opset": opset,
        "input": {"name": INPUT_NAME, "shape": list(x.shape)},
        "output": {"name": OUTPUT_NAME, "shape": list(seed.shape)},
        "tolerances": TOLERANCES,
        "reference": "float64 PyTorch autograd of sum(seed * output) with respect to input",
        "draws": attempt,
        "torch_float32": ref["torch_float32"],
        "versions": versions(),
    }
    write_json(out / f"{name}.json", meta)
    return meta
