"""Issue 16: "The REST API documents every action in the OpenAPI schema with its error codes."

Read from the schema the API serves (`/api/schema/`), so an action added later is checked without touching this file.
Every write operation under /api/v1/ (POST, PUT, PATCH, DELETE) must:
- say what it does in its own words: a description of its own, not one its view set gives every action;
- document 400 (malformed), 403 (not permitted), 404 (not found, or another brand's) and 409 (a guard or the state
  refuses), each with a description and the error body;
- name only real things: every status its description mentions is documented, and every refusal code it names in
  backticks (`code_in_use`) is a string the code base uses (a reason's code, a step's name)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

WRITES = ("post", "put", "patch", "delete")
REFUSALS = ("400", "403", "404", "409")
APPS = ("warehouse", "inventory", "orders", "returns", "integrations", "reports", "config")
CODE = re.compile(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`")  # a snake_case name in backticks: a refusal code
STATUS = re.compile(r"\b([1-5]\d\d)\b")


def _source() -> str:
    root = Path(settings.BASE_DIR)
    return "\n".join(
        path.read_text(encoding="utf-8")
        for app in APPS
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts
    )


def _writes(schema):
    for path, item in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            if method in WRITES:
                yield f"{method.upper()} {path}", operation


def test_every_write_action_documents_what_it_does_and_each_of_its_error_codes():
    answer = Client().get("/api/schema/?format=json")
    assert answer.status_code == 200
    schema = answer.json()
    writes = dict(_writes(schema))
    assert len(writes) >= 30, sorted(writes)  # the walk found the API (catalogue, receiving, returns and the rest)
    source = _source()
    problems: list[str] = []
    by_description: dict[str, list[str]] = {}
    for name, operation in writes.items():
        description = " ".join((operation.get("description") or "").split())
        if len(description) < 20:
            problems.append(f"{name}: no description of what it does ({description!r})")
            continue
        by_description.setdefault(description, []).append(name)
        responses = operation["responses"]
        for status in REFUSALS:
            answer_doc = responses.get(status)
            if answer_doc is None:
                problems.append(f"{name}: {status} not documented")
            elif not answer_doc.get("description") or "application/json" not in answer_doc.get("content", {}):
                problems.append(f"{name}: {status} has no description or no error body")
        for status in set(STATUS.findall(description)) - set(responses):
            problems.append(f"{name}: the description names {status}, which is not among its documented answers")
        for code in sorted(set(CODE.findall(description))):
            if not re.search(rf"[\"']{code}[\"']", source):  # a string in the code: a Reason's code, a step's name
                problems.append(f"{name}: the description names `{code}`, which nothing in the code raises")
    for description, names in by_description.items():
        if len(names) > 1:
            problems.append(f"{', '.join(sorted(names))}: one description for different actions ({description[:60]}…)")
    assert not problems, "\n".join(problems)
