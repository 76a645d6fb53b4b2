"""Request limits of the DMP service (:class:`RequestLimits`, an ASGI middleware that
``create_app`` puts in front of every route, so the embedded service and every test server
have it too): a body larger than its route's limit is refused with 413 as soon as its
``Content-Length`` is read, or as soon as a chunked body passes the limit, without reading
the rest; a JSON body deeper or with more keys and items than allowed is refused with 422
before pydantic sees it. Kept apart from :mod:`proclient.server.limits` (connections, TLS),
which loads uvicorn's protocol classes: the embedded service needs none of them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from proclient.server.problems import Problem, problem_response
from proclient.server.settings import ServerLimits

log = logging.getLogger("proclient.server")

AUTH_PREFIX = "/v1/auth/"
CLOSE = {"Connection": "close"}

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]


# --- requests: body size and JSON shape ---------------------------------------------------------


class _JsonObject(list):
    """A JSON object as its (key, value) pairs: duplicate keys count too."""


def json_too_complex(body: bytes, max_depth: int, max_items: int) -> bool:
    """True when ``body`` is JSON nested deeper than ``max_depth`` containers or holding more
    than ``max_items`` keys and array items in all. Not JSON at all: False (the route's
    own validation answers that)."""
    if _surely_simple(body, max_depth, max_items):
        return False
    try:
        document = json.loads(body, object_pairs_hook=_JsonObject)
    except RecursionError:  # nesting deeper than the parser's own bound
        return True
    except ValueError:  # UnicodeDecodeError included
        return False
    items = 0
    pending: list[tuple[object, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, _JsonObject):
            children = [child for _key, child in value]
        elif isinstance(value, list):
            children = value
        else:
            continue
        items += len(children)
        if depth > max_depth or items > max_items:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def _surely_simple(body: bytes, max_depth: int, max_items: int) -> bool:
    """True when ``body``'s bytes alone show that, as JSON, it stays within both bounds, so
    that it need not be parsed here (the route parses it). Upper bounds, counted in C: a
    container opens with ``[`` or ``{``, so the depth is at most their number; every key is
    followed by ``:``, and every array item but the first follows a ``,``, the first an
    ``[``, so the keys and items are at most the ``:``, ``,`` and ``[``. These bytes inside
    strings only raise the counts (JSON has no escaped form of them outside strings)."""
    arrays = body.count(b"[")
    return (
        arrays + body.count(b"{") <= max_depth
        and arrays + body.count(b":") + body.count(b",") <= max_items
    )


def _declared_length(headers: list[tuple[bytes, bytes]]) -> tuple[int | None, bool]:
    """(Content-Length or None, chunked?) from the request's headers (the HTTP parser has
    already refused a malformed or doubled Content-Length)."""
    length: int | None = None
    chunked = False
    for name, value in headers:
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = -1
        elif name == b"transfer-encoding":
            chunked = True
    return length, chunked


class RequestLimits:
    """ASGI middleware: request bodies within their route's size, JSON within its depth and
    item count (``settings.limits``), before the app reads them."""

    def __init__(self, app: Callable[..., Any], limits: ServerLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = (
            self.limits.max_auth_body_bytes
            if scope["path"].startswith(AUTH_PREFIX)
            else self.limits.max_body_bytes
        )
        length, chunked = _declared_length(scope["headers"])
        if length is not None and (length > limit or length < 0):
            # Refused before a byte of the body is read; the connection closes after it.
            await _refuse(scope, receive, send, Problem("REQUEST_TOO_LARGE", headers=CLOSE))
            return
        if not chunked and not length:  # no body
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nobody to answer
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(scope, receive, send, Problem("REQUEST_TOO_LARGE", headers=CLOSE))
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and json_too_complex(body, self.limits.max_json_depth, self.limits.max_json_items):
            await _refuse(scope, receive, send, Problem("REQUEST_TOO_COMPLEX"))
            return
        replay: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive_body() -> Message:
            return replay.pop() if replay else await receive()

        await self.app(scope, receive_body, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, problem: Problem) -> None:
    log.info("request refused (%s): %s %s", problem.code, scope["method"], scope["path"])
    await problem_response(problem)(scope, receive, send)
