"""Text detection + recognition for the mmocr demo capability, on CPU, fully offline.

The models are PaddleOCR's PP-OCRv4 detector (DB) and recogniser (CRNN/SVTR, CTC)
plus the 0/180 degree line classifier, as ONNX files. They come from a local
resources folder when one holds them, else from the `rapidocr-onnxruntime` wheel,
which ships them inside the package. Nothing is ever downloaded.

The model-specific pre/post-processing (DB box extraction, CTC decoding) is the
one rapidocr-onnxruntime ships with those models; the pipeline around it is ours:
image limits, box scores kept per box, reading order, crops, thresholds, and the
MMOCR-style result (`box`, `box_score`, `text`, `text_score`).
"""

import os

import cv2
import numpy as np

DEFAULT_RESOURCES = "/resources/mmocr"

# File names looked for in a resources folder; any that is missing comes from the package.
RESOURCE_FILES = {"det": "det.onnx", "rec": "rec.onnx", "cls": "cls.onnx", "keys": "rec_keys.txt"}
PACKAGE_FILES = {
    "det": "ch_PP-OCRv4_det_infer.onnx",
    "rec": "ch_PP-OCRv4_rec_infer.onnx",
    "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
}


class OcrError(Exception):
    """A problem with the input, as opposed to a fault of the engine.

    kind: "empty", "not_image" or "too_large", so callers can map it to their own codes.
    """

    def __init__(self, message, kind):
        super().__init__(message)
        self.kind = kind


def _flag(value, default):
    if value is None or value == "":
        return default
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class Settings:
    """Engine settings from the wrapper config (strings), environment, then defaults."""

    def __init__(self, config=None, env=None):
        config = dict(config or {})
        env = os.environ if env is None else env
        self.resources = config.get("resources") or env.get("MMOCR_RESOURCES") or DEFAULT_RESOURCES
        # One intra-op thread per model: on a few cores, requests running side by side (workers)
        # use them better than one request spread over all of them; 0 leaves it to onnxruntime.
        threads = config.get("threads") or env.get("MMOCR_THREADS")
        self.threads = 1 if threads in (None, "") else int(threads)
        # PaddleOCR's own default: scale the longest side down to 960 px, never up.
        self.det_limit_side_len = int(config.get("det_limit_side_len") or 960)
        self.det_limit_type = config.get("det_limit_type") or "max"
        self.box_thresh = float(config.get("box_thresh") or 0.5)
        self.unclip_ratio = float(config.get("unclip_ratio") or 1.6)
        self.text_score = float(config.get("text_score") or 0.5)
        self.use_cls = _flag(config.get("use_cls"), True)
        self.max_side = int(config.get("max_side") or 4096)
        self.max_pixels = int(config.get("max_pixels") or 40_000_000)


def model_files(settings):
    """Which model file each part uses, and where it came from ('resources' or 'package')."""
    import rapidocr_onnxruntime

    package_dir = os.path.join(os.path.dirname(rapidocr_onnxruntime.__file__), "models")
    chosen = {}
    for part, name in RESOURCE_FILES.items():
        local = os.path.join(settings.resources, name)
        if os.path.isfile(local):
            chosen[part] = (local, "resources")
        elif part in PACKAGE_FILES:
            chosen[part] = (os.path.join(package_dir, PACKAGE_FILES[part]), "package")
    missing = [path for path, _ in chosen.values() if not os.path.isfile(path)]
    if missing:
        raise FileNotFoundError("OCR model files missing: " + ", ".join(missing))
    return chosen


