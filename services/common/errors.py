"""The one shape of an expected refusal, shared by HTTP handlers and NATS services.

A `Rejection` names the machine code, the field at fault and a message a person can read,
in Chinese and English. Bugs are not Rejections: they are left to raise.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass
class Rejection(Exception):
    """A business refusal: unknown project, wrong state, bad field..."""

    code: str
    message_en: str
    message_zh: str
    field: str | None = None
    status: int = 422
    errors: list[dict] | None = None  # every problem, when there are several (an import)

    def __str__(self) -> str:
        return f"{self.code}: {self.message_en}"

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Rejection:
        return cls(**json.loads(data))


class ServiceUnavailable(Exception):
    """A NATS service did not answer (no responders or timeout)."""

    def __init__(self, subject: str, cause: str) -> None:
        super().__init__(f"{subject}: {cause}")
        self.subject = subject
