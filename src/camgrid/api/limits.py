"""Request bodies bounded before they are read (docs/design/limits-before-work.md).

An ASGI middleware, outermost in the app: a request whose ``Content-Length`` is above its route's limit is refused
with 413 before one byte of its body is read; a body without a length (chunked) is counted as the app reads it and
cut off at the limit, so the server never holds more than the limit (plus one chunk) of any body. The 413 closes
the connection (``Connection: close``): the server does not read the rest of what the client still sends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from camgrid.config import ApiConfig

TOO_LARGE = 413


@dataclass(frozen=True)
class RouteLimit:
    method: str
    path: re.Pattern[str]
    max_bytes: int


def route_limits(cfg: ApiConfig) -> tuple[RouteLimit, ...]:
    """Routes whose bodies may be larger (or must be smaller) than ``api.max_body_bytes``."""
    return (
        RouteLimit("POST", re.compile(r"^/api/auth/login$"), cfg.login_max_body_bytes),
        RouteLimit("PUT", re.compile(r"^/api/cameras/[^/]+/mask$"), cfg.mask_max_body_bytes),
    )


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes its limit (FastAPI lets HTTP errors through its parser)."""

    def __init__(self, limit: int) -> None:
        super().__init__(TOO_LARGE, f"request body larger than {limit} bytes")
        self.limit = limit


class BodyLimit:
    def __init__(self, app: ASGIApp, *, default_bytes: int, routes: tuple[RouteLimit, ...] = ()) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.routes = routes

    def limit_for(self, method: str, path: str) -> int:
        for route in self.routes:
            if route.method == method and route.path.match(path):
                return route.max_bytes
        return self.default_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("method", ""), scope.get("path", ""))
        length = _content_length(scope)
        if length is not None and length > limit:
            await _refuse(send, limit)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if seen > limit:  # the app turned BodyTooLarge into its answer: end the connection with it
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(send, limit)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = b'{"detail":"request body larger than %d bytes"}' % limit
    await send(
        {
            "type": "http.response.start",
            "status": TOO_LARGE,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
