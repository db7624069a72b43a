"""Writes the detector fixtures in test/fixtures/detectors: tiny detectors with HAND-SET weights that find
coloured squares, exported to ONNX in each output layout Sightline decodes, with torch's own raw outputs and
a reference decode made with torchvision.ops.batched_nms.

Why: src/models/detect-format.ts and detect-decode.ts must read the layouts exactly as Ultralytics and
torchvision do; test/unit/detection-fixtures.test.ts compares them with these files, without Python.

The detector (64 × 64 input, one anchor every 4 pixels: 16 × 16 = 256 anchors at (4j + 2, 4i + 2)):
  class c's score at an anchor = sigmoid(K · (mean of channel c over the 16 × 16 window centred there − T)),
  a grouped Conv2d with weights K/256 and bias −K·T; the box is a constant 16 × 16 around the anchor.
A red, a green and a blue square of side 16 centred on anchors (brightness 1.0, 0.9, 0.8, so no two kept
scores tie) give one detection each; the anchors one step beside a square see 3/4 of it and score high too,
with IoU 0.6 to the square's box, so NMS (IoU threshold 0.45) has real work to do.

Layouts written (<name>.onnx, <name>.out.<output>.npy raw torch outputs, <name>.ref.json the reference):
  yolov8       [1, 4 + 3, 256]                     cx, cy, w, h, class scores
  yolov5       [1, 256, 5 + 3]                     cx, cy, w, h, objectness, class scores
  yolov8_seg   [1, 4 + 3 + 32, 256] + [1, 32, 16, 16] mask coefficients and prototypes
  postnms      boxes [K, 4], scores [K], labels [K] with batched_nms inside the graph (torchvision style;
               torch 1.13 exports it as ONNX NonMaxSuppression inside an If; labels are int64)
Also ssdlite.json: whether torchvision's ssdlite320_mobilenet_v3_large (random weights) exports and its size,
in full and narrowed (width_mult 0.25, 3 classes); the ONNX files go to --ssdlite (default /tmp), not the
repository (14 MB and 2.5 MB).

  /usr/bin/python3 scripts/golden/detectors.py [--out test/fixtures/detectors] [--ssdlite /tmp]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch import nn

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import save_npy, seed_everything, versions, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "test" / "fixtures" / "detectors"

SIZE = 64
STRIDE = 4
WINDOW = 16
K = 30.0  # steepness of the class sigmoid
T = 0.7  # window mean at which a class scores 0.5
SCORE_THRESHOLD = 0.25
IOU_THRESHOLD = 0.45
MASKS = 32
# Square centres (x, y) on anchors, their channel (= class) and brightness.
SQUARES = [((18, 22), 0, 1.0), ((42, 46), 1, 0.9), ((50, 14), 2, 0.8)]


def test_image() -> np.ndarray:
    rng = np.random.default_rng(14)
    x = rng.uniform(0, 0.1, size=(1, 3, SIZE, SIZE)).astype(np.float32)
    for (cx, cy), c, v in SQUARES:
        x[0, :, cy - 8 : cy + 8, cx - 8 : cx + 8] = 0.05
        x[0, c, cy - 8 : cy + 8, cx - 8 : cx + 8] = v
    return x


class Squares(nn.Module):
    """The hand-set detector; `layout` picks the output form."""

    def __init__(self, layout: str):
        super().__init__()
        self.layout = layout
        pad = (WINDOW - STRIDE) // 2  # windows [4j − 6, 4j + 10): centred on 4j + 2
        self.cls = nn.Conv2d(3, 3, WINDOW, stride=STRIDE, padding=pad, groups=3)
        self.obj = nn.Conv2d(3, 1, WINDOW, stride=STRIDE, padding=pad)
        self.proto = nn.Conv2d(3, MASKS, STRIDE, stride=STRIDE)
        with torch.no_grad():
            self.cls.weight.fill_(K / WINDOW**2)
            self.cls.bias.fill_(-K * T)
            self.obj.weight.fill_(K / WINDOW**2)  # the sum over channels: any bright square
            self.obj.bias.fill_(-K * T)
            self.proto.weight.zero_()
            self.proto.bias.zero_()
            for c in range(3):  # prototype c: 8 · (mean of channel c over 4 × 4 − 0.5)
                self.proto.weight[c, c].fill_(8.0 / STRIDE**2)
                self.proto.bias[c] = -4.0
        n = SIZE // STRIDE
        ys, xs = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
        centres = torch.stack([xs.flatten(), ys.flatten()]).float() * STRIDE + STRIDE / 2
        self.register_buffer("centres", centres[None])  # [1, 2, A]
        self.register_buffer("size", torch.full((1, 2, n * n), float(WINDOW)))

    def forward(self, x):
        b = x.shape[0]
        cls = torch.sigmoid(self.cls(x)).flatten(2)  # [N, 3, A]
        box = torch.cat([self.centres.expand(b, -1, -1), self.size.expand(b, -1, -1)], 1)  # cx, cy, w, h
        if self.layout == "yolov8":
            return torch.cat([box, cls], 1)
        if self.layout == "yolov5":
            obj = torch.sigmoid(self.obj(x)).flatten(2)
            return torch.cat([box, obj, cls], 1).transpose(1, 2)
        if self.layout == "yolov8_seg":
            coeffs = torch.cat([cls * 4.0, torch.zeros_like(box[:, :1]).expand(-1, MASKS - 3, -1)], 1)
            return torch.cat([box, cls, coeffs], 1), self.proto(x)
        raise ValueError(self.layout)


class PostNms(nn.Module):
    """The yolov8 detector with its decode and torchvision's batched_nms inside the graph (one image)."""

    def __init__(self):
        super().__init__()
        self.body = Squares("yolov8")

    def forward(self, x):
        p = self.body(x)[0]  # [7, A]
        boxes = torchvision.ops.box_convert(p[:4].T, "cxcywh", "xyxy")
        scores, labels = p[4:].max(0)
        keep = scores > SCORE_THRESHOLD
        boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
        kept = torchvision.ops.batched_nms(boxes, scores, labels, IOU_THRESHOLD)
        return boxes[kept], scores[kept], labels[kept]


