"""The pipe protocol shared with runtime/loader/hosts/python-frames.ts.

A frame is a 4-byte big-endian length, that many bytes of UTF-8 JSON (the header), then the raw
blobs whose byte sizes the header lists in "sizes". Bytes never go through JSON or base64.
"""
import io
import json
import os
import select
import struct
import threading
import time

_length = struct.Struct(">I")


class _CountingReader(io.RawIOBase):
    """The pipe as the buffered reader's raw stream, counting the bytes taken from it."""

    def __init__(self, fd):
        self._fd = fd
        self.count = 0

    def readable(self):
        return True

    def fileno(self):
        return self._fd

    def readinto(self, buffer):
        n = os.readv(self._fd, [buffer])
        self.count += n
        return n


class Channel:
    """Frames in and out over two file descriptors.

    With `poll_seconds`, a worker that has nothing left to do busy-polls the pipe that long before
    it sleeps in read(): one request at a time, the next one usually comes sooner, and a process
    that is still running takes it at once, where waking a sleeping one costs more than a light
    call itself on a virtual machine (its idle CPU has to be woken too). A busy worker never
    spins (frames are waiting), and neither does one whose last call came later than that: with
    sparse traffic the spin would only burn CPU.
    """

    def __init__(self, fd_in, fd_out, poll_seconds=0.0):
        self._raw = _CountingReader(fd_in)
        self._in = io.BufferedReader(self._raw, buffer_size=1 << 16)
        self._out = os.fdopen(fd_out, "wb", buffering=1 << 16)
        # Wrapper threads push results (callback) while the main loop answers calls.
        self._send_lock = threading.Lock()
        self._taken = 0
        self._poll_seconds = poll_seconds
        self._came_soon = True
        self._poller = select.poll()
        self._poller.register(fd_in, select.POLLIN)

    def receive(self):
        """Returns (header, blobs), or None when the host has closed the pipe between frames."""
        waited = self._poll_seconds and self._taken == self._raw.count
        if waited:
            began = time.perf_counter()
            if self._came_soon:
                self._poll_for_frame(began + self._poll_seconds)
        head = self._in.read(_length.size)
        if waited:
            self._came_soon = time.perf_counter() - began <= self._poll_seconds
        if not head:
            return None
        if len(head) != _length.size:
            raise EOFError("the host closed the pipe in the middle of a frame")
        self._taken += _length.size
        header = json.loads(self._exact(_length.unpack(head)[0]))
        # A blocking buffered read returns the whole blob, straight into one bytes object.
        blobs = [self._exact(size) for size in header.get("sizes", ())]
        return header, blobs

    def _poll_for_frame(self, until):
        """Spins until the pipe has bytes or the time is up, giving way to anything else this CPU has to run."""
        while not self._poller.poll(0) and time.perf_counter() < until:
            os.sched_yield()

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
        self._taken += size
        return data
