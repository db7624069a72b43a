"""Writes test/fixtures/hf: a Hugging Face model folder and a timm model folder around one small torch
classifier, the pixel values that transformers' image processor and timm's evaluation transform make from two
real photos (computed here with PIL by their documented formulas), the torch logits on those pixel values, and
PIL's own resize of a small random image with each filter Sightline implements.

Why: `--model folder/` must read the folders' JSON files and preprocess photos exactly as those libraries do
(shortest-edge resize with PIL's bicubic filter, centre crop with transformers' floor or torchvision's rounded
offset, rescale and normalise), and give the model's predictions on them. test/unit/hf-folder.test.ts checks
our preprocessing against these pixel values and our predictions against these logits without Python.
transformers and timm are not installed here: the config files are written by hand in the formats those
libraries save (transformers' save_pretrained, timm's push_to_hf_hub), and the preprocessing follows
transformers' BitImageProcessor.preprocess (get_resize_output_image_size, PIL resize of uint8 pixels,
center_crop with floor offsets, rescale, normalize) and timm's transforms_imagenet_eval (torchvision's
Resize(floor(size / crop_pct)) and CenterCrop on a PIL image, ToTensor, Normalize).

Files (all small):
  resample/source.npy            a 37 × 23 random RGB uint8 image [H, W, 3], stored as float32
  resample/<filter>_<W>x<H>.npy  PIL's resize of it, uint8 [H, W, 3] stored as float32
  hf-vit/                        config.json (id2label, problem_type), preprocessor_config.json,
                                 onnx/model.onnx, onnx/model_quantized.onnx (a stand-in: the same graph with the
                                 classifier's weights halved, so a test can tell which file was loaded; not a
                                 quantized model), onnx/model_fp16.onnx (a float16 graph, for the refusal)
  timm-net/                      config.json (pretrained_cfg, label_names), model.onnx
  <folder>.<photo>.pixels.npy    the library's pixel values [1, 3, h, w], float32
  <folder>.<photo>.logits.npy    torch's logits on them [1, K], float32
  expected.json                  sizes, crops and offsets per photo, the labels, versions

  /usr/bin/python3 scripts/golden/hf_folders.py [--out test/fixtures/hf] [--images ../shared/images]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import PIL
import torch
import torchvision
from onnx import TensorProto, helper
from PIL import Image
from torch import nn
from torchvision import transforms

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import seed_everything, versions  # noqa: E402

PHOTOS = ["chelsea.png", "coffee.png"]  # PNG: decoded to the same pixels by PIL and by sharp

HF_LABELS = ["tabby cat", "coffee mug", "espresso", "saucer", "astronaut"]
HF_SHORTEST_EDGE = 41  # odd extras on both photos' sides: transformers' floor offset is exercised
HF_CROP = 32
HF_MEAN = [0.48145466, 0.4578275, 0.40821073]
HF_STD = [0.26862954, 0.26130258, 0.27577711]
RESCALE = 0.00392156862745098  # 1/255 as transformers writes it

TIMM_LABELS = ["cat", "cup", "plate", "spoon"]
TIMM_SIZE = 32
TIMM_CROP_PCT = 0.9  # floor(32 / 0.9) = 35: a short-side extra of 3, offset round(1.5) = 2, not floor's 1
TIMM_MEAN = [0.485, 0.456, 0.406]
TIMM_STD = [0.229, 0.224, 0.225]


class TinyNet(nn.Module):
    """Two strided convolutions, global average pooling and a linear classifier: any input size."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(8, 12, 3, stride=2, padding=1), nn.ReLU()
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(12, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def export(model: nn.Module, size: int, path: Path, input_name: str, output_name: str, dynamic_size: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    axes = {input_name: {0: "batch_size"}, output_name: {0: "batch_size"}}
    if dynamic_size:  # as Optimum exports image classifiers: pixel_values [batch_size, num_channels, height, width]
        axes[input_name].update({2: "height", 3: "width"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(1, 3, size, size),),
            str(path),
            input_names=[input_name],
            output_names=[output_name],
            dynamic_axes=axes,
            opset_version=13,
            do_constant_folding=True,
        )


def fp16_graph(path: Path) -> None:
    """A float16 graph in and out (as Optimum's fp16 export makes): mean over the pixels, per channel."""
    x = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT16, ["batch_size", 3, 8, 8])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT16, ["batch_size", 3])
    node = helper.make_node("ReduceMean", ["pixel_values"], ["logits"], axes=[2, 3], keepdims=0)
    graph = helper.make_graph([node], "fp16", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


def hf_pixels(image: Image.Image) -> tuple[np.ndarray, dict]:
    """BitImageProcessor.preprocess: shortest-edge resize (PIL bicubic on uint8), floor-offset centre crop,
    rescale by rescale_factor, normalise."""
    width, height = image.size
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = HF_SHORTEST_EDGE, int(HF_SHORTEST_EDGE * long / short)
    new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    resized = np.array(image.resize((new_w, new_h), resample=Image.BICUBIC, reducing_gap=None))  # uint8 HWC
    top, left = (new_h - HF_CROP) // 2, (new_w - HF_CROP) // 2
    cropped = resized[top : top + HF_CROP, left : left + HF_CROP]
    rescaled = (cropped.astype(np.float64) * RESCALE).astype(np.float32)
    normalised = (rescaled - np.array(HF_MEAN, dtype=np.float32)) / np.array(HF_STD, dtype=np.float32)
    pixels = normalised.transpose(2, 0, 1)[None].astype(np.float32)
    return pixels, {"resized": [new_w, new_h], "left": left, "top": top}


def timm_pixels(image: Image.Image) -> tuple[np.ndarray, dict]:
    """timm's transforms_imagenet_eval for crop_mode 'center': torchvision Resize(floor(size / crop_pct)) with
    PIL bicubic, CenterCrop(size) (offsets int(round(extra / 2))), ToTensor, Normalize."""
    scale = int(np.floor(TIMM_SIZE / TIMM_CROP_PCT))
    resize = transforms.Resize(scale, interpolation=transforms.InterpolationMode.BICUBIC)
    resized = resize(image)
    pipeline = transforms.Compose(
        [transforms.CenterCrop(TIMM_SIZE), transforms.ToTensor(), transforms.Normalize(TIMM_MEAN, TIMM_STD)]
    )
    pixels = pipeline(resized)[None].numpy().astype(np.float32)
    new_w, new_h = resized.size
    left, top = int(round((new_w - TIMM_SIZE) / 2.0)), int(round((new_h - TIMM_SIZE) / 2.0))
    return pixels, {"resized": [new_w, new_h], "left": left, "top": top}


def resample_cases(out: Path) -> dict:
    """PIL's resize of one random uint8 image with each filter, shrinking and enlarging."""
    rng = np.random.default_rng(13)
    source = rng.integers(0, 256, size=(23, 37, 3), dtype=np.uint8)
    folder = out / "resample"
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "source.npy", source.astype(np.float32))  # .npy readers here take float32
    cases = []
    filters = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
    for name, code in filters.items():
        for w, h in [(11, 7), (80, 50), (37, 9), (11, 23), (80, 23)]:  # the last two: one pass only
            resized = np.array(Image.fromarray(source).resize((w, h), resample=code, reducing_gap=None))
            np.save(folder / f"{name}_{w}x{h}.npy", resized.astype(np.float32))
            cases.append({"filter": name, "width": w, "height": h})
    return {"source": [37, 23], "cases": cases}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("test/fixtures/hf"))
    parser.add_argument("--images", type=Path, default=Path("../shared/images"))
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    expected: dict = {"versions": {**versions(), "pillow": PIL.__version__, "onnx": onnx.__version__}}
    expected["resample"] = resample_cases(out)

    # Hugging Face folder (transformers.js / Optimum layout).
    seed_everything(1301)
    hf_model = TinyNet(len(HF_LABELS)).eval()
    hf = out / "hf-vit"
    export(hf_model, HF_CROP, hf / "onnx" / "model.onnx", "pixel_values", "logits", dynamic_size=True)
    halved = TinyNet(len(HF_LABELS)).eval()
    halved.load_state_dict(hf_model.state_dict())
    with torch.no_grad():
        halved.classifier.weight.mul_(0.5)
        halved.classifier.bias.mul_(0.5)
    export(halved, HF_CROP, hf / "onnx" / "model_quantized.onnx", "pixel_values", "logits", dynamic_size=True)
    fp16_graph(hf / "onnx" / "model_fp16.onnx")
    config = {
        "_name_or_path": "sightline/tiny-hf-classifier",
        "architectures": ["BitForImageClassification"],
        "model_type": "bit",
        "id2label": {str(i): name for i, name in enumerate(HF_LABELS)},
        "label2id": {name: i for i, name in enumerate(HF_LABELS)},
        "problem_type": "single_label_classification",
        "num_channels": 3,
        "torch_dtype": "float32",
        "transformers_version": "4.40.0",
    }
    (hf / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    preprocessor = {
        "crop_size": {"height": HF_CROP, "width": HF_CROP},
        "do_center_crop": True,
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": HF_MEAN,
        "image_processor_type": "BitImageProcessor",
        "image_std": HF_STD,
        "resample": 3,
        "rescale_factor": RESCALE,
        "size": {"shortest_edge": HF_SHORTEST_EDGE},
    }
    (hf / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2) + "\n")

    # timm folder (push_to_hf_hub layout, with the model exported to ONNX beside it).
    seed_everything(1302)
    timm_model = TinyNet(len(TIMM_LABELS)).eval()
    timm = out / "timm-net"
    export(timm_model, TIMM_SIZE, timm / "model.onnx", "input0", "output0", dynamic_size=False)
    timm_config = {
        "architecture": "tinynet",
        "num_classes": len(TIMM_LABELS),
        "num_features": 12,
        "global_pool": "avg",
        "pretrained_cfg": {
            "tag": "sightline_test",
            "custom_load": False,
            "input_size": [3, TIMM_SIZE, TIMM_SIZE],
            "fixed_input_size": False,
            "interpolation": "bicubic",
            "crop_pct": TIMM_CROP_PCT,
            "crop_mode": "center",
            "mean": TIMM_MEAN,
            "std": TIMM_STD,
            "num_classes": len(TIMM_LABELS),
            "pool_size": [1, 1],
            "first_conv": "features.0",
            "classifier": "classifier",
        },
        "label_names": TIMM_LABELS,
    }
    (timm / "config.json").write_text(json.dumps(timm_config, indent=2) + "\n")

    photos = {}
    for photo in PHOTOS:
        image = Image.open(args.images / photo).convert("RGB")
        stem = Path(photo).stem
        entry = {"size": list(image.size)}
        for name, model, pixels_of in [("hf-vit", hf_model, hf_pixels), ("timm-net", timm_model, timm_pixels)]:
            pixels, geometry = pixels_of(image)
            with torch.no_grad():
                logits = model(torch.from_numpy(pixels)).numpy()
            np.save(out / f"{name}.{stem}.pixels.npy", pixels)
            np.save(out / f"{name}.{stem}.logits.npy", logits.astype(np.float32))
            entry[name] = geometry
        photos[photo] = entry
    expected["photos"] = photos
    expected["hf-vit"] = {"labels": HF_LABELS, "shortest_edge": HF_SHORTEST_EDGE, "crop": HF_CROP}
    expected["timm-net"] = {"labels": TIMM_LABELS, "scale": int(np.floor(TIMM_SIZE / TIMM_CROP_PCT)), "crop": TIMM_SIZE}
    (out / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    print(json.dumps(photos, indent=2))


if __name__ == "__main__":
    main()
