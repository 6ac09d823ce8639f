"""The OpenAPI page as an integrator reads it: an introduction, tag descriptions, and the
problem+json answers (401, 403, 404, 409, 422, 429, 503) that FastAPI cannot infer because
they are raised, not returned. `document(app)` installs it; the schema is built once."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, get_args

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

from services.intake.auth import authorize
from services.intake.problems import MEDIA_TYPE
from services.intake.schemas import ReportRepair

DESCRIPTION = """\
RepairFlow takes warranty-repair reports (报修) for property groups and follows each repair
to the owner's sign-off. The examples on this page are the demo group **HX** (华信置业集团):
projects `SH-LJ` (上海绿景花园, Shanghai) and `BJ-YH` (北京颐和雅苑, Beijing).

## Getting a key
An operator creates one key per integrator and hands it over; it is printed once:

    repairflow apikey create --group HX [--projects SH-LJ,BJ-YH] [--name "HX hotline"]

Send it on every request as `Authorization: Bearer rfk_…` (or `X-API-Key: rfk_…`). A key
sees its group's projects, or only those given with `--projects`. Without a key: 401
`unauthenticated`; an unknown or revoked key: 401 `invalid_api_key`; a project of the group
that the key was not given: 403 `project_out_of_scope`. Another group's projects and repairs
answer as if they did not exist (404).

## Filing a report
`POST /v1/repairs` with the place (`project`, `building`, and a `unit` or a `common_area`),
the `reporter`, the `channel`, a defect `category` (e.g. `LK-WET` 厨卫地面渗漏) and a
`description`. **201** means the report is stored and will not be lost; the body is the
repair: its `id` (to follow it), `ticket` (工单号), `priority` and arrival deadline
(`deadlines.arrive_by`, in the project's time zone, with the rule behind it).

`emergency: true` (or an emergency category such as `PIPE-BURST`, `EL-OUTAGE`, `ELEV`)
makes it an emergency; otherwise the center may classify it with `priority`: `urgent`, or
`planned` (计划性) with the agreed `preferred_visit_at`, which becomes its arrival deadline.

To send photos with the report, post it as `multipart/form-data`: the same JSON in a
`report` part (content type `application/json`) and up to nine `photos` parts (JPEG, PNG,
WebP or HEIC, judged by their bytes, 10 MB each by default). The report and its photos are
kept together or not at all. More photos later: `POST /v1/repairs/{repair_id}/photos`.

## Retries: Idempotency-Key
Send an `Idempotency-Key` header (up to 200 characters: a UUID, or your own ticket number)
with each report. A retry with the same key and body returns the same repair and status code,
with `Idempotent-Replayed: true`; the same key with another body is 409
`idempotency_key_reused`. Keys are per API key. Retry after a timeout, a 429 or a 503; the
other 4xx answers will not change.

## Duplicates
A report of the same place and category as a repair still open, within the project's
duplicate window (72 hours unless `PUT /v1/projects/{project}/intake` says otherwise), opens
no second repair: it is attached to the open one and the answer is **200** instead of 201,
with that repair, `duplicate_of` set to its `id` and `repeat_calls` counting the extra
reports. Either way the body is the repair to follow. A repeat call with `emergency: true`
about a routine repair raises it to an emergency: its `priority` and `deadlines.arrive_by`
(the emergency target from this call, if sooner) change in the answer, and its workflow
follows.

A report of the same place and category within three months (the project's
`repair_guarantee`) of an earlier repair's acceptance carries `repair_guarantee`: the same
problem is repaired again free (维修质保).

## Following a repair
`GET /v1/repairs/{repair_id}`: status, deadlines, `overdue` and the `timeline`.
`GET /v1/repairs` finds repairs, newest first, by filters that combine (`project`,
`building`, `unit`, `common_area`, `status`, `priority`, `overdue`, `category`, `phone`,
`created_from`, `created_to`), `limit` (up to 200) at a time: pass `next_cursor` as `cursor`
until it is absent. `GET /v1/projects/{project}/buildings/{building}/units/{unit}/repairs` is
a unit's history for the agent on the phone. Photos: `POST /v1/repairs/{repair_id}/photos`.

## Acting on a repair
Technicians, staff and owners move a repair on with `POST /v1/repairs/{repair_id}/{action}`:
`accept` or `decline` an offer (接单), `arrive` (到场), `diagnose` (诊断), `complete` (完工),
`acceptance` (the owner's 验收: rejected is a rework, 返工), `reschedule` (an agreed visit
time), `pause` and `resume` (waiting for parts or the owner), `cancel`. The answer is the
repair's live state (`GET /v1/repairs/{repair_id}/progress` shows it too); what the state
does not allow is 409 `action_refused` with the reason in `detail`. Right after the report
the repair's workflow may still be starting: 409 `not_started`, retry in a moment. A
project's deadlines, offer time, rework limit and escalation chain are its service levels:
`PUT /v1/projects/{project}/service-levels`. A paid repair is quoted (`quote`, or with
`diagnose`) from the project's standard service items (常规服务项目表,
`PUT /v1/projects/{project}/service-items`): a line gives an item's `code` and `quantity`
and gets its name and price; work outside the table is `OFF-LIST` with its `name` and the
agreed `unit_price_fen`.

