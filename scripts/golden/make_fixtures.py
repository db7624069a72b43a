"""Writes the golden gradient fixtures in test/fixtures/golden: small torch modules exported to ONNX, with
the PyTorch autograd input gradient of sum(seed * output) for a stored input and output seed.

Why: Sightline's ONNX autodiff (src/engines/onnx/autodiff) must agree with autograd op by op and on whole
networks; test/unit/golden.test.ts checks it against these files without needing Python at test time.

Each fixture <name> is six files:
  <name>.onnx         the exported graph (dynamic batch axis, constant folding on)
  <name>.json         input/output names and shapes, opset, tolerances, versions, float32 torch's own error
  <name>.input.npy    the input, float32
  <name>.seed.npy     the output seed [N, K], float32 (random normal, so every output counts)
  <name>.output.npy   the float64 torch output, stored as float32
  <name>.grad.npy     the float64 torch input gradient, stored as float32

Every module ends in an [N, K] output (flattened when needed), like the models Sightline explains.
Deterministic: each fixture seeds torch and numpy from its own name, so adding one changes no other.

  /usr/bin/python3 scripts/golden/make_fixtures.py [--out test/fixtures/golden] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck

sys.dont_write_bytecode = True  # no __pycache__ beside the scripts
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import calibrate_batchnorm, randomize_batchnorm, seed_everything, write_case  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "test" / "fixtures" / "golden"

class Fn(nn.Module):
    """A module from a function, with optional submodules (their weights become initializers)."""

    def __init__(self, fn: Callable, **modules: nn.Module):
        super().__init__()
        self.fn = fn
        self.parts = nn.ModuleDict(modules)

    def forward(self, x):
        return self.fn(x, self.parts)


class Flat(nn.Module):
    """body(x) flattened to [N, K]."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, x):
        return torch.flatten(self.body(x), 1)


@dataclass
class Fixture:
    name: str
    description: str
    build: Callable[[], nn.Module]
    shape: tuple  # input shape, batch first
    opset: int = 17
    calibrate: bool = False  # set BatchNorm statistics from data (networks), see calibrate_batchnorm
    fuse_pad: tuple | None = None  # ZeroPad2d padding to fold into the Conv after it, see fuse_pad_into_conv


def fuse_pad_into_conv(path: Path, padding: tuple) -> None:
    """Folds the one Pad (ZeroPad2d's `padding`: left, right, top, bottom) into the Conv it feeds, in place.

    torch cannot give one Conv unequal begin and end padding (TensorFlow's SAME on even sizes, which
    converted TFLite models carry); exporting ZeroPad2d + Conv and folding gives that Conv node with the same
    math, so torch's gradients stay the reference. The forward check against torch's output guards the fold.
    The exporter computes the Pad's amounts with a chain of shape ops, so they come from the module, and the
    chain, left without a user, is pruned."""
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    (pad,) = [n for n in graph.node if n.op_type == "Pad"]
    (conv,) = [n for n in graph.node if pad.output[0] in n.input]
    if conv.op_type != "Conv":
        raise ValueError(f"{path.name}: the Pad feeds {conv.op_type}, not a Conv")
    left, right, top, bottom = padding
    old = next((list(a.ints) for a in conv.attribute if a.name == "pads"), [0, 0, 0, 0])
    new = [old[0] + top, old[1] + left, old[2] + bottom, old[3] + right]
    for a in [a for a in conv.attribute if a.name == "pads"]:
        conv.attribute.remove(a)
    conv.attribute.append(onnx.helper.make_attribute("pads", new))
    conv.input[0] = pad.input[0]
    graph.node.remove(pad)
    while True:
        used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
        dead = [n for n in graph.node if not any(o in used for o in n.output)]
        if not dead:
            break
        for n in dead:
            graph.node.remove(n)
    used = {i for n in graph.node for i in n.input}
    for t in [t for t in graph.initializer if t.name not in used]:
        graph.initializer.remove(t)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def op(name, description, build, shape=(2, 4, 8, 8), **kw) -> Fixture:
    return Fixture(name, description, lambda: Flat(build()), shape, **kw)


