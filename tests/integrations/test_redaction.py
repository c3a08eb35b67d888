"""One secret-redaction rule set (integrations.redaction) for the HTTP client, the audit log, the outbound queue and
library logs: a secret in a header, a query string, a JSON body key, a form body, a known value or an exception
message never survives."""

import json
import logging
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from integrations import audit, http
from integrations.redaction import (
    REDACTED,
    RedactingFilter,
    redact_body,
    redact_exception,
    redact_headers,
    redact_text,
)

SECRET = "shpat_k3y-v@lue/with+specials ü"
SECRET_NAMES = [
    "access_token",
    "refresh_token",
    "consumer_key",
    "consumer_secret",
    "client_secret",
    "oauth_signature",
    "password",
    "passwd",
    "api_key",
    "api-key",
    "private_key",
    "sessionid",
    "credential",
    "hmac",
    "auth[token]",
]


@pytest.mark.parametrize(
    "name",
    ["Authorization", "X-Shopify-Access-Token", "X-Api-Key", "Cookie", "X-WC-Webhook-Signature", "X-Session-Id"],
)
def test_a_secret_named_header_is_masked_whole(name):
    assert redact_headers({name: "anything-at-all", "Content-Type": "application/json"}) == {
        name: REDACTED,
        "Content-Type": "application/json",
    }


def test_a_known_secret_or_a_secret_parameter_in_any_other_header_is_masked():
    headers = redact_headers(
        {"X-Echo": f"prefix {SECRET} suffix", "Link": "<https://x.example/o?access_token=tok-1234>; rel=next"},
        [SECRET],
    )
    assert SECRET not in str(headers) and "tok-1234" not in str(headers)
    assert headers["X-Echo"] == f"prefix {REDACTED} suffix"


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_a_secret_query_parameter_is_masked_and_the_others_kept(name):
    url = f"https://shop.example/orders.json?page_info=p1&{name}=hunter2-value&limit=50"

    assert redact_text(url) == f"https://shop.example/orders.json?page_info=p1&{name}={REDACTED}&limit=50"


def test_a_form_body_loses_its_secret_fields_and_keeps_the_rest():
    body = urlencode({"grant_type": "refresh", "client_secret": "cs-form-1", "password": "pw form 2", "shop": "acme"})

    text = redact_body(body.encode())

    assert "cs-form-1" not in text and "pw+form+2" not in text and "pw form 2" not in text
    assert "grant_type=refresh" in text and "shop=acme" in text


def test_a_json_body_loses_every_secret_named_key_at_any_depth_and_keeps_the_rest():
    body = {
        "order_id": 1001,
        "password": "hunter2",
        "nested": {"client_secret": "cs-nested", "credentials": {"consumer_key": "ck-deep"}},
        "hooks": [{"signature": "sig-in-list", "topic": "orders/create"}],
    }

    for given_as in (body, json.dumps(body), json.dumps(body).encode()):
        parsed = json.loads(redact_body(given_as))
        assert parsed["order_id"] == 1001 and parsed["hooks"][0]["topic"] == "orders/create"
        assert parsed["password"] == parsed["nested"]["client_secret"] == parsed["hooks"][0]["signature"] == REDACTED
        assert parsed["nested"]["credentials"] == REDACTED


def test_a_json_body_cut_short_still_loses_its_secret_values():
    cut = '{"id": 7, "access_token": "shpat_cut_off_here'

    assert redact_body(cut) == '{"id": 7, "access_token": "' + REDACTED


def test_a_known_secret_value_is_masked_however_it_is_spelled():
    spellings = [
        SECRET,
        urlencode({"q": SECRET})[2:],  # form / query encoding
        json.dumps({"note": SECRET})[10:-2],  # JSON escapes (ü as \\u00fc)
        json.dumps({"note": SECRET}, ensure_ascii=False)[10:-2],
    ]
    for spelled in spellings:
        assert redact_text(f"seen: {spelled} end", [SECRET]) == f"seen: {REDACTED} end", spelled


def test_an_exception_message_never_carries_a_secret():
    try:
        raise ValueError(f"bad answer for https://x.example/?consumer_secret=cs-exc-1 with token {SECRET}")
    except ValueError as exc:
        text = redact_exception(exc, [SECRET])
    assert text.startswith("ValueError: bad answer") and "cs-exc-1" not in text and SECRET not in text


def test_short_known_values_are_not_searched_for():
    assert redact_text("a b c", ["a", ""]) == "a b c"


def test_library_log_lines_lose_secret_parameters():
    line = '"GET /orders?consumer_key=%s HTTP/1.1" 200'
    record = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, __file__, 1, line, ("ck_1",), None)

    assert RedactingFilter().filter(record)
    assert record.getMessage() == f'"GET /orders?consumer_key={REDACTED} HTTP/1.1" 200'


@given(
    secret=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="[]"), min_size=4, max_size=40),
    where=st.sampled_from(["raw", "json", "form", "header", "exception"]),
)
def test_a_known_secret_never_survives_any_of_the_ways_it_reaches_a_log(secret, where):
    assume(secret not in REDACTED and secret.strip() == secret and secret)
    if where == "raw":
        out = redact_text(f"x{secret}y", [secret])
    elif where == "json":
        out = redact_body(json.dumps({"note": [secret]}), [secret])
    elif where == "form":
        out = redact_body(urlencode({"note": secret}), [secret])
    elif where == "header":
        out = str(redact_headers({"X-Note": secret}, [secret]))
    else:
        out = redact_exception(RuntimeError(secret), [secret])
    assert secret not in out


def test_the_client_and_the_audit_log_use_the_one_rule_set():
    assert http.redact_headers is audit.redact_headers
    assert http.redact_text is audit.redact_text


def test_no_other_module_keeps_its_own_secret_pattern():
    """A second, different pattern set is how a secret slipped through before: the rule lives in one module."""
    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"re\.compile\([^)]*(secret|token|password)", re.IGNORECASE | re.DOTALL)
    offenders = [
        str(path.relative_to(root))
        for app in ("integrations", "orders", "inventory", "returns", "warehouse", "config")
        for path in (root / app).rglob("*.py")
        if path.name != "redaction.py" and pattern.search(path.read_text())
    ]
    assert offenders == []