## Receiving updates: webhooks
Instead of polling, register a URL with `POST /v1/webhooks` (under *webhooks*): it receives
a POST for each event of your projects' repairs (`repairs.reported.v1`,
`repairs.overdue.v1`, ...), signed per [Standard Webhooks](https://www.standardwebhooks.com/)
with the `secret` shown once at registration, retried until your URL answers 2xx. See
`GET /v1/webhooks/{webhook_id}/deliveries` for what was sent, and `docs/webhooks.md`.

## Errors
Every error is `application/problem+json` (RFC 9457): `type`, `title`, `status`, `code`
(stable, for programs), `detail` and `detail_zh` (English and Chinese, to read to a caller)
and `field` (the field or header at fault, or null); a 422 may list every problem in
`errors`. A malformed request is answered 4xx, never 500. A 503 means a back-end service did
not answer and nothing was recorded: retry after `Retry-After` seconds.

## Rate limits
Each key may make a number of requests per minute (600 unless the operator set otherwise).
Every keyed answer carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
(seconds); beyond the limit the answer is 429 `rate_limited` with `Retry-After`.
"""

TAGS = [
    {"name": "repairs", "description": "Report defects (报修), find them, follow them, attach "
                                       "photos."},
    {"name": "delegation", "description": "A repair handed to its liable developer, "
                                          "contractor or manufacturer (转开发商/厂家): "
                                          "attendance, emergency measures, back-charge."},
    {"name": "followup", "description": "Return visits (回访) due and their results, "
                                        "complaints, the quarter's statistics and a "
                                        "project's follow-up policy."},
    {"name": "reports", "description": "The center's reports: orders issued, completed and "
                                       "unfinished per day, week or month with the reasons, "
                                       "and the finance statement of paid repairs (21st to "
                                       "20th)."},
    {"name": "webhooks", "description": "Receive each repair's events at your URL, signed "
                                        "(Standard Webhooks)."},
    {"name": "warranty", "description": "Is a defect under warranty, who is liable, does the "
                                        "owner pay (保修责任判定)."},
    {"name": "registry", "description": "Projects with their buildings, units, parties and "
                                        "contract terms; a project's intake policy."},
    {"name": "dispatch", "description": "Teams, technicians, rosters and working hours; "
                                        "offering a repair to a technician (派工)."},
    {"name": "operations", "description": "Health, for load balancers and monitoring; no key "
                                          "needed."},
]


class FieldProblem(BaseModel):
    """One problem of a request; a 422 lists them all in `errors`."""

    field: str = Field(description="Where, e.g. `reporter.phone` or "
                                   "`buildings[0].units[1].delivered_on`.")
    code: str = Field(description="What, for programs: `missing`, `enum`, `unknown_unit`...")
    message: str | None = Field(None, description="In English (a request's shape).")
    message_en: str | None = Field(None, description="In English (a document's checks).")
    message_zh: str = Field(description="In Chinese.")


def problem(status: int, code: str, detail: str, detail_zh: str, field: str | None,
            title: str = "Request refused", **extra: Any) -> dict[str, Any]:
    """A problem+json body as problems.py writes it."""
    return {"type": f"https://repairflow.dev/problems/{code}", "title": title,
            "status": status, "code": code, "detail": detail, "detail_zh": detail_zh,
            "field": field, **extra}


UNAUTHENTICATED = problem(401, "unauthenticated",
                          "An API key is required: `Authorization: Bearer rfk_…`.",
                          "需要接口密钥（Authorization: Bearer rfk_…）。", "Authorization")


class Problem(BaseModel):
    """An error (RFC 9457), in English and Chinese."""

    model_config = ConfigDict(json_schema_extra={"examples": [UNAUTHENTICATED]})
    type: str = Field(description="`https://repairflow.dev/problems/{code}`.")
    title: str
    status: int
    code: str = Field(description="Stable, for programs: `repair_not_found`, `rate_limited`...")
    detail: str = Field(description="What went wrong, in English.")
    detail_zh: str = Field(description="The same in Chinese, to read out to a caller.")
    field: str | None = Field(description="The field or header at fault, if one is.")
    errors: list[FieldProblem] | None = Field(
        None, description="Every problem, when there are several.")


REPAIR = "5f0c9a52-3d1e-4b8a-9c3f-2a7e6d1b4c08"
INVALID = problem(
    422, "invalid_field", "reporter.phone: not a mainland mobile or landline number",
    "reporter.phone：不是有效的大陆手机或固定电话号码", "reporter.phone", title="Invalid request",
    errors=[
        {"field": "reporter.phone", "code": "invalid_phone",
         "message": "not a mainland mobile or landline number",
         "message_zh": "不是有效的大陆手机或固定电话号码"},
        {"field": "channel", "code": "enum",
         "message": "Input should be 'hotline', 'app', 'wechat', 'email', 'web', 'walk_in', "
                    "'patrol' or 'return_visit'", "message_zh": "不是允许的取值"}])
OUT_OF_SCOPE = problem(403, "project_out_of_scope", "This API key is not for project 'BJ-YH'.",
                       "该接口密钥无权访问项目“BJ-YH”。", "project")
UNKNOWN_PROJECT = problem(404, "unknown_project", "Unknown project 'SH-XX'.",
                          "未知的项目“SH-XX”。", "project")
# A 404 by the path parameter that names something unknown.
NOT_FOUND = {
    "repair_id": problem(404, "repair_not_found", f"No repair '{REPAIR}'.",
                         f"没有编号为“{REPAIR}”的报修单。", "repair_id"),
    "photo_id": problem(404, "photo_not_found",
                        f"No photo '9d2e41c7-6b0a-4f55-8e3b-0c1f7a9e2d64' on repair '{REPAIR}'.",
                        "没有找到该照片。", "photo_id"),
    "project": UNKNOWN_PROJECT, "code": UNKNOWN_PROJECT | {"field": "code"},
    "team_id": problem(404, "unknown_team", "Unknown team 'SH-XX'.", "未知的班组“SH-XX”。",
                       "team"),
    "technician_id": problem(404, "unknown_technician", "Unknown technician 'T-SH-99'.",
                             "未知的维修人员“T-SH-99”。", "technician_id"),
    "offer_id": problem(404, "unknown_offer", "Unknown offer '311'.", "未知的派工单“311”。",
                        "offer_id"),
    "webhook_id": problem(404, "webhook_not_found",
                          "No webhook '0b6f2d1e-8f1c-4a53-9a43-5f0e2b1c7d11'.",
                          "没有编号为“0b6f2d1e-8f1c-4a53-9a43-5f0e2b1c7d11”的回调。",
                          "webhook_id"),
    "delivery_id": problem(404, "delivery_not_found", "No delivery 42 of this webhook.",
                           "该回调没有编号为 42 的投递。", "delivery_id"),
    "visit_id": problem(404, "unknown_visit", f"No return visit 'repair-{REPAIR}'.",
                        "没有这条回访记录。", "visit_id"),
    "revisit_id": problem(404, "unknown_revisit", "No revisit 17.", "没有这条回访计划。",
                          "revisit_id"),
    "complaint_id": problem(404, "unknown_complaint", "No complaint 'visit-repair-…'.",
                            "没有这条投诉。", "complaint_id"),
}
CONFLICTS = {
    ("post", "/v1/repairs"): problem(
        409, "idempotency_key_reused", "This Idempotency-Key was used for a different report.",
        "该幂等键已用于另一份不同的报修。", "Idempotency-Key"),
    ("put", "/v1/projects/{code}"): problem(
        409, "project_code_taken", "Project code 'SH-LJ' is taken; choose another.",
        "项目编码“SH-LJ”已被占用，请另选编码。", "code"),
    ("delete", "/v1/technicians/{technician_id}"): problem(
        409, "has_open_orders", "马建国 still holds open orders; reassign them first.",
        "马建国仍有未完成的派工，请先转派。", "technician_id"),
    ("delete", "/v1/teams/{team_id}"): problem(
        409, "team_not_empty", "Team SH-ENG still has technicians.", "SH-ENG班组仍有维修人员。",
        "team"),
    ("post", "/v1/offers/{offer_id}/accept"): problem(
        409, "offer_closed", "The offer is declined already.", "该派工已处理，不能再次答复。",
        "offer_id"),
    ("post", "/v1/offers/{offer_id}/decline"): problem(
        409, "offer_closed", "The offer is accepted already.", "该派工已处理，不能再次答复。",
        "offer_id"),
    ("post", "/v1/return-visits/{visit_id}/result"): problem(
        409, "already_recorded", "This visit's result is recorded already.", "该回访已有记录。",
        "visit_id"),
    ("post", "/v1/revisits/{revisit_id}/result"): problem(
        409, "already_recorded", "This revisit's result is recorded already.",
        "该回访计划已有记录。", "revisit_id"),
    ("post", "/v1/projects/{project}/certificates"): problem(
        409, "already_issued", "Unit 1-1201's certificate was issued on 2024-01-20.",
        "该户保修证书已于2024-01-20发放。", "unit"),
    ("post", "/v1/complaints/{complaint_id}/handled"): problem(
        409, "already_handled", "This complaint is handled already.", "该投诉已处理完毕。",
        "complaint_id"),
    ("post", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): problem(
        409, "delivery_not_failed", "Only a given-up delivery can be retried; this one is "
        "delivered or still being tried.", "只有已放弃的投递才能重试。", "delivery_id"),
}
# The people's actions on a repair (lifecycle_endpoints.py): a refusal of each, as the
# workflow words it.
REFUSALS = {
    "accept": "the repair is offered to T-SH-02, not T-SH-05",
    "decline": "the offer was answered already",
    "arrive": "the repair is offered; this needs it accepted",
    "diagnose": "the repair is accepted; this needs it arrived or diagnosed",
    "complete": "the repair is T-SH-02's, not T-SH-05's",
    "acceptance": "the repair is arrived; this needs it completed",
    "reschedule": "visit_at must be in the future",
    "pause": "paused already: 等待防水卷材到货",
    "resume": "the repair is not paused",
    "cancel": "the repair is completed and cannot be cancelled",
    "quote": "the repair is free under warranty: there is nothing to quote",
    "quote-decision": "decision must be one of accept, refuse",
    "waiver-request": "amount_fen must be between 1 and the quote's 15000",
    "waiver-decision": "a waiver of 800.00 yuan needs the company_leader",
}
CONFLICTS |= {("post", f"/v1/repairs/{{repair_id}}/{action}"): problem(
    409, "action_refused", reason, f"当前状态不允许此操作：{reason}", None)
    for action, reason in REFUSALS.items()}
NOT_STARTED = problem(409, "not_started", "The repair's workflow is starting; retry in a moment.",
                      "报修流程正在启动，请稍后重试。", "repair_id")
EARLY_EN = ("Unit 1-1201 delivered on 2023-01-06, before the building's completion on "
            "2023-06-30.")
EARLY_ZH = "房号1-1201的交付日期2023-01-06早于楼栋竣工日期2023-06-30。"
# Refusals particular to one operation, beside the general ones.
EXTRA: dict[tuple[str, str], dict[int, list[dict[str, Any]]]] = {
    ("post", "/v1/repairs"): {
        422: [problem(422, "unknown_unit", "Building 1 of SH-LJ has no unit '1-1301'.",
                      "SH-LJ项目1楼栋没有房号“1-1301”。", "unit"),
              problem(422, "too_many_photos", "A report may carry at most 9 photos.",
                      "每次报修最多上传9张照片。", "photos")],
        413: [problem(413, "photo_too_large", "A photo may be at most 10 MB.", "照片不能超过10MB。",
                      "photos[0]")],
        415: [problem(415, "unsupported_photo", "Only JPEG, PNG, WebP or HEIC photos are taken.",
                      "仅支持JPEG、PNG、WebP或HEIC格式的照片。", "photos[1]"),
              problem(415, "unsupported_media_type",
                      "Send the report as application/json, or as multipart/form-data with a "
                      "`report` part and `photos` parts.",
                      "报修内容须为 application/json，或 multipart/form-data（report 部分加 photos "
                      "照片）。", "Content-Type")]},
    ("put", "/v1/projects/{code}"): {
        403: [problem(403, "group_out_of_scope", "This API key is for group 'HX', not 'ZY'.",
                      "该接口密钥只能管理集团“HX”的项目。", "group")],
        422: [problem(422, "delivered_before_completion", EARLY_EN, EARLY_ZH,
                      "buildings[0].units[1].delivered_on", errors=[
                          {"field": "buildings[0].units[1].delivered_on",
                           "code": "delivered_before_completion",
                           "message_en": EARLY_EN, "message_zh": EARLY_ZH},
                          {"field": "contract_terms[0].warranty_category",
                           "code": "unknown_warranty_category",
                           "message_en": "Unknown warranty category 'wiring'.",
                           "message_zh": "未知的保修类别“wiring”。"}])]},
    ("post", "/v1/offers/{offer_id}/accept"): {403: [problem(
        403, "not_your_offer", "This offer was made to someone else.", "该派工不是派给您的。",
        "technician_id")]},
    **{("post", f"/v1/repairs/{{repair_id}}/{action}"): {409: [NOT_STARTED]}
       for action in REFUSALS},
    ("get", "/v1/repairs/{repair_id}/progress"): {409: [NOT_STARTED]},
    ("post", "/v1/repairs/{repair_id}/arrive"): {409: [NOT_STARTED], 422: [problem(
        422, "in_the_future", "arrived_at is in the future.", "到场时间不能晚于当前时间。",
        "arrived_at")]},
    ("post", "/v1/repairs/{repair_id}/complete"): {409: [NOT_STARTED], 422: [problem(
        422, "unknown_photo", "No photo '9d2e41c7-6b0a-4f55-8e3b-0c1f7a9e2d64' on this repair.",
        "该报修单没有这张照片。", "photo_ids")]},
    ("post", "/v1/repairs/{repair_id}/acceptance"): {409: [NOT_STARTED], 422: [problem(
        422, "reason_required", "Say what the owner is not satisfied with.",
        "业主不验收时须填写原因。", "reason")]},
    ("put", "/v1/projects/{project}/service-levels"): {422: [problem(
        422, "arrival_target_required",
        "Routine repairs need an arrival target: their workflow watches it.",
        "日常报修必须设置到场时限。", "targets.routine.arrive")]},
    ("post", "/v1/repairs/{repair_id}/photos"): {
        413: [problem(413, "photo_too_large", "A photo may be at most 10 MB.", "照片不能超过10MB。",
                      "file")],
        415: [problem(415, "unsupported_photo", "Only JPEG, PNG, WebP or HEIC photos are taken.",
                      "仅支持JPEG、PNG、WebP或HEIC格式的照片。", "file")]},
}
OWN = {403: "Refused to this key.", 409: "Conflicts with the current state.",
       413: "The photo is larger than allowed.",
       415: "Not a JPEG, PNG, WebP or HEIC photo (judged by its bytes), or a body of "
            "another type.",
       422: "The request is malformed."}
INVALID_CURSOR = problem(422, "invalid_cursor", "This cursor is not one we gave out.",
                         "分页游标无效。", "cursor")

HEADERS = {
    "RateLimit-Limit": {"description": "Requests this key may make per minute.",
                        "schema": {"type": "integer"}, "example": 600},
    "RateLimit-Remaining": {"description": "Requests left in the current minute.",
                            "schema": {"type": "integer"}, "example": 587},
    "RateLimit-Reset": {"description": "Seconds until the window frees a request.",
                        "schema": {"type": "integer"}, "example": 41},
    "Retry-After": {"description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer"}, "example": 2},
    "WWW-Authenticate": {"description": "How to authenticate.", "schema": {"type": "string"},
                         "example": 'Bearer realm="repairflow"'},
    "Idempotent-Replayed": {"description": "`true` when this is the stored answer to an "
                                           "earlier request with the same Idempotency-Key.",
                            "schema": {"type": "string", "enum": ["true"]}},
}
RATE = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
GENERAL: dict[int, tuple[str, list[dict[str, Any]], tuple[str, ...]]] = {
    401: ("No API key, or an unknown or revoked one.", [
        UNAUTHENTICATED, problem(401, "invalid_api_key", "This API key is unknown or revoked.",
                                 "接口密钥无效或已停用。", "Authorization")],
        ("WWW-Authenticate",)),
    403: ("A project of the key's group that this key was not given.", [OUT_OF_SCOPE], ()),
    422: ("The request is malformed or names something that does not exist; `errors` lists "
          "each problem.", [INVALID], ()),
    429: ("This key's requests per minute are spent.", [problem(
        429, "rate_limited", "Too many requests for this API key; retry after 12 s.",
        "该接口密钥请求过于频繁，请12秒后重试。", None)], ("Retry-After", *RATE)),
    503: ("A back-end service did not answer; nothing was recorded. Retry.", [problem(
        503, "service_unavailable",
        "A back-end service did not answer; nothing was recorded. Please retry.",
        "后台服务暂时无响应，本次未登记，请重试。", None,
        title="A back-end service is unavailable")], ("Retry-After",)),
}
# Bodies read by hand (report_body.py), which FastAPI does not put in the components.
READ_BY_HAND: tuple[type[BaseModel], ...] = (ReportRepair,)
SECURITY = [{"HTTPBearer": []}, {"APIKeyHeader": []}]
FASTAPI_DEFAULTS = ("Validation Error", "Successful Response")


def document(app: FastAPI) -> None:
    """Describe the API for integrators and finish its schema each time FastAPI builds it."""
    app.description = DESCRIPTION
    app.openapi_tags = TAGS
    build: Callable[[], dict[str, Any]] = app.openapi
    finished: list[dict[str, Any]] = []  # FastAPI caches the schema; rebuilds on new routes

    def openapi() -> dict[str, Any]:
        schema = build()
        if not finished or finished[0] is not schema:
            finish(schema, app)
            finished[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def api_routes(app: FastAPI) -> Iterator[RouteContext]:
    """Every API route as served, included routers' dependencies and all."""
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.include_in_schema:
            yield route


def needs_key(route: RouteContext) -> bool:
    return _needs_key(route.dependant)


def _needs_key(dependant: Dependant) -> bool:
    return any(d.call is authorize or _needs_key(d) for d in dependant.dependencies)


def models_of(app: FastAPI) -> set[type[BaseModel]]:
    """The pydantic models the routes read and answer, and the models inside them."""
    found: set[type[BaseModel]] = set()
    for model in READ_BY_HAND:
        _collect(model, found)
    for route in api_routes(app):
        if route.body_field is not None:
            _collect(route.body_field.field_info.annotation, found)
        _collect(route.response_model, found)
        for answer in route.responses.values():
            _collect(answer.get("model"), found)
    return found


def _collect(annotation: Any, found: set[type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in found:
            found.add(annotation)
            for field in annotation.model_fields.values():
                _collect(field.annotation, found)
        return
    for argument in get_args(annotation):
        _collect(argument, found)


def finish(schema: dict[str, Any], app: FastAPI) -> None:
    """Add the Problem schema, the headers and every keyed operation's error answers."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in READ_BY_HAND:
        written = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in written.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas.setdefault(model.__name__, written)
    _restore_examples(schema, app)
    keyed = {(method.lower(), route.path_format) for route in api_routes(app)
             if needs_key(route) for method in route.methods}
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    components["headers"] = HEADERS
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if (method, path) not in keyed:
                if "422" in responses:  # FastAPI's own shape, which problems.py never sends
                    responses["422"] = _problem_response(*GENERAL[422])
                continue
            # The dependencies declare it; kept here so that no keyed operation lacks it.
            operation.setdefault("security", SECURITY)
            for status, response in responses.items():
                if status.startswith("2"):
                    _headers(response, RATE)
            if (method, path) == ("post", "/v1/repairs"):
                for status in ("200", "201"):
                    _headers(responses[status], ("Idempotent-Replayed",))
            for status, answer in _errors(method, path, operation).items():
                described = responses.get(str(status), {}).get("description")
                description, examples, headers = answer
                if described and described not in FASTAPI_DEFAULTS:
                    description = described
                responses[str(status)] = _problem_response(description, examples, headers)
            operation["responses"] = dict(sorted(responses.items()))
    for unused in ("HTTPValidationError", "ValidationError"):  # in this order: one uses the other
        if f"#/components/schemas/{unused}\"" not in json.dumps(schema):
            schemas.pop(unused, None)


def _restore_examples(schema: dict[str, Any], app: FastAPI) -> None:
    """Put back the examples' nulls: FastAPI drops every None from the schema it writes, so
    that `"unit": null` of a common-area repair would vanish and the example stop
    validating against its own model."""
    schemas = schema.get("components", {}).get("schemas", {})
    for model in models_of(app):
        examples = (model.model_config.get("json_schema_extra") or {}).get("examples")
        if examples and model.__name__ in schemas:
            schemas[model.__name__]["examples"] = to_jsonable_python(examples)
    for route in api_routes(app):
        for status, answer in route.responses.items():
            for media, content in answer.get("content", {}).items():
                for method in route.methods:
                    written = (schema["paths"][route.path_format][method.lower()]["responses"]
                               [str(status)]["content"][media])
                    for key in ("example", "examples"):
                        if key in content:
                            written[key] = to_jsonable_python(content[key])


def _errors(method: str, path: str, operation: dict[str, Any]
            ) -> dict[int, tuple[str, list[dict[str, Any]], tuple[str, ...]]]:
    """The error answers of one keyed operation: the general ones and its own."""
    answers = dict(GENERAL)
    parameters = operation.get("parameters", [])
    in_path = [p["name"] for p in parameters if p["in"] == "path"]
    queried = {p["name"] for p in parameters if p["in"] == "query"}
    missing = [NOT_FOUND[name] for name in in_path if name in NOT_FOUND]
    if "project" in queried:
        missing.append(UNKNOWN_PROJECT)
    if missing and (method, path) != ("put", "/v1/projects/{code}"):  # creates what is new
        answers[404] = ("Not found, or not visible to this key.", _unique(missing), ())
    if (method, path) in CONFLICTS or "409" in operation["responses"]:
        found = CONFLICTS.get((method, path))
        answers[409] = ("Conflicts with the current state.", [found] if found else [], ())
    if "cursor" in queried:
        answers[422] = (answers[422][0], [*answers[422][1], INVALID_CURSOR], ())
    for status, examples in EXTRA.get((method, path), {}).items():
        description, known, headers = answers.get(status, (OWN[status], [], ()))
        answers[status] = (description, [*known, *examples], headers)
    return answers


def _unique(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({body["code"]: body for body in bodies}.values())


def _problem_response(description: str, examples: list[dict[str, Any]],
                      headers: tuple[str, ...]) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": {"$ref": "#/components/schemas/Problem"}}
    if examples:
        content["examples"] = {body["code"]: {"summary": body["detail"], "value": body}
                               for body in _unique(examples)}
    response: dict[str, Any] = {"description": description, "content": {MEDIA_TYPE: content}}
    _headers(response, headers)
    return response


def _headers(response: dict[str, Any], names: tuple[str, ...]) -> None:
    if names:
        response.setdefault("headers", {}).update(
            {name: {"$ref": f"#/components/headers/{name}"} for name in names})
