"""Writes torch's own instance masks for the YOLOv8-seg square detector (test/fixtures/detectors/yolov8_seg.*),
from its committed raw outputs and reference decode, at the model input and mapped to letterboxed photos.

Why: src/models/detect-mask.ts turns a detection's prototype-resolution mask into a mask over the photo as
Ultralytics does; test/unit/detection-masks.test.ts compares it with these numbers, without Python.

Steps, as Ultralytics' process_mask (upsample=True) and scale_image:
  1. the detection's mask at prototype resolution: sigmoid(coefficients · prototypes), 0 outside its box
     (crop_mask), as yolov8_seg.ref.json holds it (written by detectors.py);
  2. F.interpolate to the 64 × 64 input, bilinear, align_corners=False;
  3. the letterbox undone: the photo's window of the input cut out and resized to the photo, bilinear
     (antialiased when shrinking, as PIL and torch's antialias=True; Ultralytics' cv2.resize does not antialias,
     which only matters for photos smaller than the model input);
  4. thresholded at 0.5 by the reader (values are written before the threshold, so a test can tell pixels that
     sit on it).
The photos are hypothetical (the detector saw input.npy): only their letterbox geometry matters here, which is
written beside the masks as Ultralytics' LetterBox makes it (round(side · r), padding floor(d / 2) before).

Writes yolov8_seg.mask_input.npy [D, 64, 64], yolov8_seg.mask_photo_<w>x<h>.npy [D, h, w] and
yolov8_seg.masks.json (the geometries).

  /usr/bin/python3 scripts/golden/seg_masks.py [--out test/fixtures/detectors]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import save_npy, versions, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "test" / "fixtures" / "detectors"
SIZE = 64
# Photo sizes (width, height): wider than the input (enlarged) and smaller than it (shrunk).
PHOTOS = [(96, 64), (48, 32)]


def letterbox(w: int, h: int) -> tuple[int, int, int, int]:
    r = min(SIZE / w, SIZE / h)
    nw, nh = min(SIZE, max(1, round(w * r))), min(SIZE, max(1, round(h * r)))
    return (SIZE - nw) // 2, (SIZE - nh) // 2, nw, nh


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    ref = json.loads((args.out / "yolov8_seg.ref.json").read_text())
    protos = []
    for d in ref["detections"]:
        w, h = d["mask_size"]
        protos.append(torch.tensor(d["mask"], dtype=torch.float32).reshape(h, w))
    m = torch.stack(protos)[None]  # [1, D, h, w]
    at_input = F.interpolate(m, (SIZE, SIZE), mode="bilinear", align_corners=False)
    save_npy(args.out / "yolov8_seg.mask_input.npy", at_input[0].numpy().astype(np.float32))
    photos = []
    for pw, ph in PHOTOS:
        left, top, nw, nh = letterbox(pw, ph)
        window = at_input[:, :, top : top + nh, left : left + nw]
        shrink = pw < nw or ph < nh
        at_photo = F.interpolate(window, (ph, pw), mode="bilinear", align_corners=False, antialias=shrink)
        name = f"yolov8_seg.mask_photo_{pw}x{ph}.npy"
        save_npy(args.out / name, at_photo[0].numpy().astype(np.float32))
        photos.append({"width": pw, "height": ph, "letterbox": [left, top, nw, nh], "file": name})
    write_json(
        args.out / "yolov8_seg.masks.json",
        {
            "detections": len(ref["detections"]),
            "input": {"width": SIZE, "height": SIZE, "file": "yolov8_seg.mask_input.npy"},
            "photos": photos,
            "threshold": 0.5,
            "versions": versions(),
        },
    )


if __name__ == "__main__":
    main()
