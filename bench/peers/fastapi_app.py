"""What a user would write by hand instead of ASF kit: FastAPI + uvicorn calling wrapper.py directly."""
import os

from fastapi import FastAPI, Request

from asf_model import from_env

model = from_env()
app = FastAPI()


# A plain `def` endpoint: FastAPI runs it in its thread pool, as a blocking model call should be.
@app.post(f"/v1/private/{os.environ['SERVICE_ID']}")
def call(body: dict) -> dict:
    return model.call(body)
