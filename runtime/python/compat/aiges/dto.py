"""The data classes passed to and returned by wrapperOnceExec."""
from aiges.core.types import *  # noqa: F401,F403 - wrappers import constants from here too
from aiges.core.types import DataOnce, DataText


class DataListNode:
    """One input: key, data (bytes), len, status, type."""

    def __init__(self):
        self.key = ""
        self.data = b""
        self.len = 0
        self.status = DataOnce
        self.type = DataText


class DataListCls:
    """The inputs of one call."""

    def __init__(self):
        self.list = []

    def get(self, key):
        for node in self.list:
            if node.key == key:
                return node
        return None


class ResponseData:
    """One output. Plain attributes, so both `setData(b)` and `.data = b; .len = n` work."""

    def __init__(self, key="", data=b"", length=0, type=DataText, status=DataOnce):
        self.key = key
        self.data = data
        self.len = length or len(data)
        self.type = type
        self.status = status

    def setDataType(self, data_type):
        if data_type not in (0, 1, 2, 3):
            raise ValueError(f"data type must be 0 (text), 1 (audio), 2 (image) or 3 (video), not {data_type!r}")
        self.type = data_type

    def setData(self, data):
        self.data = data
        self.len = len(data)


class Response:
    """What wrapperOnceExec returns: outputs in `list`, or a non-zero `error_code`."""

    def __init__(self):
        self.list = []
        self.error_code = 0

    def response_err(self, error_code):
        self.error_code = error_code
        return self


class SessionCreateResponse:
    def __init__(self):
        self.handle = ""
        self.error_code = 0


# Set by the ASF worker (asf_worker/main.py): delivers pushed results to the loader's session.
_sink = None


def callback(response, sid):
    """Streaming results pushed by the wrapper, from any thread, for the session `sid`."""
    if _sink is None:
        raise RuntimeError("callback(): not running under an ASF loader worker")
    _sink(response, sid)