def reference(pred: torch.Tensor, objectness: bool, masks: int = 0, protos: torch.Tensor | None = None) -> list:
    """Ultralytics' non_max_suppression (multi_label off) with torchvision.ops.batched_nms, image 0."""
    p = pred[0].T if not objectness else pred[0]  # [A, channels]
    if objectness:
        keep_obj = p[:, 4] > SCORE_THRESHOLD
        cls = p[:, 5 : 5 + 3] * p[:, 4:5]
    else:
        keep_obj = torch.ones(p.shape[0], dtype=torch.bool)
        cls = p[:, 4 : 4 + 3]
    conf, j = cls.max(1)
    keep = keep_obj & (conf > SCORE_THRESHOLD)
    idx = torch.nonzero(keep).flatten()
    boxes = torchvision.ops.box_convert(p[idx, :4], "cxcywh", "xyxy")
    kept = idx[torchvision.ops.batched_nms(boxes, conf[idx], j[idx], IOU_THRESHOLD)]
    # NMS must have had work to do: more candidates above the threshold than detections kept.
    assert len(idx) > len(kept), (len(idx), len(kept))
    out = []
    for a in kept.tolist():
        box = torchvision.ops.box_convert(p[a, :4][None], "cxcywh", "xyxy")[0]
        det = {"anchor": a, "box": box.tolist(), "score": float(conf[a]), "class": int(j[a])}
        if masks:
            first = 4 + 3
            coeffs = p[a, first : first + masks]
            _, m, h, w = protos.shape
            mask = torch.sigmoid(coeffs @ protos[0].reshape(m, -1)).reshape(h, w)
            # Ultralytics' crop_mask at the prototype resolution.
            x0, y0, x1, y1 = (box * torch.tensor([w / SIZE, h / SIZE, w / SIZE, h / SIZE])).tolist()
            r = torch.arange(w)[None, :]
            c = torch.arange(h)[:, None]
            mask = mask * ((r >= x0) & (r < x1) & (c >= y0) & (c < y1))
            det["mask"] = mask.flatten().tolist()
            det["mask_size"] = [w, h]
        out.append(det)
    return out


def export(module: nn.Module, x: torch.Tensor, path: Path, outputs: list[str], dynamic: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (x,),
            str(path),
            input_names=["images"],
            output_names=outputs,
            dynamic_axes={"images": {0: "batch"}, **{o: {0: "batch"} for o in outputs}} if dynamic else None,
            opset_version=17,
            do_constant_folding=True,
        )


