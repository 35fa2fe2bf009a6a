"""BentoML serving wrapper.py: one service, one API on the ASF route, the request JSON's top-level
fields as the API's arguments (how BentoML maps a JSON body). Run with `bentoml serve`."""
import logging
import os

import bentoml

from asf_model import from_env

# No per-request access logs, as our stack runs with --log-level error (this module loads in every worker).
logging.disable(logging.INFO)


@bentoml.service(workers=int(os.environ.get("PEER_WORKERS", "1")))
class AsfWrapper:
    def __init__(self) -> None:
        self.model = from_env()

    @bentoml.api(route=f"/v1/private/{os.environ['SERVICE_ID']}")
    def predict(self, header: dict, parameter: dict, payload: dict) -> dict:
        return self.model.call({"header": header, "parameter": parameter, "payload": payload})
