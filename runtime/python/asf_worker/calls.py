"""Calls into the user's wrapper module, in either AIGES style, with ASF error codes on failure."""
import importlib
import inspect
import sys
import traceback

from asf_worker.schema import declared_schema

# ASF codes (runtime/protocol/errors.ts).
WRAPPER_INIT = 10901
WRAPPER_FINI = 10902
WRAPPER_CREATE = 10905
WRAPPER_DESTROY = 10906
WRAPPER_WRITE = 10907
WRAPPER_READ = 10908
WRAPPER_EXEC = 10909


class WrapperFailure(Exception):
    """A failed wrapper call, as the host reports it to the loader: the call's 109xx code and,
    when the wrapper returned one, its own code."""

    def __init__(self, code, message, wrapper_code=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.wrapper_code = wrapper_code


class Output:
    def __init__(self, key, data_type, status, data):
        self.key = key
        self.type = data_type
        self.status = status
        self.data = data


def import_wrapper():
    """Module `wrapper` from the capability folder (the worker's cwd)."""
    try:
        return importlib.import_module("wrapper")
    except BaseException as err:  # a wrapper may even sys.exit() at import: report that too
        raise _failure(WRAPPER_INIT, "cannot import wrapper.py", err)


def load():
    """Imports module `wrapper` and picks its style: class Wrapper, or module-level functions."""
    module = import_wrapper()
    cls = getattr(module, "Wrapper", None)
    if isinstance(cls, type):
        return ClassWrapper(cls)
    if callable(getattr(module, "wrapperOnceExec", None)):
        return FunctionWrapper(module)
    raise WrapperFailure(WRAPPER_INIT, "wrapper.py defines neither a class Wrapper nor a function wrapperOnceExec")


class ClassWrapper:
    """`class Wrapper(WrapperBase)`: DataListCls in, Response out."""

    def __init__(self, cls):
        self.schema = declared_schema(cls)
        try:
            self.instance = cls()
        except Exception as err:
            raise _failure(WRAPPER_INIT, "Wrapper() raised", err)
        # Two-, three- or four-argument wrapperOnceExec: pass what the user's signature takes.
        self.arity = _positional_arity(self.instance.wrapperOnceExec)
        # The same aiges the wrapper imported: upstream when installed, else ours.
        from aiges.dto import DataListCls, DataListNode

        self._list_cls, self._node_cls = DataListCls, DataListNode

    def init(self, config):
        _check_return(self, WRAPPER_INIT, "wrapperInit", _call(WRAPPER_INIT, "wrapperInit", self.instance.wrapperInit, config))

    def fini(self):
        method = getattr(self.instance, "wrapperFini", None)
        if callable(method):
            _check_return(self, WRAPPER_FINI, "wrapperFini", _call(WRAPPER_FINI, "wrapperFini", method))

    def error_text(self, code):
        return _error_text(getattr(self.instance, "wrapperError", None), code)

    def exec(self, params, inputs, sid):
        args = (params, self._data_list(inputs), sid, 0)[: self.arity]
        response = _call(WRAPPER_EXEC, "wrapperOnceExec", self.instance.wrapperOnceExec, *args)
        return response_outputs(self, response, WRAPPER_EXEC, "wrapperOnceExec")

    @property
    def reads(self):
        """Whether results come from wrapperRead (else only through callback)."""
        return _defined(self.instance, "wrapperRead")

    def create(self, params, sid):
        if not _defined(self.instance, "wrapperCreate") or not _defined(self.instance, "wrapperWrite"):
            raise WrapperFailure(WRAPPER_CREATE, "class Wrapper defines no wrapperCreate and wrapperWrite: it serves one-shot requests only")
        method = self.instance.wrapperCreate
        args = (params, sid, 0, "")[: _positional_arity(method)]
        created = _call(WRAPPER_CREATE, "wrapperCreate", method, *args)
        # A SessionCreateResponse, or (some wrappers) the handle itself.
        handle, code = (created, 0) if isinstance(created, (str, int)) else (getattr(created, "handle", None), getattr(created, "error_code", 0))
        if code:
            raise WrapperFailure(WRAPPER_CREATE, self.error_text(int(code)), int(code))
        if handle is None or handle == "":
            raise WrapperFailure(WRAPPER_CREATE, "wrapperCreate returned no session handle")
        return handle

    def write(self, handle, inputs, sid):
        method = self.instance.wrapperWrite
        args = (handle, self._data_list(inputs), sid)[: _positional_arity(method)]
        _check_return(self, WRAPPER_WRITE, "wrapperWrite", _call(WRAPPER_WRITE, "wrapperWrite", method, *args))

    def read(self, handle):
        response = _call(WRAPPER_READ, "wrapperRead", self.instance.wrapperRead, handle)
        return [] if response is None else response_outputs(self, response, WRAPPER_READ, "wrapperRead")

    def destroy(self, handle):
        if _defined(self.instance, "wrapperDestroy"):
            _check_return(self, WRAPPER_DESTROY, "wrapperDestroy", _call(WRAPPER_DESTROY, "wrapperDestroy", self.instance.wrapperDestroy, handle))

    def _data_list(self, inputs):
        nodes = []
        for item in inputs:
            node = self._node_cls()
            node.key, node.data, node.len = item.key, item.data, len(item.data)
            node.status, node.type = item.status, item.type
            nodes.append(node)
        req = self._list_cls()
        req.list = nodes
        return req


class FunctionWrapper:
    """Legacy module functions: lists of dicts in, dicts appended to respData, an int returned."""

    schema = {}
    # Legacy session results come from wrapperRead.
    reads = True

    def __init__(self, module):
        self.module = module

    def init(self, config):
        method = getattr(self.module, "wrapperInit", None)
        if callable(method):
            _check_return(self, WRAPPER_INIT, "wrapperInit", _call(WRAPPER_INIT, "wrapperInit", method, config))

    def fini(self):
        method = getattr(self.module, "wrapperFini", None)
        if callable(method):
            _check_return(self, WRAPPER_FINI, "wrapperFini", _call(WRAPPER_FINI, "wrapperFini", method))

    def error_text(self, code):
        return _error_text(getattr(self.module, "wrapperError", None), code)

    def exec(self, params, inputs, sid):
        resp = []
        ret = _call(WRAPPER_EXEC, "wrapperOnceExec", self.module.wrapperOnceExec, sid, params, _dicts(inputs), resp, [], 0)
        if ret:
            raise WrapperFailure(WRAPPER_EXEC, self.error_text(int(ret)), int(ret))
        return _dict_outputs(resp, WRAPPER_EXEC, "respData")

    def create(self, params, sid):
        if not callable(getattr(self.module, "wrapperCreate", None)) or not callable(getattr(self.module, "wrapperWrite", None)):
            raise WrapperFailure(WRAPPER_CREATE, "wrapper.py defines no wrapperCreate and wrapperWrite: it serves one-shot requests only")
        handle = _call(WRAPPER_CREATE, "wrapperCreate", self.module.wrapperCreate, sid, params, [], 0)
        if handle is None or handle == "":
            raise WrapperFailure(WRAPPER_CREATE, "wrapperCreate returned no session handle")
        return handle

    def write(self, handle, inputs, sid):
        _check_return(self, WRAPPER_WRITE, "wrapperWrite", _call(WRAPPER_WRITE, "wrapperWrite", self.module.wrapperWrite, handle, _dicts(inputs)))

    def read(self, handle):
        method = getattr(self.module, "wrapperRead", None)
        items = _call(WRAPPER_READ, "wrapperRead", method, handle) if callable(method) else None
        return _dict_outputs(items or [], WRAPPER_READ, "wrapperRead's list")

    def destroy(self, handle):
        method = getattr(self.module, "wrapperDestroy", None)
        if callable(method):
            _check_return(self, WRAPPER_DESTROY, "wrapperDestroy", _call(WRAPPER_DESTROY, "wrapperDestroy", method, handle))


def _dicts(inputs):
    return [{"key": i.key, "type": i.type, "status": i.status, "data": i.data, "len": len(i.data)} for i in inputs]


def _dict_outputs(items, code, name):
    outputs = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise WrapperFailure(code, f"{name}[{index}] is a {type(item).__name__}, not a dict with key, data, type and status")
        outputs.append(_output(item.get("key", ""), item.get("type", 0), item.get("status", 3), item.get("data")))
    return outputs


def response_outputs(wrapper, response, code, name):
    """A Response's items as outputs; its error_code as a failure."""
    error = getattr(response, "error_code", 0)
    if error:
        raise WrapperFailure(code, wrapper.error_text(int(error)), int(error))
    items = getattr(response, "list", None)
    if not isinstance(items, (list, tuple)):
        raise WrapperFailure(code, f"{name} returned {type(response).__name__}, not a Response with a list")
    outputs = []
    for item in items:
        key, data = getattr(item, "key", ""), getattr(item, "data", None)
        # Upstream Response() starts with one empty ResponseData; an unfilled one carries nothing.
        if not key and not data:
            continue
        outputs.append(_output(key, getattr(item, "type", 0), getattr(item, "status", 3), data))
    return outputs


def _defined(instance, name):
    """The user's class defines the method (not just an SDK base class named WrapperBase)."""
    for klass in type(instance).__mro__:
        if name in vars(klass):
            return klass.__name__ != "WrapperBase" and callable(getattr(instance, name))
    return False


def _output(key, data_type, status, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    elif data is None:
        data = b""
    else:
        try:
            memoryview(data)
        except TypeError:
            raise WrapperFailure(WRAPPER_EXEC, f"output '{key}' holds {type(data).__name__}; data must be bytes or str") from None
    return Output(str(key), int(data_type), int(status), data)


def _call(code, name, method, *args):
    """Runs user code; an exception fails this call only, with its traceback in the worker's log."""
    try:
        return method(*args)
    except Exception as err:
        raise _failure(code, f"{name} raised", err)


def _failure(code, what, err):
    print(f"asf python worker: {what}:", file=sys.stderr)
    traceback.print_exception(type(err), err, err.__traceback__, file=sys.stderr)
    return WrapperFailure(code, f"{what} {type(err).__name__}: {err}")


def _check_return(wrapper, code, name, ret):
    if not ret:
        return
    if not isinstance(ret, int):
        raise WrapperFailure(code, f"{name} returned {ret!r}: expected 0")
    raise WrapperFailure(code, f"{name} returned {ret}: {wrapper.error_text(ret)}", ret)


def _error_text(method, code):
    text = ""
    if callable(method):
        try:
            text = method(code)
        except Exception as err:
            text = f"wrapperError raised {type(err).__name__}: {err}"
    return text if isinstance(text, str) and text else f"wrapper error {code}"


def _positional_arity(method):
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return 4
    count = 0
    for parameter in parameters:
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            return 4
        if parameter.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return min(count, 4)
