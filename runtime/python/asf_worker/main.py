"""The worker loop: one request at a time from the host, answered over the protocol pipe."""
import os
import sys

from asf_worker.calls import WRAPPER_EXEC, WRAPPER_INIT, WRAPPER_READ, WrapperFailure, load, response_outputs
from asf_worker.framing import Channel


class Item:
    def __init__(self, meta, data):
        self.key = meta["key"]
        self.type = meta["type"]
        self.status = meta["status"]
        self.data = data


class Worker:
    """The host's operations: init (load wrapper.py and wrapperInit), exec, fini, and the
    session ops create, write, read, destroy (sessions are known by sid; handles stay here)."""

    def __init__(self, channel):
        self.wrapper = None
        self.channel = channel
        self.handles = {}

    def init(self, header, blobs):
        self.wrapper = load()
        self.wrapper.init(header.get("config", {}))
        # callback(Response, sid) in our aiges.dto reaches the loader through the pipe.
        import aiges.dto

        aiges.dto._sink = self.push
        return {"ok": True, "schema": self.wrapper.schema}, ()

    def exec(self, header, blobs):
        outputs = self._ready().exec(header.get("params", {}), _items(header, blobs), header.get("sid", ""))
        return _outputs_reply(outputs)

    def create(self, header, blobs):
        sid = header["sid"]
        self.handles[sid] = self._ready().create(header.get("params", {}), sid)
        return {"ok": True, "reads": self.wrapper.reads}, ()

    def write(self, header, blobs):
        self._ready().write(self._handle(header), _items(header, blobs), header["sid"])
        return {"ok": True}, ()

    def read(self, header, blobs):
        return _outputs_reply(self._ready().read(self._handle(header)))

    def destroy(self, header, blobs):
        handle = self.handles.pop(header["sid"], None)
        if handle is not None:
            self._ready().destroy(handle)
        return {"ok": True}, ()

    def push(self, response, sid):
        """Results the wrapper pushed, from any of its threads: an event frame, not an answer."""
        try:
            reply, out = _outputs_reply(response_outputs(self.wrapper, response, WRAPPER_READ, "callback's Response"))
        except WrapperFailure as failure:
            reply, out = {"ok": False, "code": failure.code, "message": failure.message, "wrapperCode": failure.wrapper_code}, ()
        reply.update(event="push", sid=sid)
        self.channel.send(reply, out)

    def _ready(self):
        if self.wrapper is None:
            raise WrapperFailure(WRAPPER_INIT, "wrapper is not initialised")
        return self.wrapper

    def _handle(self, header):
        handle = self.handles.get(header["sid"])
        if handle is None:
            raise WrapperFailure(WRAPPER_EXEC, f"no open session {header['sid']!r} in this worker")
        return handle

    def fini(self, header, blobs):
        if self.wrapper is not None:
            self.wrapper.fini()
        return {"ok": True}, ()


def _items(header, blobs):
    return [Item(meta, data) for meta, data in zip(header["inputs"], blobs)]


def _outputs_reply(outputs):
    metas = [{"key": o.key, "type": o.type, "status": o.status} for o in outputs]
    return {"ok": True, "outputs": metas}, [o.data for o in outputs]


def main():
    _die_with_host()
    channel = _take_stdio()
    use_wrapper_path()
    worker = Worker(channel)
    operations = {name: getattr(worker, name) for name in ("init", "exec", "fini", "create", "write", "read", "destroy")}
    while True:
        message = channel.receive()
        if message is None:
            break
        header, blobs = message
        op = header.get("op")
        try:
            if op not in operations:
                raise WrapperFailure(WRAPPER_EXEC, f"unknown op {op!r}")
            reply, out = operations[op](header, blobs)
        except WrapperFailure as failure:
            reply, out = {"ok": False, "code": failure.code, "message": failure.message, "wrapperCode": failure.wrapper_code}, ()
        channel.send(reply, out)
        sys.stdout.flush()
        if op == "fini":
            break


def use_wrapper_path():
    """The capability folder (our cwd) is where `import wrapper` and the wrapper's own imports
    look; our aiges goes last, so an installed upstream aiges wins."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path[0] = os.getcwd()
    sys.path.append(os.path.join(here, "compat"))


def _die_with_host():
    """The loader owns this process's life: it ends it with wrapperFini or SIGKILL, and a loader
    killed outright takes its workers along (Linux), even one stuck in a request. Ctrl-C or a
    SIGTERM sent to the whole process group must not kill workers behind the loader's back."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _take_stdio():
    """Keeps the pipes for the protocol; the wrapper's print() and stdin get harmless stand-ins."""
    proto_in, proto_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    # fd 1 now leads to stderr, so even C extensions writing to stdout cannot corrupt a frame.
    os.dup2(2, 1)
    sys.stdout.reconfigure(line_buffering=True)
    # The host says how long an idle worker busy-polls for the next call (framing.Channel).
    poll_seconds = int(os.environ.pop("ASF_WORKER_POLL_MICROS", "0") or 0) / 1e6
    return Channel(proto_in, proto_out, poll_seconds)
