"""What the catalogue and receiving pages share: who counts as a brand user, running a service and turning its
refusal into plain words on the page (a 403 stays a 403), and reading small structured inputs from forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from warehouse.errors import DomainError, InvalidInput, Reason
from warehouse.roles import brands_visible_to, sees_all_brands


def is_brand_user(user: Any) -> bool:
    return not sees_all_brands(user) and brands_visible_to(user).exists()


def run_service(request: HttpRequest, call: Callable[[], Any], success: Callable[[Any], str]) -> Any:
    """Call the service; say what happened, or why it was refused (every reason, in words). None when refused."""
    try:
        result = call()
    except DomainError as exc:
        if exc.http_status == 403:
            raise PermissionDenied(exc.message) from exc
        reasons = [r.message for r in exc.reasons if r.message not in exc.message]
        messages.error(request, exc.message + (": " + "; ".join(reasons) if reasons else ""))
        return None
    messages.success(request, success(result))
    return result


def parse_pairs(text: str, *, what: str) -> list[tuple[str, str]]:
    """Lines (or commas) of "code, quantity" / "code quantity" / "code=quantity" → [(code, quantity)]."""
    pairs = []
    for raw in text.replace(";", "\n").splitlines():
        line = raw.strip()
        if not line:
            continue
        for sep in ("=", ",", "\t", " "):
            if sep in line:
                code, _, quantity = line.rpartition(sep)
                pairs.append((code.strip().rstrip(",").strip(), quantity.strip()))
                break
        else:
            message = f"{what}: {line!r} needs a code and a quantity"
            raise InvalidInput(message, reasons=[Reason("line_invalid", message)])
    return pairs


def parse_attributes(text: str) -> dict[str, str]:
    """'size=M, colour=blue' or one "name: value" a line → {"size": "M", "colour": "blue"}."""
    found: dict[str, str] = {}
    for raw in text.replace("\n", ",").split(","):
        part = raw.strip()
        if not part:
            continue
        sep = "=" if "=" in part else ":" if ":" in part else None
        if sep is None:
            message = f"variant attribute {part!r} needs a name and a value, e.g. size=M"
            raise InvalidInput(message, reasons=[Reason("variant_attributes_invalid", message)])
        name, _, value = part.partition(sep)
        found[name.strip()] = value.strip()
    return found


def attributes_text(value: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in (value or {}).items())
