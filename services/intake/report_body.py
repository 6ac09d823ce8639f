"""How a report reaches `POST /v1/repairs`: as JSON, or as multipart/form-data with the same
JSON in a `report` part and up to nine `photos` (现场照片), so that a call center or an app
files the defect and its photos in one request. Everything is checked before anything is
kept; a refusal names the field as a JSON body's would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from services.common.errors import Rejection
from services.intake.photos import IMAGE_TYPES, CheckedPhoto, check
from services.intake.schemas import ReportRepair

MAX_PHOTOS = 9
MAX_REPORT_BYTES = 64 * 1024  # a report is a few kilobytes of JSON
PARTS = ("report", "photos")


@dataclass(frozen=True)
class Submission:
    """A report as filed, with the photos that came with it."""

    report: ReportRepair
    photos: tuple[CheckedPhoto, ...] = ()


async def read_submission(request: Request) -> Submission:
    """The report and its photos, from a JSON or a multipart body (a dependency)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        return await _multipart(request)
    if media and media != "application/json" and not media.endswith("+json"):
        raise Rejection(
            "unsupported_media_type",
            "Send the report as application/json, or as multipart/form-data with a `report` "
            "part and `photos` parts.",
            "报修内容须为 application/json，或 multipart/form-data（report 部分加 photos 照片）。",
            "Content-Type", 415)
    return Submission(_report(await request.body(), part="body"))


def _report(raw: bytes | str | None, *, part: str) -> ReportRepair:
    """The report from its JSON; errors inside it are named as in a JSON body."""
    data = raw.encode() if isinstance(raw, str) else raw or b""
    if not data.strip():
        raise RequestValidationError([{"type": "missing", "loc": ("body", part),
                                       "msg": "The report is required"}])
    if b"\\u0000" in data or b"\x00" in data:  # PostgreSQL cannot store NUL in text
        raise Rejection("nul_character", "Text may not contain the NUL character (\\u0000).",
                        "文本中不能包含空字符（\\u0000）。", part, 422)
    try:
        return ReportRepair.model_validate_json(data)
    except ValidationError as exc:
        raise RequestValidationError([
            {"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"]}
            for e in exc.errors(include_url=False)]) from None


async def _multipart(request: Request) -> Submission:
    max_bytes = request.app.state.runtime.photo_max_bytes
    try:
        # One file more than the photos: some clients send the report part as a file.
        form = await request.form(max_files=MAX_PHOTOS + 1, max_fields=len(PARTS))
    except HTTPException as exc:  # Starlette's words for a body it could not parse
        if "files" in str(exc.detail):
            raise Rejection("too_many_photos", f"A report may carry at most {MAX_PHOTOS} photos.",
                            f"每次报修最多上传{MAX_PHOTOS}张照片。", "photos", 422) from None
        raise Rejection("malformed_multipart", f"The multipart body is malformed: {exc.detail}",
                        "上传内容格式不正确。", None, 400) from None
    try:
        unknown = sorted(set(form.keys()) - set(PARTS))
        if unknown:
            raise RequestValidationError([{"type": "extra_forbidden", "loc": ("body", name),
                                           "msg": "Extra inputs are not permitted"}
                                          for name in unknown])
        raw: Any = form.get("report")
        if isinstance(raw, UploadFile):  # some clients send the JSON part as a file
            raw = await raw.read(MAX_REPORT_BYTES + 1)
        if raw is not None and len(raw) > MAX_REPORT_BYTES:
            raise Rejection("report_too_large", "The report part is larger than 64 KB.",
                            "报修内容超过64KB。", "report", 413)
        report = _report(raw, part="report")
        if len(form.getlist("photos")) > MAX_PHOTOS:
            raise Rejection("too_many_photos", f"A report may carry at most {MAX_PHOTOS} photos.",
                            f"每次报修最多上传{MAX_PHOTOS}张照片。", "photos", 422)
        photos = []
        for index, part in enumerate(form.getlist("photos")):
            if not isinstance(part, UploadFile):
                raise Rejection("unsupported_photo", "A photo must be sent as a file part.",
                                "照片须以文件形式上传。", f"photos[{index}]", 422)
            photos.append(await check(part, max_bytes=max_bytes, field=f"photos[{index}]"))
        return Submission(report, tuple(photos))
    finally:
        await form.close()


# The request body as the OpenAPI page shows it: FastAPI cannot infer a body read by hand.
OPENAPI = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/ReportRepair"}},
    "multipart/form-data": {
        "schema": {"type": "object", "required": ["report"], "properties": {
            "report": {"$ref": "#/components/schemas/ReportRepair"},
            "photos": {"type": "array", "maxItems": MAX_PHOTOS,
                       "description": "Photos of the defect, each a JPEG, PNG, WebP or HEIC "
                                      "file (judged by its bytes) within the size limit.",
                       "items": {"type": "string", "format": "binary"}}}},
        "encoding": {"report": {"contentType": "application/json"},
                     "photos": {"contentType": ", ".join(IMAGE_TYPES)}}}}}}
