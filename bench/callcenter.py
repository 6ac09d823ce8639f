"""The call center's HTTP side: reports (with their Idempotency-Key, retried on 429, 5xx
and broken connections as a hotline system would) and people's actions on repairs. At most
`concurrency` requests are in flight at once, whoever sends them."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.mix import Request

ATTEMPTS = 6


@dataclass
class Answer:
    request: Request
    scheduled_at: float  # time.time() the report was due (open loop), else when it was sent
    latency: float  # seconds from scheduled_at to the final answer
    status: int  # the final answer's status; 0: no answer at all
    repair_id: str | None = None
    duplicate_of: str | None = None
    replayed: bool = False
    attempts: int = 1
    throttled: int = 0
    error: str | None = None
    answered_at: float = 0.0
    sent_at: float = 0.0  # when its first attempt left

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class CallCenter:
    def __init__(self, base_url: str, api_key: str, concurrency: int) -> None:
        self.gate = asyncio.Semaphore(concurrency)
        self.client = httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {api_key}"},
            timeout=httpx.Timeout(60.0),
            limits=httpx.Limits(max_connections=concurrency + 8,
                                max_keepalive_connections=concurrency + 8))
        self.errors: dict[str, int] = {}

    async def close(self) -> None:
        await self.client.aclose()

    def _count(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    async def report(self, request: Request, scheduled_at: float | None = None) -> Answer:
        """POST /v1/repairs until it has an answer that is not a 429, 5xx or broken link."""
        answer = Answer(request, 0.0, 0.0, 0)
        headers = {"Idempotency-Key": request.idempotency_key}
        for attempt in range(1, ATTEMPTS + 1):
            answer.attempts = attempt
            try:
                async with self.gate:
                    if not answer.sent_at:
                        answer.sent_at = time.time()
                    response = await self.client.post("/v1/repairs", json=request.body,
                                                      headers=headers)
            except httpx.HTTPError as exc:
                self._count(f"report: {type(exc).__name__}")
                answer.error = repr(exc)
                await asyncio.sleep(0.5 * attempt)
                continue
            answer.status = response.status_code
            if response.status_code == 429:
                answer.throttled += 1
                self._count("report: 429")
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code >= 500:
                self._count(f"report: {response.status_code}")
                answer.error = response.text[:300]
                await asyncio.sleep(0.5 * attempt)
                continue
            if response.is_success:
                body = response.json()
                answer.repair_id, answer.duplicate_of = body["id"], body.get("duplicate_of")
                answer.replayed = response.headers.get("Idempotent-Replayed") == "true"
                answer.error = None
            else:
                self._count(f"report: {response.status_code}")
                answer.error = response.text[:300]
            break
        answer.answered_at = time.time()
        answer.scheduled_at = scheduled_at if scheduled_at is not None else answer.sent_at
        answer.latency = answer.answered_at - answer.scheduled_at
        return answer

    async def act(self, repair_id: str, action: str, body: dict[str, Any] | None = None,
                  *, method: str = "POST", attempts: int = 8) -> tuple[int, dict[str, Any]]:
        """One action (or GET) on a repair; a 409 `not_started`, a 5xx or a broken link is
        tried again a moment later."""
        path = f"/v1/repairs/{repair_id}" + (f"/{action}" if action else "")
        status, payload = 0, {}
        for attempt in range(1, attempts + 1):
            try:
                async with self.gate:
                    response = await self.client.request(method, path, json=body)
            except httpx.HTTPError as exc:
                self._count(f"{action or 'get'}: {type(exc).__name__}")
                await asyncio.sleep(0.3 * attempt)
                continue
            status = response.status_code
            payload = response.json() if response.content else {}
            again = status >= 500 or status == 429 or (
                status == 409 and payload.get("code") == "not_started")
            if not again:
                break
            self._count(f"{action or 'get'}: {status}")
            await asyncio.sleep(0.3 * attempt)
        return status, payload

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        async with self.gate:
            return await self.client.request(method, path, json=body)