class TinyResNet(nn.Module):
    """torchvision's ResNet layout (7x7/2 stem, max pool, BasicBlock and Bottleneck stages with 1x1/2
    downsampling, global average pool, fc) at 1/8 of resnet18's width, so the file stays small."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 7, 2, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)
        )
        down = lambda cin, cout: nn.Sequential(nn.Conv2d(cin, cout, 1, 2, bias=False), nn.BatchNorm2d(cout))
        self.layers = nn.Sequential(
            BasicBlock(8, 8),
            BasicBlock(8, 16, stride=2, downsample=down(8, 16)),
            BasicBlock(16, 16),
            Bottleneck(16, 8, stride=2, downsample=down(16, 32)),
            Bottleneck(32, 16, stride=2, downsample=down(32, 64)),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.layers(self.stem(x))), 1))


class TinyCnn(nn.Module):
    """A Teachable-Machine-sized CNN: conv, ReLU6, depthwise conv, SiLU, max pool, dropout, two linears."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU6(),
            nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8), nn.SiLU(),
            nn.Conv2d(8, 16, 1), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(16 * 4 * 4, 32), nn.GELU(), nn.Linear(32, 5))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def tiny_vit() -> nn.Module:
    from torchvision.models.vision_transformer import VisionTransformer

    vit = VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=10
    )
    # torchvision starts the head at zero, which would make every input gradient zero.
    nn.init.normal_(vit.heads.head.weight, std=0.2)
    return vit


