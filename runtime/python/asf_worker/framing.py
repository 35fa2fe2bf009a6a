"""The pipe protocol shared with runtime/loader/hosts/python-frames.ts.

A frame is a 4-byte big-endian length, that many bytes of UTF-8 JSON (the header), then the raw
blobs whose byte sizes the header lists in "sizes". Bytes never go through JSON or base64.
"""
import json
import os
import struct
import threading

_length = struct.Struct(">I")


class Channel:
    """Frames in and out over two file descriptors."""

    def __init__(self, fd_in, fd_out):
        self._in = os.fdopen(fd_in, "rb", buffering=1 << 16)
        self._out = os.fdopen(fd_out, "wb", buffering=1 << 16)
        # Wrapper threads push results (callback) while the main loop answers calls.
        self._send_lock = threading.Lock()

    def receive(self):
        """Returns (header, blobs), or None when the host has closed the pipe between frames."""
        head = self._in.read(_length.size)
        if not head:
            return None
        if len(head) != _length.size:
            raise EOFError("the host closed the pipe in the middle of a frame")
        header = json.loads(self._exact(_length.unpack(head)[0]))
        # A blocking buffered read returns the whole blob, straight into one bytes object.
        blobs = [self._exact(size) for size in header.get("sizes", ())]
        return header, blobs

    def send(self, header, blobs=()):
        """Blobs are anything with the buffer protocol; they are written as they are, not copied."""
        views = [memoryview(blob).cast("B") for blob in blobs]
        header["sizes"] = [view.nbytes for view in views]
        text = json.dumps(header, default=str).encode("utf-8")
        with self._send_lock:
            self._out.write(_length.pack(len(text)) + text)
            for view in views:
                self._out.write(view)
            self._out.flush()

    def _exact(self, size):
        data = self._in.read(size)
        if len(data) != size:
            raise EOFError("the host closed the pipe in the middle of a frame")
        return data
