"""Replay the stored histories of every lifecycle path against today's `RepairWorkflow`.

A change to the workflow that would break a repair already running (non-determinism) fails
here. Such a change goes behind `workflow.patched("...")`; the histories are recorded
again (see tests/integration/test_repair_workflow.py, RECORD_HISTORIES=1) only after the
old ones pass, and the old files are kept under a new name so both shapes stay replayed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.delegation.workflow import DelegationWorkflow
from workflows.repair.workflow import RepairWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_every_path_has_a_stored_history():
    assert len(HISTORIES) >= 10, "record them: RECORD_HISTORIES=1 pytest test_repair_workflow"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_a_stored_history_replays_without_a_determinism_error(path: Path):
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    result = await Replayer(workflows=[RepairWorkflow, DelegationWorkflow]).replay_workflow(
        history, raise_on_replay_failure=True)
    assert result.replay_failure is None