def fixtures() -> list[Fixture]:
    c = lambda *a, **k: nn.Conv2d(*a, **k)
    return [
        # --- convolution -------------------------------------------------------------------------------
        op("conv_basic", "3x3 conv, padding 1, bias", lambda: c(4, 6, 3, padding=1)),
        op("conv_stride2_even", "3x3/2 conv, pad 1, 8x8: the last row and column feed no output",
           lambda: c(4, 6, 3, stride=2, padding=1)),
        op("conv_stride2_odd", "3x3/2 conv, pad 1, 9x9 input", lambda: c(4, 6, 3, stride=2, padding=1),
           shape=(2, 4, 9, 9)),
        op("conv_1x1_stride2", "1x1/2 conv without bias (ResNet downsample)", lambda: c(4, 6, 1, stride=2, bias=False)),
        op("conv_7x7_stride2", "7x7/2 conv, pad 3, 3 channels (ResNet stem) on 11x11",
           lambda: c(3, 4, 7, stride=2, padding=3, bias=False), shape=(2, 3, 11, 11)),
        op("conv_dilation", "3x3 conv, dilation 2, padding 2", lambda: c(4, 6, 3, padding=2, dilation=2)),
        op("conv_groups", "3x3 conv, groups 2", lambda: c(4, 6, 3, padding=1, groups=2)),
        op("conv_depthwise", "3x3 depthwise conv, no bias", lambda: c(4, 4, 3, padding=1, groups=4, bias=False)),
        op("conv_depthwise_stride2", "3x3/2 depthwise conv with channel multiplier 2",
           lambda: c(4, 8, 3, stride=2, padding=1, groups=4), shape=(2, 4, 9, 9)),
        op("conv_rect", "3x5 kernel, stride (2, 1), padding (0, 2), no padding on H",
           lambda: c(4, 6, (3, 5), stride=(2, 1), padding=(0, 2))),
        op("conv_stride3_dilation", "3x3/3 conv with dilation 2 and padding 1 on 10x10",
           lambda: c(4, 5, 3, stride=3, dilation=2, padding=1), shape=(2, 4, 10, 10)),
        # One Conv node with unequal begin/end pads (TensorFlow SAME), made by folding ZeroPad2d into it.
        op("conv_same_stride2_even", "3x3/2 conv with SAME pads (0 before, 1 after) on 8x8, one Conv node",
           lambda: nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), c(4, 6, 3, stride=2)), fuse_pad=(0, 1, 0, 1)),
        op("conv_asym_stride2_odd", "4x4/2 conv (even kernel), pads (1, 2) on H and (0, 1) on W, 9x9 input",
           lambda: nn.Sequential(nn.ZeroPad2d((0, 1, 1, 2)), c(4, 6, 4, stride=2)), shape=(2, 4, 9, 9),
           fuse_pad=(0, 1, 1, 2)),
        op("conv_depthwise_same_stride2", "3x3/2 depthwise conv with SAME pads (0 before, 1 after) on 8x8",
           lambda: nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), c(4, 4, 3, stride=2, groups=4)), fuse_pad=(0, 1, 0, 1)),
        op("conv_groups_stride2_dilation", "3x3/2 conv, groups 2, dilation 2, padding 2 on 9x9",
           lambda: c(4, 6, 3, stride=2, dilation=2, padding=2, groups=2), shape=(2, 4, 9, 9)),
        op("conv_depthwise_dilation", "3x3 depthwise conv, channel multiplier 2, dilation 2, padding 2",
           lambda: c(4, 8, 3, dilation=2, padding=2, groups=4)),
        op("conv_1x1", "1x1 conv (pointwise), stride 1", lambda: c(4, 6, 1)),
        # --- linear --------------------------------------------------------------------------------------
        Fixture("linear_gemm", "Linear on [N, F] (Gemm)", lambda: nn.Linear(12, 7), (3, 12)),
        Fixture("linear_nobias", "Linear without bias on [N, F]", lambda: nn.Linear(12, 7, bias=False), (3, 12)),
        op("linear_matmul", "Linear on the last axis of a 4-D tensor (MatMul + Add)", lambda: nn.Linear(8, 5)),
        op("matmul_xx", "x @ x^T on the last two axes: both operands carry gradient",
           lambda: Fn(lambda x, m: torch.matmul(x, x.transpose(-1, -2)))),
        # --- activations ---------------------------------------------------------------------------------
        op("relu", "ReLU", nn.ReLU),
        op("relu6", "ReLU6 (Clip 0..6) on inputs scaled to cross 6",
           lambda: Fn(lambda x, m: F.relu6(4 * x))),
        op("clamp", "clamp(-0.5, 1)", lambda: Fn(lambda x, m: torch.clamp(x, -0.5, 1.0))),
        op("leaky_relu", "LeakyReLU(0.1)", lambda: nn.LeakyReLU(0.1)),
        op("prelu_channel", "PReLU with one slope per channel", lambda: nn.PReLU(4, init=0.2)),
        op("prelu_single", "PReLU with one shared slope", lambda: nn.PReLU(1, init=0.3)),
        op("sigmoid", "Sigmoid", nn.Sigmoid),
        op("tanh", "Tanh", nn.Tanh),
        op("hardsigmoid", "Hardsigmoid on inputs scaled to cross +-3", lambda: Fn(lambda x, m: F.hardsigmoid(3 * x))),
        op("hardswish", "Hardswish on inputs scaled to cross +-3", lambda: Fn(lambda x, m: F.hardswish(3 * x))),
        op("hardswish_opset13", "Hardswish at opset 13", lambda: Fn(lambda x, m: F.hardswish(3 * x)), opset=13),
        op("elu", "ELU(alpha 0.7)", lambda: nn.ELU(0.7)),
        op("gelu", "GELU (erf form)", nn.GELU),
        op("gelu_tanh", "GELU (tanh approximation)", lambda: nn.GELU(approximate="tanh")),
        op("silu", "SiLU (x * sigmoid x)", nn.SiLU),
        op("erf", "erf", lambda: Fn(lambda x, m: torch.erf(x))),
        # --- arithmetic with broadcasting ---------------------------------------------------------------
        op("add_broadcast", "x + x[:, :, :1, :] + x.mean(1, keepdim) + constant [C,1,1]",
           lambda: Fn(lambda x, m: x + x[:, :, :1, :] + x.mean(1, keepdim=True) + m["b"].weight.view(4, 1, 1),
                      b=nn.Linear(4, 1))),
        op("sub_broadcast", "x - x[:, :1] - constant [W]",
           lambda: Fn(lambda x, m: x - x[:, :1] - m["b"].weight.view(8), b=nn.Linear(8, 1))),
        op("mul_broadcast", "x * x[:, :, :, :1] * constant [1,C,1,1]",
           lambda: Fn(lambda x, m: x * x[:, :, :, :1] * m["b"].weight.view(1, 4, 1, 1), b=nn.Linear(4, 1))),
        op("div_broadcast", "x / (x[:, :1] ** 2 + 1) and constant / (x^2 + 1)",
           lambda: Fn(lambda x, m: x / (x[:, :1] ** 2 + 1) + 2.0 / (x * x + 1))),
        op("pow_sqrt", "x^2, x^3, sqrt(x^2 + 1), x ** 0.5 on |x| + 1",
           lambda: Fn(lambda x, m: torch.pow(x, 2) + x**3 + torch.sqrt(x * x + 1) + (x.abs() + 1) ** 0.5)),
        op("cast", "x -> float64 * 2 -> float32", lambda: Fn(lambda x, m: (x.double() * 2).float() * x)),
        # --- normalization --------------------------------------------------------------------------------
        op("batchnorm", "BatchNorm2d in eval mode, alone (stays BatchNormalization)",
           lambda: randomize_batchnorm(nn.BatchNorm2d(4))),
        op("conv_batchnorm", "conv then BatchNorm2d in eval mode (folded into the conv on export)",
           lambda: randomize_batchnorm(nn.Sequential(c(4, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6)))),
        op("layernorm", "LayerNorm over the last axis (LayerNormalization, opset 17)", lambda: nn.LayerNorm(8)),
        op("layernorm_2d", "LayerNorm over the last two axes (opset 17)", lambda: nn.LayerNorm([8, 8])),
        op("layernorm_opset13", "LayerNorm at opset 13 (ReduceMean/Sub/Pow/Sqrt/Div)", lambda: nn.LayerNorm(8),
           opset=13),
        # --- pooling ---------------------------------------------------------------------------------------
        op("maxpool", "MaxPool2d 2x2/2", lambda: nn.MaxPool2d(2)),
        op("maxpool_pad", "MaxPool2d 3x3/2, padding 1 (ResNet stem)", lambda: nn.MaxPool2d(3, 2, 1)),
        op("maxpool_ceil", "MaxPool2d 3x3/2, ceil_mode on 9x9 (SqueezeNet)", lambda: nn.MaxPool2d(3, 2, ceil_mode=True),
           shape=(2, 4, 9, 9)),
        op("maxpool_overlap", "MaxPool2d 3x3/1, padding 1 (overlapping windows, GoogLeNet)",
           lambda: nn.MaxPool2d(3, 1, 1)),
        op("avgpool", "AvgPool2d 2x2/2", lambda: nn.AvgPool2d(2)),
        op("avgpool_pad_include", "AvgPool2d 3x3/2, padding 1, count_include_pad=True",
           lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=True)),
        op("avgpool_pad_exclude", "AvgPool2d 3x3/2, padding 1, count_include_pad=False",
           lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False)),
        op("avgpool_ceil", "AvgPool2d 3x3/2, ceil_mode on 8x8", lambda: nn.AvgPool2d(3, 2, ceil_mode=True)),
        op("avgpool_ceil_pad", "AvgPool2d 3x3/2, padding 1, ceil_mode, count_include_pad=False on 10x10",
           lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), shape=(2, 4, 10, 10)),
        op("global_avgpool", "AdaptiveAvgPool2d(1) (GlobalAveragePool)", lambda: nn.AdaptiveAvgPool2d(1)),
        op("adaptive_avgpool_2", "AdaptiveAvgPool2d(2) on 8x8 (an AveragePool 4x4/4)", lambda: nn.AdaptiveAvgPool2d(2)),
        op("global_maxpool", "AdaptiveMaxPool2d(1) (GlobalMaxPool)", lambda: nn.AdaptiveMaxPool2d(1)),
        op("reduce_mean_sum", "mean over H, W and sum over C", lambda: Fn(lambda x, m: torch.cat([x.mean((2, 3)), x.sum(1).mean(2)], 1))),
        # --- shape ----------------------------------------------------------------------------------------
        op("reshape_permute", "view to [N, C, 4, 16], permute, reshape with the batch from Shape",
           lambda: Fn(lambda x, m: x.reshape(x.shape[0], 4, 4, 16).permute(0, 3, 1, 2).reshape(x.shape[0], -1) * x.view(x.shape[0], -1))),
        op("channel_shuffle", "ShuffleNet's channel shuffle: view, transpose, contiguous, view",
           lambda: Fn(lambda x, m: x.view(x.shape[0], 2, 2, 8, 8).transpose(1, 2).contiguous().view(x.shape[0], 4, 8, 8)
                      * torch.arange(4.0).view(1, 4, 1, 1))),
        op("squeeze_unsqueeze", "outer product over channels by unsqueeze, sum, and squeeze/unsqueeze of one channel",
           lambda: Fn(lambda x, m: (x.unsqueeze(2) * x.unsqueeze(1)).sum(2) * x[:, :1].squeeze(1).unsqueeze(1))),
        op("cat_split", "split into 1+3 channels, scale, cat on channels and width",
           lambda: Fn(lambda x, m: torch.cat([torch.cat(list(reversed(torch.split(x, [1, 3], 1))), 1), x * 2], 3))),
        op("chunk", "chunk into 2 along channels (ShuffleNet)", lambda: Fn(lambda x, m: x.chunk(2, 1)[1] * x.chunk(2, 1)[0])),
        op("slice_steps", "x[:, 1:, ::2, 1::3] and x[..., -3:]",
           lambda: Fn(lambda x, m: torch.cat([x[:, 1:, ::2, 1::3].flatten(1), x[..., -3:].flatten(1)], 1))),
        op("slice_flip", "torch.flip on H (Slice with step -1)", lambda: Fn(lambda x, m: torch.flip(x, [2]) * x)),
        op("gather", "x[:, 0] and x[:, [3, 1]] (Gather with constant indices)",
           lambda: Fn(lambda x, m: torch.cat([x[:, 0].flatten(1), x[:, [3, 1]].flatten(1)], 1))),
        op("pad_constant", "ZeroPad2d((1, 2, 0, 1)) then a 3x3 conv", lambda: nn.Sequential(nn.ZeroPad2d((1, 2, 0, 1)), c(4, 3, 3))),
        op("pad_reflect", "ReflectionPad2d(2)", lambda: nn.ReflectionPad2d(2)),
        op("expand", "x[:, :, :1, :].expand(-1, -1, 5, -1) * ones", lambda: Fn(lambda x, m: x[:, :, :1, :].expand(-1, -1, 5, -1) + x[:, :, :5, :])),
        op("flatten_identity", "plain flatten", nn.Identity),
        # --- softmax ---------------------------------------------------------------------------------------
        op("softmax_dim1", "Softmax over channels", lambda: nn.Softmax(1)),
        op("softmax_dim2", "Softmax over H", lambda: nn.Softmax(2)),
        op("softmax_last", "Softmax over the last axis", lambda: nn.Softmax(-1)),
        op("logsoftmax_dim1", "LogSoftmax over channels", lambda: nn.LogSoftmax(1)),
        op("logsoftmax_last", "LogSoftmax over the last axis", lambda: nn.LogSoftmax(-1)),
        Fixture("softmax_2d", "Softmax over classes of [N, K]", lambda: nn.Softmax(1), (3, 10)),
        # --- resize ---------------------------------------------------------------------------------------
        op("upsample_nearest", "Upsample x2 nearest", lambda: nn.Upsample(scale_factor=2, mode="nearest")),
        op("upsample_nearest_size", "Upsample nearest from 8x8 to 13x11", lambda: nn.Upsample(size=(13, 11), mode="nearest")),
        op("upsample_bilinear", "Upsample x2 bilinear, align_corners=False",
           lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)),
        op("upsample_bilinear_ac", "Upsample to 13x11 bilinear, align_corners=True",
           lambda: nn.Upsample(size=(13, 11), mode="bilinear", align_corners=True)),
        op("downsample_bilinear", "interpolate to 5x5 bilinear (downsampling)",
           lambda: Fn(lambda x, m: F.interpolate(x, size=(5, 5), mode="bilinear", align_corners=False))),
        # --- small networks -------------------------------------------------------------------------------
        Fixture("net_tiny_cnn", "conv/BN/ReLU6/depthwise/SiLU/maxpool/dropout/linear/GELU, 16x16 input",
                lambda: randomize_batchnorm(TinyCnn(), 0.3), (2, 3, 16, 16), calibrate=True),
        Fixture("net_tiny_resnet", "ResNet layout (BasicBlock + Bottleneck) at 1/8 width, 64x64 input",
                lambda: randomize_batchnorm(TinyResNet(), 0.3), (2, 3, 64, 64), calibrate=True),
        Fixture("net_mobilenet_v2", "torchvision mobilenet_v2(width_mult=0.35, num_classes=10), 64x64",
                lambda: randomize_batchnorm(torchvision.models.mobilenet_v2(weights=None, width_mult=0.35, num_classes=10), 0.3),
                (2, 3, 64, 64), calibrate=True),
        Fixture("net_shufflenet_v2", "torchvision shufflenet_v2_x0_5(num_classes=10), 64x64",
                lambda: randomize_batchnorm(torchvision.models.shufflenet_v2_x0_5(weights=None, num_classes=10), 0.3),
                (2, 3, 64, 64), calibrate=True),
        Fixture("net_tiny_vit", "torchvision VisionTransformer, 2 layers, 2 heads, dim 32, patch 8, 32x32",
                tiny_vit, (2, 3, 32, 32)),
    ]


