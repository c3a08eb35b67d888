"""The mapping editor page: one row per canonical field (a source path the platform's payloads offer, a transform of
the fixed list), one row per platform status; Preview runs the dry run over the last stored deliveries, Save stores
through `connection_set_mappings` with the administrator's reason. Each request shows one outcome: errors (with what
was typed kept) or the preview, and a save redirects with a success message."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from integrations.mappings import (
    CANONICAL_STATUSES,
    TRANSFORMS,
    MappingError,
    mapping_dry_run,
    mapping_source_fields,
    mapping_sources_for_target,
    mapping_targets,
)
from integrations.models import Connection
from integrations.platforms.registry import connector_for
from integrations.services import connection_set_mappings

PERMISSION = "integrations.change_connection"  # administrators (warehouse/roles.py: integrations.*)
DEFAULT = ""  # the select's value for "the platform default"
KEEP = "__current__"  # an override the form cannot show as one path (a list or a join): kept as it is
DRY_RUN_LIMIT = 20
REASON_MAX = 100  # the history's change reason column


def _split(spec: Any) -> tuple[str, str]:
    """An override as (source, transform) for the form; KEEP when it is not one plain path."""
    if isinstance(spec, str):
        return spec, "none"
    if isinstance(spec, dict) and "from" in spec:
        source = spec["from"] if isinstance(spec["from"], str) else KEEP
        return source, str(spec.get("transform", "none"))
    return KEEP, "none"


def _rows(connection: Connection, typed: Any | None) -> list[dict[str, Any]]:
    offered = mapping_source_fields(connection.platform)
    defaults = connector_for(connection.platform).default_field_mapping
    overrides = connection.field_mapping or {}
    rows = []
    for target in mapping_targets(connection.platform):
        if typed is not None:
            source, transform = typed.get(f"source:{target}", DEFAULT), typed.get(f"transform:{target}", "none")
        elif target in overrides:
            source, transform = _split(overrides[target])
        else:
            source, transform = DEFAULT, "none"
        rows.append(
            {
                "target": target,
                "default": json.dumps(defaults.get(target)),
                "sources": mapping_sources_for_target(connection.platform, target, offered),
                "source": source,
                "transform": transform,
                "keep": target in overrides and _split(overrides[target])[0] == KEEP,
                "current": json.dumps(overrides.get(target)) if target in overrides else "",
            }
        )
    return rows


def _status_rows(connection: Connection, typed: Any | None) -> list[dict[str, str]]:
    defaults = connector_for(connection.platform).default_status_mapping
    overrides = connection.status_mapping or {}
    rows = []
    for platform_status in sorted({*defaults, *overrides}):
        value = overrides.get(platform_status, defaults.get(platform_status, "open"))
        if typed is not None:
            value = typed.get(f"status:{platform_status}", value)
        rows.append({"platform": platform_status, "value": value, "default": defaults.get(platform_status, "")})
    return rows


def _proposal(connection: Connection, data: Any) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The posted form as mappings, and every problem with it (a source the platform does not offer, a transform not
    in the list, a target or status that does not exist). Nothing here saves."""
    errors: list[str] = []
    offered = mapping_source_fields(connection.platform)
    defaults = connector_for(connection.platform).default_field_mapping
    overrides = connection.field_mapping or {}
    targets = mapping_targets(connection.platform)
    for key in data:
        if key.startswith(("source:", "transform:")) and key.split(":", 1)[1] not in targets:
            errors.append(f"{key.split(':', 1)[1]!r} is not a field this platform's orders map to.")
    field_mapping: dict[str, Any] = {}
    for target in targets:
        source = data.get(f"source:{target}", DEFAULT)
        transform = data.get(f"transform:{target}", "none")
        if transform not in TRANSFORMS:
            errors.append(f"{target}: {transform!r} is not a transform; choose one of the list.")
            continue
        if source == KEEP and target in overrides:
            spec: Any = overrides[target]
            spec = spec.get("from") if isinstance(spec, dict) and "from" in spec else spec
        elif source == DEFAULT:
            spec = defaults[target]
        elif source in mapping_sources_for_target(connection.platform, target, offered):
            spec = source
        else:
            errors.append(f"{target}: {source!r} is not a field this platform's payloads offer.")
            continue
        if transform != "none":
            field_mapping[target] = {"from": spec, "transform": transform}
        elif source != DEFAULT:
            field_mapping[target] = spec
    status_defaults = connector_for(connection.platform).default_status_mapping
    known = {*status_defaults, *(connection.status_mapping or {})}
    status_mapping: dict[str, str] = {}
    for key, value in data.items():
        if not key.startswith("status:"):
            continue
        platform_status = key.split(":", 1)[1]
        if platform_status not in known:
            errors.append(f"{platform_status!r} is not a status this platform sends.")
        elif value not in CANONICAL_STATUSES:
            errors.append(f"{platform_status}: {value!r} is not a status; one of {', '.join(CANONICAL_STATUSES)}.")
        elif value != status_defaults.get(platform_status):
            status_mapping[platform_status] = value
    return field_mapping, status_mapping, errors


