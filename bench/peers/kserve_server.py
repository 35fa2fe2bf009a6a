"""KServe's Python ModelServer serving wrapper.py through its v1 predict route
(POST /v1/models/<SERVICE_ID>:predict); the request JSON goes to predict() as it came."""
import logging
import os
import sys

import kserve

from asf_model import from_env


class AsfWrapper(kserve.Model):
    def __init__(self, name: str):
        super().__init__(name)
        self.model = from_env()
        self.ready = True

    def predict(self, payload: dict, headers: dict = None) -> dict:
        return self.model.call(payload)


if __name__ == "__main__":
    http_port = int(sys.argv[1])
    # No per-request access or latency logs, as our stack runs with --log-level error.
    logging.disable(logging.INFO)
    kserve.ModelServer(http_port=http_port, enable_grpc=False, enable_latency_logging=False, workers=int(os.environ.get("PEER_WORKERS", "1"))).start(
        [AsfWrapper(os.environ["SERVICE_ID"])]
    )
