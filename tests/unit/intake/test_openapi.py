"""The OpenAPI page is enough to integrate from: every operation is summarised, shows an
example of what it takes and answers, documents its errors as problem+json, and every
example validates against the model it illustrates. `app.openapi()` runs no lifespan, so no
server is needed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from services.intake.app import IntakeSettings, create_app
from services.intake.openapi import Problem, api_routes, models_of, needs_key
from services.intake.problems import MEDIA_TYPE

UNKEYED = {"GET /healthz"}


@pytest.fixture(scope="module")
def app():
    return create_app(IntakeSettings())


@pytest.fixture(scope="module")
def schema(app) -> dict[str, Any]:
    return app.openapi()


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def has_example(schema: dict[str, Any], content: dict[str, Any]) -> bool:
    """An example on the media type, or on its schema (a list's: on its items)."""
    if content.get("example") is not None or content.get("examples"):
        return True
    node = resolve(schema, content.get("schema", {}))
    if node.get("type") == "array":
        node = resolve(schema, node.get("items", {}))
    return bool(node.get("examples") or node.get("example") is not None)


def is_binary(schema: dict[str, Any], content: dict[str, Any]) -> bool:
    node = resolve(schema, content.get("schema", {}))
    return node.get("format") == "binary" or "contentMediaType" in node


def test_every_operation_has_a_summary(schema):
    missing = [name for name, operation in operations(schema) if not operation.get("summary")]
    assert not missing, f"operations without a summary: {missing}"


def test_every_request_body_has_an_example(schema):
    missing = []
    for name, operation in operations(schema):
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            if media == "multipart/form-data":
                # Bytes have no JSON example; the parts' accepted types stand in for one.
                node = resolve(schema, content["schema"])
                files = [part for part, spec in node["properties"].items()
                         if is_binary(schema, {"schema": spec})]
                if any(part not in content.get("encoding", {}) for part in files):
                    missing.append(f"{name} ({media}: no encoding for its files)")
            elif not has_example(schema, content):
                missing.append(f"{name} ({media})")
    assert not missing, f"request bodies without an example: {missing}"


def test_every_success_answer_has_an_example(schema):
    missing = []
    for name, operation in operations(schema):
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                continue
            for media, content in response.get("content", {}).items():
                if "schema" not in content:
                    missing.append(f"{name} {status} ({media}: no schema)")
                elif not is_binary(schema, content) and not has_example(schema, content):
                    missing.append(f"{name} {status} ({media})")
    assert not missing, f"2xx answers without an example: {missing}"


def test_keyed_operations_declare_the_key_and_their_errors(app, schema):
    keyed = {f"{method} {route.path_format}" for route in api_routes(app) if needs_key(route)
             for method in route.methods}
    assert keyed == {name for name, _ in operations(schema)} - UNKEYED
    problems = []
    for name, operation in operations(schema):
        if name in UNKEYED:
            continue
        schemes = {scheme for option in operation.get("security", []) for scheme in option}
        if schemes != {"HTTPBearer", "APIKeyHeader"}:
            problems.append(f"{name}: security {sorted(schemes)}")
        for status in ("401", "422", "429", "503"):
            content = operation["responses"].get(status, {}).get("content", {})
            if set(content) != {MEDIA_TYPE} or not content[MEDIA_TYPE].get("examples"):
                problems.append(f"{name}: {status} not problem+json with an example")
    assert not problems, "keyed operations missing their key or errors:\n" + "\n".join(problems)


def test_no_operation_shows_fastapi_s_own_validation_shape(schema):
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    # /healthz answers its own JSON when degraded (503), for monitoring rather than people.
    wrong = [f"{name} {status}" for name, operation in operations(schema) if name not in UNKEYED
             for status, response in operation["responses"].items()
             if status[0] in "45" and set(response.get("content", {})) != {MEDIA_TYPE}]
    assert not wrong, f"errors not documented as {MEDIA_TYPE}: {wrong}"


def adapter(info: Any) -> TypeAdapter:
    """A field's type with its constraints (max_length, ge...)."""
    if info.metadata:
        return TypeAdapter(Annotated[(info.annotation, *info.metadata)])
    return TypeAdapter(info.annotation)


def _invalid(adapter: TypeAdapter | type[BaseModel], example: Any) -> str | None:
    try:
        if isinstance(adapter, TypeAdapter):
            adapter.validate_python(example)
        else:
            adapter.model_validate(example)
    except ValidationError as error:
        return str(error).splitlines()[0] + ": " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
    return None


def test_every_example_validates_against_its_model(app, schema):
    failures = []
    models = models_of(app)
    assert {m.__name__ for m in models} >= {"ReportRepair", "RepairView", "ProjectIn",
                                            "WarrantyDecision", "RosterIn", "PhotoView"}
    for model in models:
        for example in (model.model_config.get("json_schema_extra") or {}).get("examples", []):
            if why := _invalid(model, example):
                failures.append(f"{model.__name__} example: {why}")
        for field, info in model.model_fields.items():
            for example in info.examples or []:
                if why := _invalid(adapter(info), example):
                    failures.append(f"{model.__name__}.{field} example {example!r}: {why}")
    # As published: FastAPI drops nulls from what it writes, which openapi.py undoes.
    by_name = {m.__name__: m for m in models}
    for name, node in schema["components"]["schemas"].items():
        if name in by_name:
            for example in node.get("examples", []):
                if why := _invalid(by_name[name], example):
                    failures.append(f"published {name} example: {why}")
    for route in api_routes(app):
        for status, answer in route.responses.items():
            for media, content in answer.get("content", {}).items():
                if "model" in answer and "example" in content:
                    if why := _invalid(answer["model"], content["example"]):
                        failures.append(f"{route.path_format} {status} {media}: {why}")
        for parameter in route.dependant.path_params + route.dependant.query_params:
            info = parameter.field_info
            for example in info.examples or []:
                if why := _invalid(adapter(info), example):
                    failures.append(f"{route.path_format} {parameter.alias}={example!r}: {why}")
    for name, operation in operations(schema):
        for status, response in operation["responses"].items():
            for key, example in response.get("content", {}).get(MEDIA_TYPE, {}).get(
                    "examples", {}).items():
                body = example["value"]
                if why := _invalid(Problem, body):
                    failures.append(f"{name} {status} {key}: {why}")
                elif str(body["status"]) != status:
                    failures.append(f"{name} {status} {key}: status {body['status']}")
    assert not failures, "examples that do not validate:\n" + "\n".join(failures)


def test_the_page_explains_how_to_integrate(schema):
    description = schema["info"]["description"]
    for needed in ("repairflow apikey create", "Idempotency-Key", "duplicate_of", "cursor",
                   "POST /v1/webhooks", "problem+json", "detail_zh", "Retry-After"):
        assert needed in description
    tags = {tag["name"] for tag in schema["tags"] if tag.get("description")}
    used = {tag for _, operation in operations(schema) for tag in operation.get("tags", [])}
    assert used <= tags, f"tags without a description: {used - tags}"