def write(out: Path, name: str, module: nn.Module, x: np.ndarray, outputs: list[str], ref, dynamic=True, extra=None):
    module.eval()
    xt = torch.from_numpy(x)
    with torch.no_grad():
        raw = module(xt)
    raw = raw if isinstance(raw, tuple) else (raw,)
    export(module, xt, out / f"{name}.onnx", outputs, dynamic)
    for o, r in zip(outputs, raw):
        save_npy(out / f"{name}.out.{o}.npy", r.float().numpy())
    write_json(
        out / f"{name}.ref.json",
        {
            "name": name,
            "model": f"{name}.onnx",
            "input": {"name": "images", "file": "input.npy", "shape": list(x.shape)},
            "outputs": [{"name": o, "shape": list(r.shape)} for o, r in zip(outputs, raw)],
            "score_threshold": SCORE_THRESHOLD,
            "iou_threshold": IOU_THRESHOLD,
            "squares": [{"box": [cx - 8, cy - 8, cx + 8, cy + 8], "class": c} for (cx, cy), c, _ in SQUARES],
            "detections": ref(raw) if callable(ref) else ref,
            **(extra or {}),
            "versions": versions(),
        },
    )


def ssdlite(path: Path, width_mult: float = 1.0, num_classes: int = 91) -> dict:
    """torchvision's ssdlite320_mobilenet_v3_large with random weights, exported for one 320 × 320 image.

    The graph holds torchvision's own transform (resize to 320, normalise with mean 0.5 and std 0.5: feed it
    0–1 pixels) and its post-processing (score threshold 0.001, class-wise NMS, 300 detections)."""
    torch.manual_seed(0)
    model = torchvision.models.detection.ssdlite320_mobilenet_v3_large(
        weights=None, weights_backbone=None, num_classes=num_classes, width_mult=width_mult
    ).eval()
    x = torch.rand(1, 3, 320, 320)
    info: dict = {
        "model": "ssdlite320_mobilenet_v3_large",
        "width_mult": width_mult,
        "num_classes": num_classes,
        "weights": None,
        "opset": 17,
        "written_to": str(path),
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (x,),
                str(path),
                input_names=["images"],
                output_names=["boxes", "scores", "labels"],
                opset_version=17,
            )
        info["exported"] = True
        info["bytes"] = path.stat().st_size
        with torch.no_grad():
            ref = model(x)[0]
        info["torch_detections"] = int(ref["boxes"].shape[0])
        info["torch_max_score"] = float(ref["scores"].max()) if len(ref["scores"]) else None
    except Exception as e:  # noqa: BLE001 - recorded for the next step
        info["exported"] = False
        info["error"] = str(e)[:500]
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--ssdlite", type=Path, default=Path("/tmp"), help="folder for the SSDlite exports")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    seed_everything(14)
    x = test_image()
    save_npy(args.out / "input.npy", x)
    write(args.out, "yolov8", Squares("yolov8"), x, ["output0"], lambda r: reference(r[0], False))
    write(args.out, "yolov5", Squares("yolov5"), x, ["output0"], lambda r: reference(r[0], True))
    write(
        args.out,
        "yolov8_seg",
        Squares("yolov8_seg"),
        x,
        ["output0", "output1"],
        lambda r: reference(r[0], False, MASKS, r[1]),
    )

    def post(r):
        return [
            {"box": b, "score": s, "class": c}
            for b, s, c in zip(r[0].tolist(), r[1].tolist(), r[2].tolist())
        ]

    # The same detections the yolov8 reference gives, from NMS inside the graph.
    write(args.out, "postnms", PostNms(), x, ["boxes", "scores", "labels"], post, dynamic=False)
    # Not kept in the repository (megabytes): the full model, and a narrow one of the same architecture.
    exports = [
        ssdlite(args.ssdlite / "ssdlite320.onnx"),
        ssdlite(args.ssdlite / "ssdlite320_w025_c3.onnx", width_mult=0.25, num_classes=3),
    ]
    write_json(
        args.out / "ssdlite.json",
        {
            "exports": exports,
            # Checked by hand on 2026-12-03 with onnxruntime-node and src/models/detect-decode.ts (Debian's
            # python has no onnxruntime): both run; outputs boxes [300, 4] float32 (xyxy pixels of the given
            # image), scores [300] float32, labels [300] int64 (0 = background); decoded as 'post-nms' by
            # name; random weights score about 0.01, under the default 0.25 threshold.
            "ort": "runs (about 0.2 s for the full model on 2 CPU threads); read as post-nms by name",
            "versions": versions(),
        },
    )


if __name__ == "__main__":
    main()
