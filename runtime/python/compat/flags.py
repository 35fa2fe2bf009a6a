"""The `flags` module AIGES's Python runtime puts beside the aiges package. Upstream's demo
wrappers begin with `import flags; logger = flags.logger`; here that logger writes to stderr,
the loader's log, like aiges.utils.log's."""
import logging

from aiges.utils.log import getLogger

# What logging.Logger's methods take; upstream demos also pass print's (flush=True).
_logging_keywords = {"exc_info", "stack_info", "stacklevel", "extra"}


class _Logger(logging.LoggerAdapter):
    def process(self, msg, kwargs):
        return msg, {key: value for key, value in kwargs.items() if key in _logging_keywords}


logger = _Logger(getLogger(name="wrapper"), {})
