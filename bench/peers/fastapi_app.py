"""What a user would write by hand instead of ASF kit: FastAPI + uvicorn importing wrapper.py
and calling it directly, answering in the same ASF JSON shape (no validation beyond parsing)."""
import base64
import importlib
import os
import sys

from fastapi import FastAPI, Request
from fastapi.responses import Response as HttpResponse

sys.path.insert(0, os.environ["WRAPPER_DIR"])
wrapper_module = importlib.import_module("wrapper")
from aiges.dto import DataListCls, DataListNode  # noqa: E402

wrapper = wrapper_module.Wrapper()
wrapper.wrapperInit({})
app = FastAPI()


@app.post("/v1/private/{service_id}")
async def call(service_id: str, request: Request):
    body = await request.json()
    req = DataListCls()
    for key, item in body.get("payload", {}).items():
        node = DataListNode()
        node.key = key
        field = next(f for f in ("text", "audio", "image", "video") if f in item)
        node.data = base64.b64decode(item[field])
        node.len = len(node.data)
        node.status = 3
        req.list.append(node)
    params = {k: str(v) for k, v in body.get("parameter", {}).get(service_id, {}).items() if not isinstance(v, dict)}
    res = wrapper.wrapperOnceExec(params, req)
    payload = ",".join(
        '"%s":{"text":"%s","encoding":"utf8","format":"plain","seq":0,"status":3}'
        % (r.key, base64.b64encode(r.data).decode()) for r in res.list
    )
    text = '{"header":{"code":0,"message":"success","sid":"fastapi"},"payload":{%s}}' % payload
    return HttpResponse(content=text, media_type="application/json")
