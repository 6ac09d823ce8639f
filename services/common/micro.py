"""Running a `nats.micro` service: JSON endpoints, refusals as service errors, clean drain.

A service module describes itself with `micro_service(...)` and a `build` that adds its
endpoints; its process entry point serves that until SIGTERM/SIGINT, then stops and drains.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TypeVar

import structlog
from nats.micro import add_service
from nats.micro.request import Request
from nats.micro.service import Service
from pydantic import BaseModel, ValidationError

from services.common.bus import Bus
from services.common.errors import Rejection

log = structlog.get_logger(__name__)
Command = TypeVar("Command", bound=BaseModel)


def json_endpoint(
    command: type[Command], handler: Callable[[Command], Awaitable[BaseModel]]
) -> Callable[[Request], Awaitable[None]]:
    """Wrap a typed handler: parse the command, answer the reply, turn refusals into errors."""

    async def handle(request: Request) -> None:
        if b"\\u0000" in request.data:  # PostgreSQL cannot store NUL in text
            rejection = Rejection("nul_character", "Text may not contain NUL (\\u0000).",
                                  "文本中不能包含空字符。", None, 400)
            await request.respond_error("400", rejection.message_en, data=rejection.to_json())
            return
        try:
            parsed = command.model_validate_json(request.data)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            rejection = Rejection(
                "invalid_command", f"{field}: {first['msg']}", f"{field}：格式不正确", field, 400
            )
            await request.respond_error("400", rejection.message_en, data=rejection.to_json())
            return
        try:
            reply = await handler(parsed)
        except Rejection as rejection:
            await request.respond_error(
                str(rejection.status), rejection.message_en, data=rejection.to_json()
            )
            return
        await request.respond(reply.model_dump_json().encode())

    return handle


async def wait_for_stop_signal() -> None:
    """Return on SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


@asynccontextmanager
async def micro_service(
    *,
    bus_url: str,
    prefix: str,
    name: str,
    version: str,
    description: str,
    build: Callable[[Service, Bus, AsyncExitStack],
                    Awaitable[Callable[[], Awaitable[None]] | None]],
) -> AsyncIterator[Service]:
    """A registered, serving `nats.micro` service for the duration of the block.

    `build` adds the endpoints and registers its own resources (a database engine...) on
    the stack it is given, which closes only after the service has stopped and the
    connection has drained, so in-flight requests finish with their resources still open.
    It may return a coroutine function to run first on the way out, before the drain (a
    JetStream consumer loop to end: its pull subscription would hold the drain up).
    """
    async with AsyncExitStack() as resources, AsyncExitStack() as stack:
        bus = await Bus.connect(bus_url, prefix=prefix, name=name)
        stack.push_async_callback(bus.close)
        service = await add_service(bus.nc, name=name, version=version, description=description)
        stack.push_async_callback(service.stop)
        stop_first = await build(service, bus, resources)
        if stop_first is not None:
            stack.push_async_callback(stop_first)
        # The endpoints' subscriptions are buffered on this connection; a round trip makes
        # sure the server has them before anyone is told the service is up.
        await bus.nc.flush()
        log.info("service started", service_name=name, nats=bus_url, prefix=prefix or None)
        yield service
        log.info("service stopping", service_name=name)


async def serve_until_signalled(service: AbstractAsyncContextManager) -> None:
    """Run a service's context until SIGTERM or SIGINT (the process entry points)."""
    async with service:
        await wait_for_stop_signal()
