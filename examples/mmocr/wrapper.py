"""mmocr: the ASF demo OCR capability, as an AIGES class-style wrapper.

Input `payload.data` is an image (jpg, png, ...); output `boxes` is JSON, one element
per image, MMOCR's `readtext(details=True)` shape:

    [{"filename": "0", "result": [{"box": [x1,y1,x2,y2,x3,y3,x4,y4], "box_score": 0.84,
                                   "text": "ASF KIT", "text_score": 0.95}, ...]}]

`box` is the text region's four corners, clockwise from the top-left, in pixels of the
image sent. The engine (ocr_engine.py) runs on CPU with models that are installed with
the capability's Python packages or found in a local resources folder; see README.md.

Config keys (wrapperInit, from capability.yaml `config:` or aiges.toml `[wrapper]`):
resources (default $MMOCR_RESOURCES or /resources/mmocr), threads, det_limit_side_len,
det_limit_type, box_thresh, unclip_ratio, text_score, use_cls, max_side, max_pixels.
"""

import json
import os
import sys
import time
import traceback

from aiges.core.types import *
from aiges.sdk import WrapperBase, ImageBodyField, StringBodyField, StringParamField
from aiges.utils.log import log

try:
    from aiges_embed import Response, ResponseData, DataListCls
except ImportError:
    from aiges.dto import Response, ResponseData, DataListCls

# The engine module sits beside this file; the host need not have put this folder on sys.path.
_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)

# Error codes this wrapper returns (its own space; the loader reports them with wrapperError's text).
ERR_NOT_READY = 40001
ERR_NO_DATA = 40002
ERR_BAD_IMAGE = 40003
ERR_ENGINE = 40004
ERR_INIT = 40005
ERR_TOO_LARGE = 40006

_messages = {
    ERR_NOT_READY: "the OCR engine is not loaded (wrapperInit failed or was not called)",
    ERR_NO_DATA: 'input "data" is missing or empty',
    ERR_BAD_IMAGE: "input data is not a decodable image",
    ERR_ENGINE: "the OCR engine failed on this image (details in the loader log)",
    ERR_INIT: "the OCR engine could not be loaded (details in the loader log)",
    ERR_TOO_LARGE: "input image is too large (see max_pixels in the capability config)",
}


class UserRequest(object):
    data = ImageBodyField(key="data", path=os.path.join(_here, "sample.jpg"))
    # Parameters of the ASF mmocr demo: accepted, checked as strings, and passed through.
    category = StringParamField(key="category", maxLength=64, description="model category (informational)")
    application_mode = StringParamField(key="application_mode", maxLength=64, description="application mode (informational)")
    gpu_id = StringParamField(key="gpu_id", maxLength=16, description="GPU index; this build runs on CPU")
    gpu_type = StringParamField(key="gpu_type", maxLength=64, description="GPU type; this build runs on CPU")


class UserResponse(object):
    boxes = StringBodyField(key="boxes", encoding="utf8", format="json")


class Wrapper(WrapperBase):
    serviceId = "mmocr"
    version = "v1"
    requestCls = UserRequest()
    responseCls = UserResponse()

    engine = None
    messages = dict(_messages)

    def wrapperInit(self, config: dict) -> int:
        from ocr_engine import OcrEngine, Settings

        try:
            settings = Settings(config or {})
            started = time.perf_counter()
            engine = OcrEngine(settings)
            # One warm-up call: onnxruntime plans its kernels on the first run, so the first
            # real request does not pay for it.
            engine.run(_blank_page())
            Wrapper.engine = engine
            log.info("mmocr: engine ready in %.1fs: %s", time.perf_counter() - started, engine.describe())
            return 0
        except Exception as err:  # a broken install must say what is wrong, not crash the loader
            log.error("mmocr: wrapperInit failed: %s\n%s", err, traceback.format_exc())
            Wrapper.messages[ERR_INIT] = f"the OCR engine could not be loaded: {err}"
            return ERR_INIT

    def wrapperFini(self) -> int:
        Wrapper.engine = None
        return 0

    def wrapperError(self, ret: int) -> str:
        return Wrapper.messages.get(ret, f"mmocr error {ret}")

    def wrapperOnceExec(self, params: dict, reqData: DataListCls, usrTag: str = "", persId: int = 0) -> Response:
        engine = Wrapper.engine
        if engine is None:
            return Response().response_err(ERR_NOT_READY)
        node = reqData.get("data") if reqData is not None else None
        if node is None or not node.data:
            return Response().response_err(ERR_NO_DATA)

        from ocr_engine import OcrError

        try:
            image = engine.decode(node.data)
        except OcrError as err:
            log.warning("mmocr: rejected input: %s", err)
            codes = {"empty": ERR_NO_DATA, "too_large": ERR_TOO_LARGE}
            return Response().response_err(codes.get(err.kind, ERR_BAD_IMAGE))
        try:
            started = time.perf_counter()
            result = engine.run(image)
        except Exception as err:
            log.error("mmocr: inference failed: %s\n%s", err, traceback.format_exc())
            return Response().response_err(ERR_ENGINE)
        log.debug(
            "mmocr: %dx%d image, %d boxes in %.0f ms (params %s)",
            image.shape[1], image.shape[0], len(result), (time.perf_counter() - started) * 1000, dict(params or {}),
        )

        body = json.dumps([{"filename": "0", "result": result}], ensure_ascii=False).encode("utf-8")
        out = ResponseData()
        out.key = "boxes"
        out.setDataType(DataText)
        out.status = Once
        out.setData(body)
        res = Response()
        res.list = [out]
        return res


def _blank_page():
    import numpy as np

    return np.full((64, 64, 3), 255, dtype=np.uint8)
