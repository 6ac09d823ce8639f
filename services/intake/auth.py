"""API keys (接口密钥): who is calling, which projects they may see, and how fast.

A key is `rfk_<id>_<secret>`. The id is public (lists, logs); only the SHA-256 of the
secret is stored, which is enough for a random 256-bit secret (no password stretching is
needed: nothing guessable is being protected). A key belongs to a property group and may be
narrowed to some of its projects; an operator's key (no group) sees every group. The scope
is checked on every endpoint through `Caller`; a project of another group is answered as if
it did not exist, so keys cannot probe each other's data.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.bus import Bus
from services.common.contracts import WARRANTY_LIST_PROJECTS
from services.common.errors import Rejection
from services.common.registry_contracts import ListProjects, ProjectList
from services.intake.models import ApiKey

PREFIX = "rfk_"
DEFAULT_RATE_PER_MINUTE = 600


@dataclass(frozen=True)
class IssuedKey:
    """A new key; `token` is shown once and never stored."""

    key: ApiKey
    token: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(*, name: str, group: str | None, projects: list[str] | None,
              rate_per_minute: int = DEFAULT_RATE_PER_MINUTE) -> IssuedKey:
    """A fresh key, not yet saved."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(id=key_id, name=name, group=group,
                 projects=sorted(set(projects)) if projects else None,
                 secret_sha256=_digest(secret), rate_per_minute=rate_per_minute,
                 created_at=datetime.now(UTC), revoked_at=None)
    return IssuedKey(key=key, token=f"{PREFIX}{key_id}_{secret}")


async def find_key(session: AsyncSession, token: str) -> ApiKey | None:
    """The live key this token proves, or None (unknown, wrong secret, revoked)."""
    if not token.startswith(PREFIX):
        return None
    key_id, _, secret = token[len(PREFIX):].partition("_")
    if not key_id or not secret or len(key_id) > 16:
        return None
    key = await session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        return None
    return key if hmac.compare_digest(key.secret_sha256, _digest(secret)) else None


class ProjectDirectory:
    """Which projects each group has, asked of the registry (warranty) and kept briefly.

    A project the cache does not know is asked about again before it is refused, so a
    project just created or imported is usable at once; one moved to another group stops
    being visible to its old group within `ttl` seconds."""

    def __init__(self, bus: Bus, ttl: float = 10.0) -> None:
        self.bus = bus
        self.ttl = ttl
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    async def of_group(self, group: str, *, fresh: bool = False) -> frozenset[str]:
        cached = self._groups.get(group)
        if cached and not fresh and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        listed = await self.bus.ask(WARRANTY_LIST_PROJECTS, ListProjects(group=group),
                                    ProjectList)
        codes = frozenset(p.code for p in listed.projects)
        self._groups[group] = (time.monotonic(), codes)
        return codes

    async def has(self, group: str, project: str) -> bool:
        return (project in await self.of_group(group)
                or project in await self.of_group(group, fresh=True))

    def forget(self, group: str) -> None:
        self._groups.pop(group, None)


@dataclass(frozen=True)
class Caller:
    """The key behind a request and what it may touch."""

    key_id: str
    group: str | None
    projects: frozenset[str] | None
    directory: ProjectDirectory

    @property
    def is_operator(self) -> bool:
        return self.group is None

    async def allowed(self) -> frozenset[str] | None:
        """The projects this key may touch; None means every project (an operator)."""
        if self.group is None:
            return None
        group_projects = await self.directory.of_group(self.group)
        return group_projects & self.projects if self.projects is not None else group_projects

    async def within(self) -> list[str] | None:
        """`allowed()` as a list, as the back-end services' commands carry it."""
        allowed = await self.allowed()
        return None if allowed is None else sorted(allowed)

    async def may(self, project: str) -> bool:
        if self.group is None:
            return True
        if self.projects is not None and project not in self.projects:
            return False
        return await self.directory.has(self.group, project)

    async def require(self, project: str, *, field: str = "project", status: int = 404
                      ) -> None:
        """Refuse a project outside the key: another group's reads as unknown (the same
        answer as a project that does not exist), one of the key's own group that the key
        was not given is a 403 that says so."""
        if self.group is None:
            return
        if not await self.directory.has(self.group, project):
            raise Rejection("unknown_project", f"Unknown project {project!r}.",
                            f"未知的项目“{project}”。", field, status)
        if self.projects is not None and project not in self.projects:
            raise Rejection("project_out_of_scope",
                            f"This API key is not for project {project!r}.",
                            f"该接口密钥无权访问项目“{project}”。", field, 403)


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer rfk_…`, from "
                     "`repairflow apikey create`.")
_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                       description="The same key in an `X-API-Key` header, for clients "
                       "that cannot set Authorization.")


class RateLimits:
    """A moving one-minute window per key, in this process (several intake replicas each
    allow the rate: divide the key's rate by the replicas if that matters)."""

    def __init__(self) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def spend(self, key: ApiKey) -> dict[str, str]:
        """Headers for the response; a 429 Rejection when the key's minute is spent."""
        item = RateLimitItemPerMinute(key.rate_per_minute)
        allowed = await self.limiter.hit(item, key.id)
        reset_at, remaining = await self.limiter.get_window_stats(item, key.id)
        retry = max(1, int(reset_at - time.time()) + 1)
        headers = {"RateLimit-Limit": str(key.rate_per_minute),
                   "RateLimit-Remaining": str(remaining), "RateLimit-Reset": str(retry)}
        if not allowed:
            raise TooManyRequests(headers | {"Retry-After": str(retry)})
        return headers


class TooManyRequests(Rejection):
    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("rate_limited", "Too many requests for this API key; retry after "
                         f"{headers['Retry-After']} s.",
                         f"该接口密钥请求过于频繁，请{headers['Retry-After']}秒后重试。",
                         None, 429)
        self.headers = headers


async def authorize(
    request: Request, response: Response,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Caller:
    """The caller of a request, or 401; spends one request of the key's rate."""
    token = bearer.credentials if bearer else header
    if not token:
        raise Rejection("unauthenticated", "An API key is required: `Authorization: Bearer "
                        "rfk_…`.", "需要接口密钥（Authorization: Bearer rfk_…）。",
                        "Authorization", 401)
    runtime = request.app.state.runtime
    async with runtime.sessions() as session:
        key = await find_key(session, token)
    if key is None:
        raise Rejection("invalid_api_key", "This API key is unknown or revoked.",
                        "接口密钥无效或已停用。", "Authorization", 401)
    response.headers.update(await runtime.rate_limits.spend(key))
    return Caller(key_id=key.id, group=key.group,
                  projects=frozenset(key.projects) if key.projects is not None else None,
                  directory=runtime.directory)


Authorized = Annotated[Caller, Depends(authorize)]
