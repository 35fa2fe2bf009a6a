"""What a class-style wrapper declares about itself (serviceId, version, requestCls, responseCls),
turned into the loader's CapabilitySchema shape.

Fields are recognised by class name and read with getattr, so both the upstream aiges SDK classes
and our compat ones (runtime/python/compat) work, including subclasses of either.
"""

_kinds = (
    "StringParamField",
    "NumberParamField",
    "IntegerParamField",
    "BooleanParamField",
    "StringBodyField",
    "JsonBodyField",
    "ImageBodyField",
    "AudioBodyField",
)


def declared_schema(cls):
    schema = {}
    for name in ("serviceId", "version"):
        value = getattr(cls, name, None)
        if isinstance(value, str) and value:
            schema[name] = value
    request = _fields(getattr(cls, "requestCls", None))
    response = _fields(getattr(cls, "responseCls", None))
    inputs = {key: _body(kind, field) for key, kind, field in request if kind.endswith("BodyField")}
    params = {key: _param(kind, field) for key, kind, field in request if kind.endswith("ParamField")}
    outputs = {key: _body(kind, field) for key, kind, field in response if kind.endswith("BodyField")}
    for decl in inputs.values():
        # AIGES schemas never made payload keys required; clients may send a subset.
        decl["required"] = False
    if inputs:
        schema["inputs"] = inputs
    if outputs:
        schema["outputs"] = outputs
    if params:
        schema["params"] = params
    return schema


def _fields(holder):
    """(key, kind, field) for each field attribute of a request/response class or instance."""
    if holder is None:
        return []
    cls = holder if isinstance(holder, type) else type(holder)
    attrs = {}
    for klass in reversed(cls.__mro__):
        attrs.update(vars(klass))
    if not isinstance(holder, type):
        attrs.update(getattr(holder, "__dict__", {}))
    found = []
    for value in attrs.values():
        kind = _kind(value)
        key = getattr(value, "key", None)
        if kind and isinstance(key, str) and key:
            found.append((key, kind, value))
    return found


def _kind(value):
    for klass in type(value).__mro__:
        if klass.__name__ in _kinds:
            return klass.__name__
    return None


def _text(field, *names):
    for name in names:
        value = getattr(field, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def _body(kind, field):
    if kind == "ImageBodyField":
        decl = {"dataType": "image", "encoding": _text(field, "encoding")}
    elif kind == "AudioBodyField":
        decl = {"dataType": "audio", "encoding": _text(field, "encoding")}
    elif kind == "JsonBodyField":
        # JSON text: format json lets the gateway embed it in answers as JSON, not base64.
        decl = {"dataType": "text", "encoding": "utf8", "format": "json"}
    else:
        decl = {"dataType": "text", "encoding": _text(field, "encoding")}
    if kind in ("StringBodyField", "AudioBodyField"):
        decl["compress"] = _text(field, "compress")
        decl["format"] = _text(field, "format")
    return {name: value for name, value in decl.items() if value is not None}


def _param(kind, field):
    enums = list(getattr(field, "enums", None) or [])
    if kind == "StringParamField":
        param = {"type": "string"}
        if enums:
            param["enum"] = enums
        else:
            _copy_number(param, "minLength", field, "min_length", "minLength")
            _copy_number(param, "maxLength", field, "max_length", "maxLength")
    elif kind in ("NumberParamField", "IntegerParamField"):
        param = {"type": "number" if kind == "NumberParamField" else "integer"}
        if enums:
            param["enum"] = enums
        else:
            _copy_number(param, "minimum", field, "minimum")
            _copy_number(param, "maximum", field, "maximum")
    else:
        param = {"type": "boolean"}
        default = getattr(field, "default", None)
        if isinstance(default, bool):
            param["default"] = default
    if getattr(field, "required", False) is True:
        param["required"] = True  # the gateway turns this into parameter.<serviceId>'s required list
    for name in ("title", "description"):
        text = _text(field, name)
        if text:
            param[name] = text
    return param


def _copy_number(param, name, field, *attrs):
    for attr in attrs:
        value = getattr(field, attr, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            param[name] = value
            return
