"""A durable JetStream pull consumer run until a stop event: the loop every service that
follows the repairs' events shares (intake's read model and webhook fan-out, follow-up).

The consumer is created once the stream exists (it is declared by `up` or a deploy step);
each message is handed to `handle`, and acknowledged when it returns. `Unreadable` drops the
message (term); any other exception asks for it again after `retry_delay(deliveries)`
seconds (nak), so a message is never lost while a database is away."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerConfig

from services.common.bus import Bus, fetch_or_stop

log = structlog.get_logger(__name__)


class Unreadable(Exception):
    """A message that no retry will make applicable: dropped, with a log line."""


async def consume(*, bus: Bus, name: str, subjects: list[str], config: ConsumerConfig,
                  handle: Callable[[str, Msg], Awaitable[None]], stop: asyncio.Event,
                  batch: int = 50, retry_delay: Callable[[int], float] = lambda _: 2.0
                  ) -> None:
    """Follow the durable consumer `name` of the REPAIRS stream, filtered to `subjects`
    (unprefixed), until `stop` is set. `handle` gets each message's subject without the
    deployment's prefix, and the message."""
    filters = [bus.subject(subject) for subject in subjects]
    if len(filters) > 1:
        config.filter_subjects = filters
    subscription = None
    while subscription is None:
        try:
            subscription = await bus.js.pull_subscribe(
                filters[0], durable=bus.stream(name).replace(".", "_"),
                stream=bus.stream("REPAIRS"), config=config)
        except Exception as exc:  # noqa: BLE001 - retried until the stream is there
            log.warning("consumer cannot subscribe yet", consumer=name, error=repr(exc))
            try:
                await asyncio.wait_for(stop.wait(), timeout=2)
                return
            except TimeoutError:
                continue
    prefix = bus.subject("")
    try:
        while not stop.is_set() and not bus.nc.is_closed:
            try:
                messages = await fetch_or_stop(subscription, stop, batch=batch)
            except (TimeoutError, NatsTimeout):
                continue
            except Exception as exc:  # noqa: BLE001 - NATS reconnecting: try again shortly
                if not stop.is_set():
                    log.warning("consumer fetch failed", consumer=name, error=repr(exc))
                    await asyncio.sleep(1)
                continue
            for message in messages:
                try:
                    await handle(message.subject.removeprefix(prefix), message)
                except Unreadable as why:
                    log.error("unreadable event dropped", consumer=name,
                              subject=message.subject, why=str(why))
                    await message.term()
                    continue
                except Exception as exc:  # noqa: BLE001 - redelivered later
                    deliveries = message.metadata.num_delivered or 1
                    log.warning("event not applied yet", consumer=name,
                                subject=message.subject, delivered=deliveries,
                                error=repr(exc))
                    await message.nak(delay=retry_delay(deliveries))
                    continue
                await message.ack()
    finally:
        # An open pull subscription would hold the connection's drain for its full timeout.
        if not bus.nc.is_closed:
            await subscription.unsubscribe()