@login_required
@require_http_methods(["GET", "POST"])
def connection_mappings_page(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    if not user.has_perm(PERMISSION):
        raise PermissionDenied
    connection = get_object_or_404(Connection, pk=pk)
    typed = request.POST if request.method == "POST" else None
    errors: list[str] = []
    preview: list[dict[str, Any]] | None = None
    reason = ""
    if typed is not None:
        action = typed.get("action", "preview")
        reason = typed.get("reason", "").strip()
        field_mapping, status_mapping, errors = _proposal(connection, typed)
        if action == "save" and not reason:
            errors.append("Say why you change the mapping: the reason is kept in the connection's history.")
        elif action == "save" and len(reason) > REASON_MAX:
            errors.append(f"The reason is {len(reason)} characters; keep it to {REASON_MAX}.")
        if not errors:
            proposed = {"field_mapping": field_mapping, "status_mapping": status_mapping}
            try:
                preview = mapping_dry_run(connection, proposed, limit=DRY_RUN_LIMIT)
            except MappingError as exc:
                errors.extend([r.message for r in exc.reasons] or [str(exc)])
        if not errors and action == "save":
            try:
                connection_set_mappings(
                    connection=connection,
                    field_mapping=field_mapping,
                    status_mapping=status_mapping,
                    actor=user,
                    reason=reason,
                )
            except MappingError as exc:
                errors.append(str(exc))
            else:
                messages.success(request, f"The mappings of {connection.name} are saved.")
                return HttpResponseRedirect(reverse("connection-mappings", args=[connection.pk]))
        if errors:
            preview = None  # one outcome: the errors, never a preview beside them
    history = connection.history.select_related("history_user").order_by("-history_date")[:10]
    return render(
        request,
        "integrations/mappings.html",
        {
            "connection": connection,
            "rows": _rows(connection, typed),
            "status_rows": _status_rows(connection, typed),
            "transforms": [(code, label) for code, (label, _) in TRANSFORMS.items()],
            "statuses": CANONICAL_STATUSES,
            "errors": errors,
            "preview": _preview_rows(preview) if preview is not None else None,
            "reason": reason,
            "keep": KEEP,
            "history": history,
        },
        status=400 if errors else 200,
    )


def _preview_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each delivery's changed fields as (field, old, new), so the page shows them side by side."""
    shown = []
    for row in rows:
        current, proposed = row["current"] or {}, row["proposed"] or {}
        diffs = []
        for f in row["changed"]:
            old, new = current.get(f), proposed.get(f)
            if isinstance(old, dict) and isinstance(new, dict):  # the address: name the sub-field that changes
                diffs += [(f"{f}.{k}", json.dumps(old.get(k)), json.dumps(new[k])) for k in new if new[k] != old.get(k)]
            else:
                diffs.append((f, json.dumps(old), json.dumps(new)))
        shown.append({**row, "diffs": diffs})
    return shown
