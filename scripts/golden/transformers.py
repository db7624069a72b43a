"""Writes the vision-transformer fixtures in test/fixtures/transformers: torchvision's VisionTransformer and
SwinTransformer classes at small configs (random weights, seeded), exported to ONNX, with PyTorch references
for Grad-CAM on the default token layer, attention rollout and gradient-weighted attention rollout.

Why: Sightline reads token layers ([N, T, C], class token first) and channel-last maps (Swin's [N, h, w, C])
and the graph's attention Softmax outputs from the ONNX file alone; test/unit/transformer-*.test.ts check
its numbers against these references, computed here from the torch modules with hooks, so a wrong grid, a
dropped token too many, a batch/sequence axis mix-up or a head ordering slip shows as a number.

References (float64 copies of the modules, so the only error left is the float32 arithmetic under test):
  Grad-CAM: the default layer's output and its gradient (forward hook + retain_grad), reshaped as
    pytorch-grad-cam's reshape_transform does (ViT: drop the class token, [N, h·w, C] -> [N, C, h, w];
    Swin: [N, h, w, C] -> [N, C, h, w]); target = each image's top class, gradient of its logit;
    cam = ReLU(Σ_k mean(∂y/∂A_k) A_k) on the token grid. Default layers: ViT encoder.layers[-1].ln_1
    (the LayerNorm feeding the last attention, pytorch-grad-cam's `blocks[-1].norm1`); Swin model.norm
    (the last stage's output, normalised).
  Attention probabilities: torchvision's EncoderBlock calls MultiheadAttention with need_weights=False, and
    with need_weights=True torch returns a view that is not on the path to the output (so it has no
    gradient). Each block's self_attention is therefore replaced by ExplicitAttention, which computes the
    same function from the same in_proj/out_proj weights step by step and keeps the softmax output with
    retain_grad(); the script checks that the patched model's logits equal the original's.
  Rollout (Abnar & Zuidema 2020): per block fuse heads (mean|max|min), optionally zero the lowest
    `discard` fraction of the fused matrix (jacobgil/vit-explain's rule: never flat index 0, the class token's
    own attention; for a class token last, its own, flat index (T-1)·T + T-1), A = (Â + I)/2,
    rows normalised, R = A_L ··· A_1, map = R[0, 1:] on the grid.
  Grad-rollout (Chefer, Gur & Wolf, CVPR 2021, with attention in place of LRP relevance as their ICCV 2021
    follow-up does): Ā = mean_h clamp(∂y/∂A ⊙ A, min 0), A = Ā + I rows normalised (their
    compute_rollout_attention), R = A_L ··· A_1, map = R[0, 1:].

  /usr/bin/python3 scripts/golden/transformers.py [--out test/fixtures/transformers] [--full-vit DIR] [--only NAME]

vit_tiny_class_last appends its class token AFTER the patch tokens (ClassTokenLast): its references drop the
last token (Grad-CAM) and follow the last row of the rollout, R[T-1, :T-1].

--full-vit also exports torchvision's full-size vit_b_16 (random weights) at image size 32 into DIR (not the
repository: 340 MB) with the same references, for a one-off check.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torchvision.models.swin_transformer import SwinTransformer
from torchvision.models.vision_transformer import VisionTransformer

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import export_onnx, relative_max_error, save_npy, seed_everything, versions, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "test" / "fixtures" / "transformers"
OPSET = 17
BATCH = 2


class ExplicitAttention(nn.Module):
    """torch's batch-first multi-head self-attention written out, keeping the probabilities and their gradient."""

    def __init__(self, mha: nn.MultiheadAttention):
        super().__init__()
        self.mha = mha
        self.probabilities: torch.Tensor | None = None

    def forward(self, query, key, value, need_weights=False):
        m = self.mha
        n, t, c = query.shape
        h = m.num_heads
        qkv = nn.functional.linear(query, m.in_proj_weight, m.in_proj_bias)
        q, k, v = qkv.split(c, dim=-1)
        heads = lambda x: x.reshape(n, t, h, c // h).transpose(1, 2)  # [N, heads, T, d]
        q, k, v = heads(q), heads(k), heads(v)
        p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(c // h), dim=-1)
        p.retain_grad()
        self.probabilities = p
        out = (p @ v).transpose(1, 2).reshape(n, t, c)
        return m.out_proj(out), None


def tiny_vit() -> nn.Module:
    vit = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
                            num_classes=10)
    # torchvision starts the head at zero, which would make every gradient zero.
    nn.init.normal_(vit.heads.head.weight, std=0.2)
    return vit


def tiny_vit_batch_first() -> nn.Module:
    """The same ViT with its attention written out batch-first, as timm and Hugging Face export it: the
    projections are [N, T, 3C] token tensors and the probabilities [N, heads, T, T] (torch's own
    MultiheadAttention exports sequence-first [T, N, C] and [N·heads, T, T])."""
    vit = tiny_vit()
    for block in vit.encoder.layers:
        block.self_attention = ExplicitAttention(block.self_attention)
    return vit


class ClassTokenLast(VisionTransformer):
    """A ViT that appends its class token after the patch tokens (and reads it there), as some exports do:
    the learned token is the Concat's last input, so Sightline must drop the last token, not the first."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._process_input(x)
        x = torch.cat([x, self.class_token.expand(x.shape[0], -1, -1)], dim=1)
        x = self.encoder(x)
        return self.heads(x[:, -1])


def tiny_vit_class_last() -> nn.Module:
    vit = ClassTokenLast(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
                         num_classes=10)
    nn.init.normal_(vit.heads.head.weight, std=0.2)
    for block in vit.encoder.layers:
        block.self_attention = ExplicitAttention(block.self_attention)
    return vit


def tiny_swin() -> nn.Module:
    swin = SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 2], window_size=[4, 4],
                           mlp_ratio=2.0, num_classes=10)
    nn.init.normal_(swin.head.weight, std=0.2)
    return swin


def full_vit() -> nn.Module:
    vit = VisionTransformer(image_size=32, patch_size=16, num_layers=12, num_heads=12, hidden_dim=768,
                            mlp_dim=3072, num_classes=1000)
    nn.init.normal_(vit.heads.head.weight, std=0.02)
    return vit


def grad_cam(module: nn.Module, layer: nn.Module, x: torch.Tensor, to_nchw) -> dict:
    """Grad-CAM at `layer`'s output for each image's top class; also the layer's activations and gradients."""
    saved = {}

    def hook(_, __, output):
        output.retain_grad()
        saved["a"] = output

    handle = layer.register_forward_hook(hook)
    try:
        logits = module(x)
    finally:
        handle.remove()
    top = logits.argmax(1)
    logits.gather(1, top[:, None]).sum().backward()
    a = to_nchw(saved["a"].detach())
    g = to_nchw(saved["a"].grad)
    weights = g.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * a).sum(1))
    return {"logits": logits.detach(), "top": top, "activations": a, "gradients": g, "cam": cam}


