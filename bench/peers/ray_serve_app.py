"""Ray Serve serving wrapper.py: one deployment on the ASF route, on a local Ray instance limited
to this machine's cores (no dashboard). Blocks until killed."""
import os
import signal
import sys
import threading

import ray
from ray import serve
from starlette.requests import Request

from asf_model import from_env


# No per-request access logs, as our stack runs with --log-level error.
QUIET = {"enable_access_log": False, "log_level": "WARNING"}


@serve.deployment(
    num_replicas=int(os.environ.get("PEER_WORKERS", "1")),
    ray_actor_options={"num_cpus": 0},
    max_ongoing_requests=64,
    logging_config=QUIET,
)
class AsfWrapper:
    def __init__(self):
        self.model = from_env()

    async def __call__(self, request: Request) -> dict:
        return self.model.call(await request.json())


if __name__ == "__main__":
    port = int(sys.argv[1])
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": port}, logging_config=QUIET)
    serve.run(AsfWrapper.bind(), route_prefix=f"/v1/private/{os.environ['SERVICE_ID']}")
    print("ray serve ready", flush=True)
    # SIGTERM must reach ray.shutdown(), or the Ray daemons this started outlive the bench.
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    serve.shutdown()
    ray.shutdown()
