"""WrapperBase and the field classes that declare a wrapper's parameters, inputs and outputs."""
from aiges.core.types import *  # noqa: F401,F403 - wrappers import constants from here too
from aiges.core.types import AUDIO, IMAGE, STRING
from aiges.dto import DataListCls, DataListNode, Response, ResponseData, SessionCreateResponse, callback  # noqa: F401
from aiges.utils.log import log  # noqa: F401


class Field:
    def __init__(self, key, data_type):
        self.key = key
        self.data_type = data_type
        self.description = ""
        self.title = ""

    def __repr__(self):
        return f"<{type(self).__name__}:{self.key}>"


class ParamField(Field):
    """A functional parameter: parameter.<serviceId>.<key> in the request."""


class PayloadField(Field):
    """An input (in requestCls) or an output (in responseCls)."""


class StringParamField(ParamField):
    def __init__(self, key, minLength=0, maxLength=1024, enums=(), required=False, value="", description="", title=""):
        super().__init__(key, "string")
        self.min_length = minLength
        self.max_length = maxLength
        self.enums = list(enums)
        self.required = required
        self.value = value
        self.description = description
        self.title = title


class NumberParamField(ParamField):
    data_kind = "number"

    def __init__(self, key, minimum=0, maximum=100, enums=(), required=False, value=0):
        super().__init__(key, self.data_kind)
        self.minimum = minimum
        self.maximum = maximum
        self.enums = list(enums)
        self.required = required
        self.value = value


class IntegerParamField(NumberParamField):
    data_kind = "integer"


class BooleanParamField(ParamField):
    def __init__(self, key, title="", default=False, required=False):
        super().__init__(key, "boolean")
        self.title = title
        self.default = default
        self.required = required


class StringBodyField(PayloadField):
    def __init__(self, key, value=b" ", need_base64=False, encoding="utf8", format="plain", compress="raw", status=3):
        super().__init__(key, STRING)
        self.value = value
        self.need_base64 = need_base64
        self.encoding = encoding
        self.format = format
        self.compress = compress
        self.status = status


class JsonBodyField(PayloadField):
    def __init__(self, key, value="", need_base64=False):
        super().__init__(key, STRING)
        self.value = value
        self.need_base64 = need_base64


class ImageBodyField(PayloadField):
    def __init__(self, key, path="", need_base64=False, encoding="jpg", status=3):
        super().__init__(key, IMAGE)
        self.path = path
        self.need_base64 = need_base64
        self.encoding = encoding
        self.status = status


class AudioBodyField(PayloadField):
    def __init__(self, key, path="", encoding="raw", format="plain", compress="raw", status=3):
        super().__init__(key, AUDIO)
        self.path = path
        self.encoding = encoding
        self.format = format
        self.compress = compress
        self.status = status


class SessionManager:
    """Keeps the wrapper's config; the stream-session pool of upstream is not needed one-shot."""

    def __init__(self, config=None):
        self.wrapperConfig = dict(config or {})

    def init_wrapper_config(self, config=None):
        self.wrapperConfig = dict(config or {})


class WrapperBase:
    """Base of `class Wrapper`: subclasses set serviceId, version, requestCls, responseCls and
    override the wrapper* methods (the loader calls them with whatever arguments they take)."""

    config = {}
    requestCls = None
    responseCls = None

    def __init__(self, *args, **kwargs):
        self.session = SessionManager()

    def wrapperInit(self, config):
        return 0

    def wrapperFini(self):
        return 0

    def wrapperError(self, ret):
        return ""

    def wrapperOnceExec(self, params, reqData, usrTag="", persId=0):
        raise NotImplementedError(f"{type(self).__name__} must define wrapperOnceExec(self, params, reqData)")
