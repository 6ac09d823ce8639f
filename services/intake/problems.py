"""One error shape over HTTP: problem+json (RFC 9457) with a machine code, the field at
fault, and a message in English and Chinese that an agent can read out."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from services.common.errors import Rejection, ServiceUnavailable

log = structlog.get_logger(__name__)
MEDIA_TYPE = "application/problem+json"

# Chinese for pydantic's error types; anything else reads "格式不正确".
_ZH = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不认识的字段",
    "string_too_short": "不能为空",
    "string_too_long": "内容过长",
    "string_type": "应为文本",
    "enum": "不是允许的取值",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "timezone_aware": "时间必须带时区（例如 +08:00）",
    "datetime_parsing": "不是有效的时间",
    "datetime_from_date_parsing": "不是有效的时间",
    "datetime_type": "不是有效的时间",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "value_error": "取值不正确",
    "invalid_phone": "不是有效的大陆手机或固定电话号码",
    "implausible_time": "时间须在2000年至一年后之间，请检查",
}


def problem(
    status: int, code: str, title: str, detail: str, detail_zh: str,
    field: str | None = None, headers: dict[str, str] | None = None, **extra: Any,
) -> JSONResponse:
    body = {
        "type": f"https://repairflow.dev/problems/{code}", "title": title, "status": status,
        "code": code, "detail": detail, "detail_zh": detail_zh, "field": field, **extra,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field(loc: tuple) -> str:
    # FastAPI prefixes the location with "body"/"query"/"path"; people want the field.
    parts = [str(p) for p in loc[1:] if p not in ("function-after",)] or [str(loc[0])]
    return ".".join(parts)


def install(app: FastAPI) -> None:
    """Register the handlers that render every expected failure as problem+json."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": _field(tuple(e["loc"])),
                "code": e["type"],
                "message": e["msg"],
                "message_zh": _ZH.get(e["type"], "格式不正确"),
            }
            for e in exc.errors()
        ]
        first = errors[0]
        return problem(
            422, "invalid_field", "Invalid request",
            f"{first['field']}: {first['message']}", f"{first['field']}：{first['message_zh']}",
            first["field"], errors=errors,
        )

    @app.exception_handler(ValidationError)
    async def _contract(_: Request, exc: ValidationError) -> JSONResponse:
        # A request that passed the HTTP shape but not the contract it becomes.
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        return problem(422, "invalid_field", "Invalid request", f"{field}: {first['msg']}",
                       f"{field}：{_ZH.get(first['type'], '格式不正确')}", field)

    @app.exception_handler(Rejection)
    async def _rejected(_: Request, exc: Rejection) -> JSONResponse:
        extra = {"errors": exc.errors} if exc.errors else {}
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="repairflow"'
        return problem(exc.status, exc.code, "Request refused", exc.message_en, exc.message_zh,
                       exc.field, headers=headers or None, **extra)

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(_: Request, exc: ServiceUnavailable) -> JSONResponse:
        log.warning("dependency unavailable", subject=exc.subject, error=str(exc))
        return problem(
            503, "service_unavailable", "A back-end service is unavailable",
            "A back-end service did not answer; nothing was recorded. Please retry.",
            "后台服务暂时无响应，本次未登记，请重试。", headers={"Retry-After": "2"},
        )

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        zh = {404: "未找到", 405: "不支持该方法"}.get(exc.status_code, "请求错误")
        return problem(exc.status_code, code, str(exc.detail), str(exc.detail), zh)

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        # A bug: logged with its traceback for us, never shown to the caller.
        log.exception("unhandled error", exc_info=exc)
        return problem(500, "internal_error", "Internal error",
                       "Something went wrong on our side; it has been logged.",
                       "系统内部错误，已记录。")
