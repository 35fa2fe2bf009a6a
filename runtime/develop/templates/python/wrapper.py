"""{{name}}: an AIGES-style Python capability (class style)."""
from aiges.core.types import *
from aiges.sdk import StringBodyField, StringParamField, WrapperBase

try:
    from aiges_embed import DataListCls, Response, ResponseData
except ImportError:
    from aiges.dto import DataListCls, Response, ResponseData


class UserRequest(object):
    mode = StringParamField(key="mode", enums=["plain", "upper"], value="plain")
    text = StringBodyField(key="text", value=b"hello world")


class UserResponse(object):
    result = StringBodyField(key="result")


class Wrapper(WrapperBase):
    requestCls = UserRequest()
    responseCls = UserResponse()

    def wrapperInit(self, config: dict) -> int:
        self.config = config
        return 0

    def wrapperOnceExec(self, params: dict, reqData: DataListCls) -> Response:
        text = reqData.get("text")
        if text is None:
            return Response().response_err(10109)
        answer = text.data.decode("utf-8")
        if params.get("mode") == "upper":
            answer = answer.upper()
        out = ResponseData()
        out.key = "result"
        out.setDataType(DataText)
        out.setData(answer.encode("utf-8"))
        out.status = Once
        response = Response()
        response.list = [out]
        return response

    def wrapperError(self, ret: int) -> str:
        return "{{name}} needs an input named 'text'" if ret == 10109 else "{{name}} error %d" % ret

    def wrapperFini(self) -> int:
        return 0
