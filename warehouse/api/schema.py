"""The error answers of the API, declared once for every operation of the OpenAPI schema (a drf-spectacular
postprocessing hook): each view documents its success, this adds the 4xx every operation can give, with the error
body `warehouse.api.errors` produces, so generated clients and schemathesis see the API as it answers."""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "description": "An error. `detail` says what went wrong; `reasons` names each failed rule (409, 422, 413, and a "
    "400 for a body too deep). A 400 for invalid fields names each field instead, with its messages.",
    "properties": {
        "detail": {"type": "string"},
        "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/ErrorReason"}},
    },
    "additionalProperties": True,
}
REASON = {
    "type": "object",
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
    "required": ["code", "message"],
}
EVERY_OPERATION = {
    "401": "Not signed in: no token, or an unknown or revoked one.",
    "403": "Signed in, but not permitted.",
    "404": "No such object, or not yours to see (another brand's object is a 404, never a 403); a page past the end.",
}
WITH_INPUT = {"400": "Malformed: unknown, read-only or invalid fields (each named), unreadable or too deep JSON."}
WRITES = {
    "409": "Not allowed now: a transition from the wrong state or a failed guard, short stock, a conflicting request.",
    "413": "The request body is larger than the API accepts.",
    "415": "The body's content type is not JSON or a form.",
    "422": "Well-formed, but breaks a rule of the domain.",
}


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"], schemas["ErrorReason"] = ERROR, REASON
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answers = dict(EVERY_OPERATION)
            if method in ("post", "put", "patch") or operation.get("parameters"):
                answers.update(WITH_INPUT)
            if method in ("post", "put", "patch", "delete"):
                answers.update(WRITES)
            for code, description in answers.items():
                operation["responses"].setdefault(code, {"description": description, "content": body})
    return result
