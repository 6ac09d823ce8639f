"""Waiting in workflow code: a condition or a durable timer, whichever comes first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow


async def wait_until(condition: Callable[[], bool], timeout: timedelta) -> bool:
    """True if the condition came true within the timeout (a durable timer); no timer at
    all when it holds already or the time is up."""
    if condition():
        return True
    if timeout <= timedelta(0):
        return False
    try:
        await workflow.wait_condition(condition, timeout=timeout)
    except TimeoutError:
        return condition()
    return True
