"""Field and status mappings as data: how a platform payload becomes an `orders.canonical.CanonicalOrder`.

A field mapping maps a canonical field to a source path in the payload:
- a path is dotted keys with optional list indexes: `shipping_address.zip`, `billing.phone`, `note_attributes[0].value`;
- a list of paths takes the first non-empty value; `{"join": [paths], "sep": " "}` joins the non-empty ones;
- `lines` is the path of the list of line items, and `lines.<field>` paths are read inside each line item;
- `cancelled_at`: when its value is non-empty the canonical status is `cancelled` whatever the status says;
- `{"from": path-or-paths, "transform": name}` reads as above and then applies one transform of `TRANSFORMS`.
A status mapping maps the platform's status value (read through the `status` path) to open | paid | cancelled."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from integrations.platforms.registry import connector_for
from orders.canonical import ADDRESS_FIELDS, CanonicalAddress, CanonicalLine, CanonicalOrder
from warehouse.errors import InvalidInput, Reason

CANONICAL_STATUSES = ("open", "paid", "cancelled")
ORDER_FIELDS = (
    "platform_order_id",
    "updated_at",
    "status",
    "cancelled_at",
    "placed_at",
    "paid_at",
    "priority_class",
    "ship_by",
    "phone",
    "email",
    "special_handling",
)
LINE_FIELDS = ("sku_code", "quantity", "external_line_id", "title")
CANONICAL_FIELDS = frozenset(
    [*ORDER_FIELDS, "lines"] + [f"address.{f}" for f in ADDRESS_FIELDS] + [f"lines.{f}" for f in LINE_FIELDS]
)
DATE_FIELDS = frozenset({"updated_at", "placed_at", "paid_at", "ship_by"})
REQUIRED_FIELDS = ("platform_order_id", "lines", "lines.sku_code", "lines.quantity")

_SEGMENT = r"[A-Za-z_][A-Za-z0-9_\-]*(?:\[\d+\])*"
PATH_RE = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT})*$")
_INDEX_RE = re.compile(r"\[(\d+)\]")


# The fixed list of transforms a mapping may apply to a text value (the mapping editor offers exactly these).
TRANSFORMS: dict[str, tuple[str, Callable[[str], str]]] = {
    "none": ("as received", lambda v: v),
    "trim": ("trim spaces", lambda v: v.strip()),
    "upper": ("UPPER CASE", lambda v: v.upper()),
    "lower": ("lower case", lambda v: v.lower()),
    "digits": ("digits only", lambda v: re.sub(r"\D", "", v)),
}


class MappingError(InvalidInput):
    """A mapping names an unknown canonical field, a malformed path or an unknown canonical status."""


@dataclass(frozen=True)
class Mappings:
    fields: dict[str, Any]
    statuses: dict[str, str]


def _source_paths(spec: Any) -> list[str] | None:
    if isinstance(spec, dict) and "from" in spec and set(spec) <= {"from", "transform"}:
        inner = spec["from"]  # a path, a list of paths or a join; never another transform
        return None if isinstance(inner, dict) and "from" in inner else _source_paths(inner)
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, list) and spec and all(isinstance(p, str) for p in spec):
        return list(spec)
    if isinstance(spec, dict) and set(spec) <= {"join", "sep"} and isinstance(spec.get("join"), list):
        paths = spec["join"]
        if paths and all(isinstance(p, str) for p in paths) and isinstance(spec.get("sep", " "), str):
            return list(paths)
    return None


def mapping_validate(*, field_mapping: Mapping[str, Any], status_mapping: Mapping[str, Any]) -> None:
    """Raise `MappingError` naming every problem: unknown canonical fields, malformed paths, unknown statuses."""
    reasons: list[Reason] = []
    if not isinstance(field_mapping, Mapping):
        reasons.append(Reason("mapping_not_object", "the field mapping must be an object"))
        field_mapping = {}
    if not isinstance(status_mapping, Mapping):
        reasons.append(Reason("mapping_not_object", "the status mapping must be an object"))
        status_mapping = {}
    for name, spec in field_mapping.items():
        if name not in CANONICAL_FIELDS:
            reasons.append(Reason("unknown_canonical_field", f"{name!r} is not a canonical order field"))
            continue
        transform = spec.get("transform", "none") if isinstance(spec, dict) and "from" in spec else "none"
        if not (isinstance(transform, str) and transform in TRANSFORMS):
            reasons.append(
                Reason(
                    "unknown_transform",
                    f"{name}: {spec.get('transform')!r} is not a transform; one of {', '.join(TRANSFORMS)}",
                )
            )
            continue
        paths = _source_paths(spec)
        if paths is None:
            reasons.append(Reason("malformed_path", f"{name}: a path, a list of paths or {{'join': [paths]}}"))
            continue
        for path in paths:
            if not PATH_RE.match(path):
                reasons.append(Reason("malformed_path", f"{name}: {path!r} is not a path like a.b[0].c"))
    for platform_status, canonical in status_mapping.items():
        if canonical not in CANONICAL_STATUSES:
            reasons.append(
                Reason(
                    "unknown_canonical_status",
                    f"{platform_status!r} → {canonical!r}: canonical status is one of {', '.join(CANONICAL_STATUSES)}",
                )
            )
    if reasons:
        raise MappingError("The mapping is not valid: " + "; ".join(r.message for r in reasons), reasons=reasons)


def resolve_path(payload: Any, path: str) -> Any:
    """The value at `path`, or None when any step is missing."""
    current = payload
    for segment in path.split("."):
        key = segment.split("[", 1)[0]
        if not isinstance(current, Mapping) or key not in current:
            return None
        current = current[key]
        for index in _INDEX_RE.findall(segment):
            if not isinstance(current, list) or int(index) >= len(current):
                return None
            current = current[int(index)]
    return current


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def read(payload: Any, spec: Any) -> Any:
    if spec is None:
        return None
    if isinstance(spec, dict) and "from" in spec:
        value = read(payload, spec["from"])
        transform = TRANSFORMS.get(spec.get("transform", "none"), TRANSFORMS["none"])[1]
        return transform(value) if isinstance(value, str) else value
    if isinstance(spec, dict):
        parts = [resolve_path(payload, p) for p in spec.get("join", [])]
        return spec.get("sep", " ").join(str(p) for p in parts if not _empty(p)) or None
    for path in _source_paths(spec) or []:
        value = resolve_path(payload, path)
        if not _empty(value):
            return value
    return None


def parse_datetime(value: Any) -> dt.datetime | None:
    """ISO 8601 as platforms send it, or RFC 2822 (`Tue, 05 Mar 2019 21:40:11 +0000`, as some REST APIs write
    dates); a value without an offset is UTC (a platform's "GMT" fields, say)."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(value.strip())
            except (TypeError, ValueError, IndexError):
                return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _text(value: Any) -> str:
    if _empty(value):
        return ""
    # Whole, never clipped: the orders service holds an order whose value does not fit its column.
    return str(value).replace("\x00", "")


def normalise(*, payload: Mapping[str, Any], mappings: Mappings) -> CanonicalOrder:
    """Apply the mappings to one payload. Values are kept as received (validation is the orders app's job)."""
    fields = mappings.fields
    raw_status = read(payload, fields.get("status"))
    status = mappings.statuses.get(str(raw_status), "open") if raw_status is not None else "open"
    if not _empty(read(payload, fields.get("cancelled_at"))):
        status = "cancelled"
    lines_raw = read(payload, fields.get("lines"))
    lines: list[CanonicalLine] = []
    for item in lines_raw if isinstance(lines_raw, list) else []:
        lines.append(
            CanonicalLine(
                sku_code=_text(read(item, fields.get("lines.sku_code"))),
                quantity=read(item, fields.get("lines.quantity")),
                external_line_id=_text(read(item, fields.get("lines.external_line_id"))),
                title=_text(read(item, fields.get("lines.title"))),
            )
        )
    address = CanonicalAddress(**{f: _text(read(payload, fields.get(f"address.{f}"))) for f in ADDRESS_FIELDS})
    return CanonicalOrder(
        platform_order_id=_text(read(payload, fields.get("platform_order_id"))),
        updated_at=parse_datetime(read(payload, fields.get("updated_at"))),
        status=status,
        placed_at=parse_datetime(read(payload, fields.get("placed_at"))),
        paid_at=parse_datetime(read(payload, fields.get("paid_at"))),
        priority_class=_text(read(payload, fields.get("priority_class"))) or "standard",
        ship_by=parse_datetime(read(payload, fields.get("ship_by"))),
        address=address,
        phone=_text(read(payload, fields.get("phone"))),
        email=_text(read(payload, fields.get("email"))),
        special_handling=_text(read(payload, fields.get("special_handling"))),
        lines=tuple(lines),
        extra={"platform_status": _text(raw_status)},
    )


def mappings_for(connection: Any) -> Mappings:
    """The connection's mappings over its platform's defaults (a connection overrides only what it names)."""
    connector = connector_for(connection.platform)
    return Mappings(
        fields={**connector.default_field_mapping, **(connection.field_mapping or {})},
        statuses={**connector.default_status_mapping, **(connection.status_mapping or {})},
    )


def canonical_as_dict(canonical: CanonicalOrder) -> dict[str, Any]:
    """A JSON-safe view of a canonical order (dates as ISO strings), for dry runs and pages."""

    def clean(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    result: dict[str, Any] = clean(asdict(canonical))
    return result


def mapping_dry_run(connection: Any, proposed: Mapping[str, Any], *, limit: int = 20) -> list[dict[str, Any]]:
    """What the last `limit` stored order payloads of `connection` would become under the proposed mappings
    (`{"field_mapping": {...}, "status_mapping": {...}}`), beside what they become now. Nothing is saved.

    Raises `MappingError` when the proposal is not valid. Each row: delivery id, received at, `current`,
    `proposed` (canonical orders as dicts, or None), `changed` (top-level fields that differ) and `error`."""
    from integrations.models import InboundDelivery

    field_mapping = proposed.get("field_mapping") or {}
    status_mapping = proposed.get("status_mapping") or {}
    mapping_validate(field_mapping=field_mapping, status_mapping=status_mapping)
    current = mappings_for(connection)
    connector = connector_for(connection.platform)
    candidate = Mappings(
        fields={**connector.default_field_mapping, **field_mapping},
        statuses={**connector.default_status_mapping, **status_mapping},
    )
    rows: list[dict[str, Any]] = []
    deliveries = (
        InboundDelivery.objects.filter(connection=connection)
        .exclude(state__in=["ignored", "quarantined"])
        .order_by("-received_at", "-id")
        .only("id", "delivery_id", "received_at", "body")[:limit]
    )
    for delivery in deliveries:
        row: dict[str, Any] = {
            "delivery_id": delivery.delivery_id,
            "received_at": delivery.received_at.isoformat(),
            "current": None,
            "proposed": None,
            "changed": [],
            "error": "",
        }
        try:
            payload = json.loads(bytes(delivery.body))
            before = canonical_as_dict(normalise(payload=payload, mappings=current))
            after = canonical_as_dict(normalise(payload=payload, mappings=candidate))
        except (ValueError, TypeError, RecursionError, AttributeError) as exc:
            row["error"] = f"cannot be read: {type(exc).__name__}"
        else:
            row["current"], row["proposed"] = before, after
            row["changed"] = sorted(k for k in after if after[k] != before.get(k))
            if not after["platform_order_id"]:
                row["error"] = "no order id under the proposed platform_order_id path"
        rows.append(row)
    return rows


def _flatten(value: Any, prefix: str, out: set[str]) -> None:
    """Every path of a payload: dict keys dotted, a list of objects through its first item (`a[0].b`)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and PATH_RE.match(key):
                _flatten(item, f"{prefix}.{key}" if prefix else key, out)
        return
    if prefix:
        out.add(prefix)
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        _flatten(value[0], f"{prefix}[0]", out)


def _spec_paths(spec: Any) -> list[str]:
    if isinstance(spec, dict) and "join" in spec:
        return [p for p in spec.get("join", []) if isinstance(p, str)]
    return _source_paths(spec) or []


def mapping_targets(platform: str) -> list[str]:
    """The canonical fields a mapping editor offers: the ones the platform's default mapping fills."""
    return list(connector_for(platform).default_field_mapping)


def mapping_source_fields(platform: str) -> dict[str, list[str]]:
    """The source paths the platform's payloads offer: `order` paths from its example orders (and its default
    mapping), `line` paths inside one line item (for the `lines.*` targets)."""
    connector = connector_for(platform)
    defaults = connector.default_field_mapping
    order: set[str] = set()
    line: set[str] = set()
    lines_path = defaults.get("lines")
    for example in connector.example_orders():
        _flatten(example, "", order)
        items = read(example, lines_path)
        for item in items if isinstance(items, list) else []:
            _flatten(item, "", line)
    for target, spec in defaults.items():
        (line if target.startswith("lines.") else order).update(_spec_paths(spec))
    return {"order": sorted(order), "line": sorted(line)}


def mapping_sources_for_target(platform: str, target: str, offered: dict[str, list[str]] | None = None) -> list[str]:
    offered = offered or mapping_source_fields(platform)
    return offered["line"] if target.startswith("lines.") else offered["order"]
