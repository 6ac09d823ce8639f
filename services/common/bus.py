"""NATS plumbing: connecting, naming subjects and streams, publishing events exactly once.

Every subject and stream name passes through `Bus.subject` / `Bus.stream`, which add the
deployment's prefix (`REPAIRFLOW_NATS_PREFIX`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, TypeVar

import nats
import structlog
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError, TimeoutError
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError
from nats.micro.request import ERROR_CODE_HEADER
from pydantic import BaseModel

from services.common.contracts import STREAMS
from services.common.errors import Rejection, ServiceUnavailable

log = structlog.get_logger(__name__)
Reply = TypeVar("Reply", bound=BaseModel)

# How long JetStream remembers a message id: an outbox relay that restarts within this
# window republishes without creating a second event.
DUPLICATE_WINDOW_SECONDS = 24 * 3600


NO_RESPONDERS_PAUSES = (0.05, 0.2, None)  # two short retries, then the refusal stands


class Bus:
    """A connected NATS client with the deployment's subject prefix."""

    def __init__(self, nc: NATS, prefix: str = "") -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.prefix = prefix

    @classmethod
    async def connect(cls, url: str, *, prefix: str = "", name: str = "repairflow",
                      reconnect: bool = True) -> Bus:
        """Connect; a service (`reconnect`) waits for NATS and follows it through restarts,
        a command-line tool fails at once with `ServiceUnavailable`."""

        async def on_error(error: Exception) -> None:
            # nats-py's default prints a traceback on every failed attempt.
            log.warning("nats connection error", url=url, error=repr(error))

        try:
            nc = await nats.connect(
                url, name=name, connect_timeout=5, reconnect_time_wait=0.5,
                # nats-py only gives up on a server after a positive number of attempts.
                allow_reconnect=reconnect, max_reconnect_attempts=-1 if reconnect else 1,
                error_cb=on_error,
            )
        except (NatsError, OSError) as exc:
            raise ServiceUnavailable(url, f"NATS is not reachable: {exc!r}") from exc
        return cls(nc, prefix)

    def subject(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def stream(self, name: str) -> str:
        return f"{self.prefix.upper().replace('-', '_')}_{name}" if self.prefix else name

    async def declare_streams(self) -> None:
        """Create or update the file-backed streams; safe to run at every start."""
        for name, subjects in STREAMS.items():
            config = StreamConfig(
                name=self.stream(name),
                subjects=[self.subject(s) for s in subjects],
                storage=StorageType.FILE,
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
            )
            try:
                await self.js.add_stream(config)
            except BadRequestError:
                await self.js.update_stream(config)

    async def publish_event(self, subject: str, event: BaseModel, *, msg_id: str) -> bool:
        """Publish to JetStream with a message id; returns False when it was a duplicate."""
        ack = await self.js.publish(
            self.subject(subject), event.model_dump_json().encode(), headers={"Nats-Msg-Id": msg_id}
        )
        return not ack.duplicate

    async def ask(
        self, subject: str, command: BaseModel, reply: type[Reply], *, timeout: float = 3.0
    ) -> Reply:
        """Request/reply with a `nats.micro` service; its refusals come back as `Rejection`."""
        full = self.subject(subject)
        payload = command.model_dump_json().encode()
        try:
            for pause in NO_RESPONDERS_PAUSES:
                try:
                    msg = await self.nc.request(full, payload, timeout=timeout)
                    break
                except NoRespondersError:
                    if pause is None:
                        raise
                    # A service restarting, or one whose subscriptions the server is still
                    # taking in: "nobody listens" can last a moment.
                    await asyncio.sleep(pause)
        except NoRespondersError as exc:
            raise ServiceUnavailable(full, "no service is listening") from exc
        except TimeoutError as exc:
            raise ServiceUnavailable(full, f"no answer within {timeout}s") from exc
        except NatsError as exc:  # closed or reconnecting connection
            raise ServiceUnavailable(full, repr(exc)) from exc
        if msg.headers and ERROR_CODE_HEADER in msg.headers:
            try:
                rejection = Rejection.from_json(msg.data)
            except (ValueError, TypeError):  # a crash reply (code 500) carries no body
                raise ServiceUnavailable(full, msg.headers.get("Nats-Service-Error", "")) from None
            raise rejection
        return reply.model_validate_json(msg.data)

    async def close(self) -> None:
        """Drain: finish in-flight handlers and flush pending publishes before closing."""
        if not self.nc.is_closed:
            await self.nc.drain()


async def fetch_or_stop(subscription: Any, stop: asyncio.Event, *, batch: int,
                        timeout: float = 1.0) -> list[Any]:
    """A pull consumer's next messages (a fetch's own timeout raises as usual), or none as
    soon as `stop` is set: the pending fetch is abandoned, not waited out, so a consumer
    loop ends at once. Whatever that fetch had pulled is redelivered after `ack_wait`."""
    fetching = asyncio.ensure_future(subscription.fetch(batch=batch, timeout=timeout))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({fetching, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if fetching.done():
        return fetching.result()
    fetching.cancel()
    with contextlib.suppress(BaseException):
        await fetching
    return []