def attention_maps(vit: nn.Module, x: torch.Tensor, top: torch.Tensor):
    """The blocks' attention probabilities [N, heads, T, T] and their gradients for each image's top logit."""
    blocks = list(vit.encoder.layers)
    for block in blocks:
        if not isinstance(block.self_attention, ExplicitAttention):
            block.self_attention = ExplicitAttention(block.self_attention)
    logits = vit(x)
    logits.gather(1, top[:, None]).sum().backward()
    probs = [b.self_attention.probabilities.detach() for b in blocks]
    grads = [b.self_attention.probabilities.grad for b in blocks]
    return logits.detach(), probs, grads


def class_row(result: torch.Tensor, cls: int) -> torch.Tensor:
    """The class token's row of the rollout, without the class token's own column: the patches' shares."""
    row = result[:, cls, :]
    return row[:, 1:] if cls == 0 else row[:, :cls]


def rollout(probs, fusion: str = "mean", discard: float = 0.0, cls: int = 0) -> torch.Tensor:
    n, _, t, _ = probs[0].shape
    eye = torch.eye(t, dtype=probs[0].dtype)
    result = eye.expand(n, t, t).clone()
    for p in probs:
        fused = {"mean": p.mean(1), "max": p.max(1).values, "min": p.min(1).values}[fusion].clone()
        flat = fused.view(n, -1)
        drop = int(flat.shape[-1] * discard)
        if drop > 0:
            for i in range(n):
                _, idx = flat[i].topk(drop, largest=False)
                flat[i, idx[idx != cls * t + cls]] = 0  # the class token's own attention is kept
        a = (fused + eye) / 2
        a = a / a.sum(-1, keepdim=True)
        result = a @ result
    return class_row(result, cls)


def grad_rollout(probs, grads, cls: int = 0) -> torch.Tensor:
    n, _, t, _ = probs[0].shape
    eye = torch.eye(t, dtype=probs[0].dtype)
    result = eye.expand(n, t, t).clone()
    for p, g in zip(probs, grads):
        a = (g * p).clamp(min=0).mean(1) + eye
        a = a / a.sum(-1, keepdim=True)
        result = a @ result
    return class_row(result, cls)


def grid_of(tokens: torch.Tensor) -> torch.Tensor:
    n, hw = tokens.shape
    side = int(round(math.sqrt(hw)))
    return tokens.reshape(n, side, side)


