"""HTTP requests and responses between the proxy and a replica: the
request travels as an ASGI scope (plain values) and its body; the answer
as (status, headers, body).  A replica's __call__ gets a
starlette.requests.Request and may return str, bytes, JSON-able values or
a starlette Response, as in Ray."""
import json
import traceback


def _old_starlette():
    import starlette
    try:
        major, minor = (int(x) for x in starlette.__version__.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) < (0, 33)


def make_request(scope, body):
    """A starlette Request for SCOPE (path: the full path, root_path: the
    route prefix) whose url.path is the full path, as Ray's replicas see it.
    Starlette before 0.33 builds the URL as root_path + path, so there the
    path given to it is the part after the prefix."""
    from starlette.requests import Request
    sent = False
    root = scope.get("root_path", "")
    if root and _old_starlette() and scope["path"].startswith(root):
        scope = dict(scope, path=scope["path"][len(root):])

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}
    return Request(scope, receive)


async def run_response(resp, scope):
    """(status, headers, body) of a starlette Response."""
    msgs = []

    async def receive():
        return {"type": "http.disconnect"}

    async def send(m):
        msgs.append(m)
    await resp(dict(scope, type="http"), receive, send)
    start = next((m for m in msgs if m["type"] == "http.response.start"), None)
    status = start["status"] if start else 500
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in
               (start.get("headers", []) if start else [])]
    body = b"".join(m.get("body", b"") for m in msgs if m["type"] == "http.response.body")
    return status, headers, body


async def to_http(value, scope):
    """Ray's conversion of a deployment's return value to an answer."""
    try:
        from starlette.responses import Response
    except ImportError:
        Response = None
    if Response is not None and isinstance(value, Response):
        return await run_response(value, scope)
    if value is None:
        return 200, [], b""
    if isinstance(value, bytes):
        return 200, [("content-type", "text/plain")], value
    if isinstance(value, str):
        return 200, [("content-type", "text/plain; charset=utf-8")], value.encode()
    try:
        body = json.dumps(value, default=_jsonable).encode()
    except (TypeError, ValueError) as e:
        return error_response(e)
    return 200, [("content-type", "application/json")], body


def _jsonable(v):
    tolist = getattr(v, "tolist", None)
    if tolist is not None:
        return tolist()
    if hasattr(v, "__dict__"):
        return v.__dict__
    raise TypeError("Object of type %s is not JSON serializable" % type(v).__name__)


def error_response(e):
    text = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    return 500, [("content-type", "text/plain; charset=utf-8")], text.encode()
