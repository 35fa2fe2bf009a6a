"""The model code every peer serves: an AIGES wrapper.py (from $WRAPPER_DIR), called the way a user
would call it by hand from another framework: ASF request JSON in, ASF response JSON out.

Each peer app only adapts this to its framework's routing, so the frameworks differ in nothing
but themselves."""
import base64
import importlib
import os
import sys

sys.path.insert(0, os.environ["WRAPPER_DIR"])
from aiges.dto import DataListCls, DataListNode  # noqa: E402

_MEDIA_FIELDS = ("text", "audio", "image", "video")


class AsfModel:
    def __init__(self, wrapper_dir: str, service_id: str):
        self.service_id = service_id
        self.wrapper = importlib.import_module("wrapper").Wrapper()
        code = self.wrapper.wrapperInit({})
        if code != 0:
            raise RuntimeError(f"wrapperInit of {wrapper_dir} returned {code}")

    def call(self, body: dict) -> dict:
        req = DataListCls()
        for key, item in body.get("payload", {}).items():
            node = DataListNode()
            node.key = key
            field = next(f for f in _MEDIA_FIELDS if f in item)
            node.data = base64.b64decode(item[field])
            node.len = len(node.data)
            node.status = 3
            req.list.append(node)
        params = {k: str(v) for k, v in body.get("parameter", {}).get(self.service_id, {}).items() if not isinstance(v, dict)}
        res = self.wrapper.wrapperOnceExec(params, req)
        if res.error_code or not res.list:
            # Every framework answers an exception with a 5xx, which the load generator counts.
            raise RuntimeError(f"wrapper error {res.error_code}: {self.wrapper.wrapperError(res.error_code)}")
        payload = {
            r.key: {"text": base64.b64encode(r.data).decode(), "encoding": "utf8", "format": "plain", "seq": 0, "status": 3}
            for r in res.list
        }
        return {"header": {"code": 0, "message": "success", "sid": "peer"}, "payload": payload}


def from_env() -> AsfModel:
    return AsfModel(os.environ["WRAPPER_DIR"], os.environ["SERVICE_ID"])