def vit_tokens_to_nchw(t: torch.Tensor) -> torch.Tensor:
    n, tokens, c = t.shape
    side = int(round(math.sqrt(tokens - 1)))
    return t[:, 1:, :].reshape(n, side, side, c).permute(0, 3, 1, 2)


def vit_last_tokens_to_nchw(t: torch.Tensor) -> torch.Tensor:
    n, tokens, c = t.shape
    side = int(round(math.sqrt(tokens - 1)))
    return t[:, :-1, :].reshape(n, side, side, c).permute(0, 3, 1, 2)


def drop_node_names(path: Path) -> None:
    """Node names (not tensor names, which name the layers) are a fifth of a small Swin file; nothing reads them."""
    import onnx

    model = onnx.load(str(path))
    for node in model.graph.node:
        node.name = ""
    onnx.save(model, str(path))


def make(name: str, build, out: Path, seed: int, kind: str) -> dict:
    seed_everything(seed)
    module = build().eval()
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((BATCH, 3, 32, 32)).astype(np.float32)
    export_onnx(module, torch.from_numpy(x), out / f"{name}.onnx", OPSET)
    drop_node_names(out / f"{name}.onnx")
    for m in module.modules():
        if isinstance(m, ExplicitAttention):
            m.probabilities = None  # the export's, not a leaf: deepcopy refuses it
    save_npy(out / f"{name}.input.npy", x)
    for p in module.parameters():
        p.requires_grad_(False)

    def references(m: nn.Module, dtype) -> dict:
        m = copy.deepcopy(m).to(dtype)
        xt = torch.from_numpy(x).to(dtype).requires_grad_(True)  # so hooks see tensors that carry gradients
        if kind in ("vit", "vit_last"):
            last = kind == "vit_last"
            cls = -1 if last else 0
            cam = grad_cam(m, m.encoder.layers[-1].ln_1, xt, vit_last_tokens_to_nchw if last else vit_tokens_to_nchw)
            logits, probs, grads = attention_maps(m, xt, cam["top"])
            if relative_max_error(logits.numpy(), cam["logits"].numpy()) > 1e-6:
                raise ValueError(f"{name}: the explicit attention changes the logits")
            t = probs[0].shape[-1]
            cam["rollout"] = grid_of(rollout(probs, cls=cls % t))
            cam["rollout_max_discard"] = grid_of(rollout(probs, "max", 0.5, cls=cls % t))
            cam["grad_rollout"] = grid_of(grad_rollout(probs, grads, cls=cls % t))
            cam["attention0"] = probs[0]
        else:
            cam = grad_cam(m, m.norm, xt, lambda t: t.permute(0, 3, 1, 2))
        return cam

    wide = references(module, torch.float64)
    narrow = references(module, torch.float32)
    keys = ["logits", "activations", "gradients", "cam"]
    if kind in ("vit", "vit_last"):
        keys += ["rollout", "rollout_max_discard", "grad_rollout", "attention0"]
    for key in keys:
        save_npy(out / f"{name}.{key}.npy", wide[key].numpy())
    meta = {
        "name": name,
        "model": f"{name}.onnx",
        "opset": OPSET,
        "input": list(x.shape),
        "top": wide["top"].tolist(),
        "defaultLayer": "norm" if kind == "swin" else "encoder.layers[-1].ln_1",
        "torch_float32_rel_error": {
            k: relative_max_error(narrow[k].numpy(), wide[k].numpy()) for k in keys
        },
        "versions": versions(),
    }
    write_json(out / f"{name}.json", meta)
    return meta


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--full-vit", type=Path, help="also write full-size vit_b_16 (image 32) here")
    parser.add_argument("--only", help="write only this fixture (e.g. vit_tiny_class_last), leaving the others' bytes")
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [
        ("vit_tiny", tiny_vit, args.out, 1301, "vit"),
        ("vit_tiny_batch_first", tiny_vit_batch_first, args.out, 1304, "vit"),
        ("swin_tiny", tiny_swin, args.out, 1302, "swin"),
        ("vit_tiny_class_last", tiny_vit_class_last, args.out, 1305, "vit_last"),
    ]
    if args.full_vit:
        args.full_vit.mkdir(parents=True, exist_ok=True)
        jobs.append(("vit_b_16_32px", full_vit, args.full_vit, 1303, "vit"))
    if args.only:
        jobs = [j for j in jobs if j[0] == args.only]
    for job in jobs:
        meta = make(*job)
        worst = max(meta["torch_float32_rel_error"].values())
        print(f"{meta['name']:16s} top {meta['top']}  float32 torch worst rel err {worst:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
