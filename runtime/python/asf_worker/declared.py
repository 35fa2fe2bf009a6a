"""`python asf_worker declared-schema`: what wrapper.py declares of its schema, read with the code a
worker uses at init (import, then requestCls/responseCls), but without creating the Wrapper or
calling wrapperInit. `asf schema` and `asf validate` use it to answer as the gateway would.

Prints one JSON line on stdout: {"ok": true, "schema": {...}} or {"ok": false, "message": "..."}.
"""
import json
import os
import sys

from asf_worker.calls import WrapperFailure, import_wrapper
from asf_worker.main import use_wrapper_path
from asf_worker.schema import declared_schema


def main():
    # Whatever the wrapper prints while it is imported goes to stderr, never into our answer.
    answer = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    use_wrapper_path()
    try:
        cls = getattr(import_wrapper(), "Wrapper", None)
        # A function-style wrapper declares nothing: capability.yaml is its only schema source.
        reply = {"ok": True, "schema": declared_schema(cls) if isinstance(cls, type) else {}}
    except WrapperFailure as failure:
        reply = {"ok": False, "message": failure.message}
    answer.write(json.dumps(reply) + "\n")
    answer.flush()
    sys.stdout.flush()
