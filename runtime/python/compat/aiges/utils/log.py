"""Loggers for wrappers: `log` writes to stderr (the loader's log); getFileLogger to a file."""
import logging
import os
import sys

_format = "%(asctime)s - %(name)s:%(funcName)s:%(lineno)s - %(levelname)s:  %(message)s"


def _console_level():
    """The loader's --log-level (ASF_LOG_LEVEL: debug, info, warn, error) for what reaches its console."""
    name = os.environ.get("ASF_LOG_LEVEL", "info").upper()
    return {"WARN": logging.WARNING}.get(name, getattr(logging, name, logging.INFO))


def getLogger(fmt=_format, level=logging.DEBUG, name="aiges"):
    logger = logging.getLogger(name)
    logger.setLevel(level)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    handler.setLevel(_console_level())
    logger.addHandler(handler)
    logger.propagate = False
    return logger


def getFileLogger(fmt=_format, level=logging.DEBUG, name="wrapper"):
    """Logs to <ASF_PYTHON_LOG_DIR or /log/app>/<name>.log; to stderr when that cannot be written."""
    logger = logging.getLogger(name)
    logger.setLevel(level)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    folder = os.environ.get("ASF_PYTHON_LOG_DIR", "/log/app")
    try:
        os.makedirs(folder, exist_ok=True)
        handler = logging.FileHandler(os.path.join(folder, name + ".log"))
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    handler.setLevel(level)
    logger.addHandler(handler)
    logger.propagate = False
    return logger


log = getLogger()
