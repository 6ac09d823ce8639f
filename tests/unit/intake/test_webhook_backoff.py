"""The webhooks' retry schedule: doubling from the base, capped, jittered downwards."""

from __future__ import annotations

from services.intake.webhooks import EVENT_TYPES, backoff


def test_the_backoff_doubles_up_to_the_cap_with_jitter():
    for attempts, full in ((1, 1), (2, 2), (3, 4), (10, 512), (13, 3600), (500, 3600)):
        for _ in range(50):
            delay = backoff(attempts, base=1, cap=3600)
            assert full / 2 <= delay <= full, (attempts, delay)


def test_the_subscribable_events_are_the_contracts_repair_events():
    assert {"repairs.reported.v1", "repairs.overdue.v1"} <= EVENT_TYPES
    assert all(t.startswith("repairs.") and not t.endswith(">") for t in EVENT_TYPES)