class OcrEngine:
    def __init__(self, settings=None):
        # Imported here so that a missing package fails wrapperInit with a clear message.
        from rapidocr_onnxruntime.ch_ppocr_cls import TextClassifier
        from rapidocr_onnxruntime.ch_ppocr_det import TextDetector
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess
        from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer

        self.settings = s = settings or Settings()
        self.files = model_files(s)
        threads = s.threads if s.threads > 0 else -1
        common = {"intra_op_num_threads": threads, "inter_op_num_threads": -1, "use_cuda": False, "use_dml": False}
        self.detector = TextDetector(
            dict(
                common,
                model_path=self.files["det"][0],
                limit_side_len=s.det_limit_side_len,
                limit_type=s.det_limit_type,
                mean=[0.5, 0.5, 0.5],
                std=[0.5, 0.5, 0.5],
                thresh=0.3,
                box_thresh=s.box_thresh,
                max_candidates=1000,
                unclip_ratio=s.unclip_ratio,
                use_dilation=True,
                score_mode="fast",
            )
        )
        self._det_pre = DetPreProcess(s.det_limit_side_len, s.det_limit_type, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
        self.classifier = None
        if s.use_cls:
            self.classifier = TextClassifier(
                dict(
                    common,
                    model_path=self.files["cls"][0],
                    cls_image_shape=[3, 48, 192],
                    cls_batch_num=6,
                    cls_thresh=0.9,
                    label_list=["0", "180"],
                )
            )
        rec_config = dict(common, model_path=self.files["rec"][0], rec_img_shape=[3, 48, 320], rec_batch_num=6)
        if "keys" in self.files:
            rec_config["rec_keys_path"] = self.files["keys"][0]
        # Per-call state stays local in these three, and onnxruntime sessions are
        # thread-safe, so one engine serves concurrent calls.
        self.recogniser = TextRecognizer(rec_config)

    def describe(self):
        return ", ".join(f"{part}={path} ({where})" for part, (path, where) in sorted(self.files.items()))

    # --- input ---------------------------------------------------------------

    def decode(self, data):
        """Image bytes (jpg/png/bmp/webp/...) -> BGR array, or OcrError."""
        if not data:
            raise OcrError("input data is empty", "empty")
        buf = np.frombuffer(bytes(data), dtype=np.uint8)
        try:
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        except cv2.error:
            img = None
        if img is None or img.size == 0:
            raise OcrError("input data is not a decodable image", "not_image")
        h, w = img.shape[:2]
        if h * w > self.settings.max_pixels:
            raise OcrError(f"image is too large: {w}x{h} pixels (limit {self.settings.max_pixels})", "too_large")
        return img

    # --- pipeline ------------------------------------------------------------

    def run(self, img):
        """BGR image -> list of {box, box_score, text, text_score}, in reading order."""
        raw_h, raw_w = img.shape[:2]
        work, scale, pad_top = self._prepare(img)
        boxes, box_scores = self._detect(work)
        if not boxes:
            return []
        order = _reading_order(boxes)
        boxes = [boxes[i] for i in order]
        box_scores = [box_scores[i] for i in order]
        crops = [_crop(work, box) for box in boxes]
        if self.classifier is not None:
            crops, _, _ = self.classifier(crops)
        recognised, _ = self.recogniser(crops)

        results = []
        for box, box_score, rec in zip(boxes, box_scores, recognised):
            text, text_score = rec[0], float(rec[1])
            if not text.strip() or text_score < self.settings.text_score:
                continue
            # Back to the caller's pixel grid: undo the padding, then the scaling.
            pts = (box - np.array([0.0, pad_top], dtype=np.float32)) / scale
            pts[:, 0] = np.clip(pts[:, 0], 0, raw_w - 1)
            pts[:, 1] = np.clip(pts[:, 1], 0, raw_h - 1)
            results.append(
                {
                    "box": [int(round(v)) for v in pts.reshape(-1).tolist()],
                    "box_score": round(float(box_score), 6),
                    "text": text,
                    "text_score": round(text_score, 6),
                }
            )
        return results

    def _prepare(self, img):
        """Bounds the image size and pads strips too flat for the detector."""
        h, w = img.shape[:2]
        scale = 1.0
        if max(h, w) > self.settings.max_side:
            scale = self.settings.max_side / max(h, w)
        if min(h, w) * scale < 32:
            # A text line cropped tightly: enlarge it so the detector sees strokes, not pixels.
            scale = min(32 / min(h, w), self.settings.max_side / max(h, w), 8.0)
        if scale != 1.0:
            img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_CUBIC)
        h, w = img.shape[:2]
        pad_top = 0
        # DB needs some context above and below a line; a very flat strip gets a border of its own colour.
        want_h = max(64, w // 8)
        if h < want_h:
            pad_top = (want_h - h) // 2
            border = _border_colour(img)
            img = cv2.copyMakeBorder(img, pad_top, want_h - h - pad_top, 0, 0, cv2.BORDER_CONSTANT, value=border)
        return img, scale, pad_top

    def _detect(self, img):
        h, w = img.shape[:2]
        tensor = self._det_pre(img)
        if tensor is None:
            return [], []
        pred = self.detector.infer(tensor)[0]
        raw_boxes, raw_scores = self.detector.postprocess_op(pred, (h, w))
        boxes, scores = [], []
        for box, score in zip(raw_boxes, raw_scores):
            pts = _clockwise(np.asarray(box, dtype=np.float32))
            pts[:, 0] = np.clip(pts[:, 0], 0, w - 1)
            pts[:, 1] = np.clip(pts[:, 1], 0, h - 1)
            if np.linalg.norm(pts[0] - pts[1]) <= 3 or np.linalg.norm(pts[0] - pts[3]) <= 3:
                continue
            boxes.append(pts)
            scores.append(float(score))
        return boxes, scores


def _border_colour(img):
    edge = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    return [int(v) for v in np.median(edge, axis=0)]


def _clockwise(pts):
    """Four corners as top-left, top-right, bottom-right, bottom-left (image y points down)."""
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    ring = pts[np.argsort(angles)]  # increasing angle = clockwise on screen, starting near the left
    # Start at the corner nearest the top-left: the smallest x + y.
    start = int(np.argmin(ring[:, 0] + ring[:, 1]))
    return np.roll(ring, -start, axis=0).astype(np.float32)


def _reading_order(boxes):
    """Indices of the boxes top to bottom, and left to right within a line."""
    tops = [float(b[:, 1].min()) for b in boxes]
    heights = [float(b[:, 1].max() - b[:, 1].min()) for b in boxes]
    by_top = sorted(range(len(boxes)), key=lambda i: (tops[i], float(boxes[i][:, 0].min())))
    lines, current, line_top, line_h = [], [], None, 0.0
    for i in by_top:
        # Same line when the top edges differ by less than half a line height.
        if current and abs(tops[i] - line_top) < max(8.0, 0.5 * min(line_h, heights[i])):
            current.append(i)
            continue
        if current:
            lines.append(current)
        current, line_top, line_h = [i], tops[i], heights[i]
    if current:
        lines.append(current)
    return [i for line in lines for i in sorted(line, key=lambda j: float(boxes[j][:, 0].min()))]


def _crop(img, box):
    """The quadrilateral as an upright rectangle; tall crops are turned to read left to right."""
    width = int(max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[3] - box[2])))
    height = int(max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2])))
    width, height = max(width, 1), max(height, 1)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(box.astype(np.float32), target)
    crop = cv2.warpPerspective(img, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
    if height >= 1.5 * width:
        crop = np.rot90(crop)
    return np.ascontiguousarray(crop)
