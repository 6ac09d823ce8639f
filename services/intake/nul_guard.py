"""Refuse NUL characters before they reach a handler: PostgreSQL cannot store them in text,
so a `\\u0000` in a field would otherwise surface as a server error deep in a query."""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_PROBLEM = {
    "type": "https://repairflow.dev/problems/nul_character", "title": "Invalid request",
    "status": 422, "code": "nul_character",
    "detail": "Text may not contain the NUL character (\\u0000).",
    "detail_zh": "文本中不能包含空字符（\\u0000）。",
}


class RefuseNul:
    """ASGI middleware: path, query and JSON bodies are checked; others pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for where, raw in (("path", scope.get("raw_path") or b""),
                           ("query", scope.get("query_string", b""))):
            if b"\x00" in unquote_to_bytes(raw):
                return await _refuse(send, where)
        headers = dict(scope.get("headers") or [])
        if not headers.get(b"content-type", b"").startswith(b"application/json"):
            return await self.app(scope, receive, send)
        body, messages = b"", []
        while True:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if b"\\u0000" in body or b"\x00" in body:
            return await _refuse(send, "body")

        async def replay() -> Message:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        await self.app(scope, replay, send)


async def _refuse(send: Send, where: str) -> None:
    payload = json.dumps({**_PROBLEM, "field": where}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 422, "headers": [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
