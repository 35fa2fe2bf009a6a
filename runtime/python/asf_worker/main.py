"""The worker loop: one request at a time from the host, answered over the protocol pipe."""
import os
import sys

from asf_worker.calls import WRAPPER_EXEC, WRAPPER_INIT, WrapperFailure, load
from asf_worker.framing import Channel


class Item:
    def __init__(self, meta, data):
        self.key = meta["key"]
        self.type = meta["type"]
        self.status = meta["status"]
        self.data = data


class Worker:
    """The host's operations: init (load wrapper.py and wrapperInit), exec, fini."""

    def __init__(self):
        self.wrapper = None

    def init(self, header, blobs):
        self.wrapper = load()
        self.wrapper.init(header.get("config", {}))
        return {"ok": True, "schema": self.wrapper.schema}, ()

    def exec(self, header, blobs):
        if self.wrapper is None:
            raise WrapperFailure(WRAPPER_INIT, "wrapper is not initialised")
        inputs = [Item(meta, data) for meta, data in zip(header["inputs"], blobs)]
        outputs = self.wrapper.exec(header.get("params", {}), inputs, header.get("sid", ""))
        metas = [{"key": o.key, "type": o.type, "status": o.status} for o in outputs]
        return {"ok": True, "outputs": metas}, [o.data for o in outputs]

    def fini(self, header, blobs):
        if self.wrapper is not None:
            self.wrapper.fini()
        return {"ok": True}, ()


def main():
    _die_with_host()
    channel = _take_stdio()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # The capability folder (our cwd) is where `import wrapper` and the wrapper's own imports look;
    # our aiges goes last, so an installed upstream aiges wins.
    sys.path[0] = os.getcwd()
    sys.path.append(os.path.join(here, "compat"))
    worker = Worker()
    operations = {"init": worker.init, "exec": worker.exec, "fini": worker.fini}
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
            reply, out = {"ok": False, "code": failure.code, "message": failure.message}, ()
        channel.send(reply, out)
        sys.stdout.flush()
        if op == "fini":
            break


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
    return Channel(proto_in, proto_out)
