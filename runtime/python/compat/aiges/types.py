"""Alias of aiges.core.types, for wrappers that import `aiges.types`."""
from aiges.core.types import *  # noqa: F401,F403