def stable_seed(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def make(fx: Fixture, out: Path) -> dict:
    seed_everything(stable_seed(fx.name))
    module = fx.build().eval()
    if fx.calibrate:
        calibrate_batchnorm(module, (8, *fx.shape[1:]), seed=stable_seed(fx.name) + 2)
    rng = np.random.default_rng(stable_seed(fx.name) + 1)
    x = rng.standard_normal(fx.shape).astype(np.float32)
    with torch.no_grad():
        probe = module(torch.from_numpy(x))
    if probe.dim() != 2:
        raise ValueError(f"{fx.name}: the output has shape {tuple(probe.shape)}; expected [N, K]")

    def draw():
        x = rng.standard_normal(fx.shape).astype(np.float32)
        return x, rng.standard_normal(tuple(probe.shape)).astype(np.float32)

    meta = write_case(fx.name, module, draw, out, fx.opset, {"description": fx.description})
    if fx.fuse_pad:
        fuse_pad_into_conv(out / f"{fx.name}.onnx", fx.fuse_pad)
    return meta


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", nargs="*", help="fixture names to (re)make; default all")
    parser.add_argument("--list", action="store_true", help="print the fixture names and exit")
    args = parser.parse_args()
    torch.set_num_threads(1)  # one thread: reductions in the same order on every machine
    all_fixtures = fixtures()
    names = [f.name for f in all_fixtures]
    if len(set(names)) != len(names):
        raise SystemExit("duplicate fixture names")
    if args.list:
        print("\n".join(names))
        return 0
    chosen = all_fixtures
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            raise SystemExit(f"unknown fixture(s): {', '.join(unknown)}; see --list")
        chosen = [f for f in all_fixtures if f.name in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    failures = []
    for fx in chosen:
        try:
            meta = make(fx, args.out)
            err = meta["torch_float32"]["grad_rel_error"]
            draws = f"  ({meta['draws']} draws)" if meta["draws"] > 1 else ""
            print(f"{fx.name:28s} out {meta['output']['shape']}  float32 torch grad rel err {err:.1e}{draws}")
        except Exception as error:  # report every broken fixture, then fail
            failures.append(fx.name)
            print(f"{fx.name:28s} FAILED: {type(error).__name__}: {error}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} fixture(s) failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
