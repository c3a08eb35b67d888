"""What the carrier connectors share: hosts, base64 labels, countries, fixtures. Pure Python."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

_B64 = re.compile(rb"[^A-Za-z0-9+/]")

# ISO 3166-1 alpha-2 → alpha-3 for the countries a European 3PL ships to (DHL wants alpha-3). A country missing here
# is refused by the connector with its name, never guessed.
ALPHA3 = {
    "AD": "AND",
    "AE": "ARE",
    "AT": "AUT",
    "AU": "AUS",
    "BE": "BEL",
    "BG": "BGR",
    "BR": "BRA",
    "CA": "CAN",
    "CH": "CHE",
    "CN": "CHN",
    "CY": "CYP",
    "CZ": "CZE",
    "DE": "DEU",
    "DK": "DNK",
    "EE": "EST",
    "ES": "ESP",
    "FI": "FIN",
    "FR": "FRA",
    "GB": "GBR",
    "GR": "GRC",
    "HK": "HKG",
    "HR": "HRV",
    "HU": "HUN",
    "IE": "IRL",
    "IL": "ISR",
    "IN": "IND",
    "IS": "ISL",
    "IT": "ITA",
    "JP": "JPN",
    "KR": "KOR",
    "LI": "LIE",
    "LT": "LTU",
    "LU": "LUX",
    "LV": "LVA",
    "MC": "MCO",
    "MT": "MLT",
    "MX": "MEX",
    "NL": "NLD",
    "NO": "NOR",
    "NZ": "NZL",
    "PL": "POL",
    "PT": "PRT",
    "RO": "ROU",
    "RS": "SRB",
    "SE": "SWE",
    "SG": "SGP",
    "SI": "SVN",
    "SK": "SVK",
    "SM": "SMR",
    "TR": "TUR",
    "UA": "UKR",
    "US": "USA",
    "VA": "VAT",
    "ZA": "ZAF",
}
# The EU customs union (plus Monaco and San Marino, inside it): outside it, a parcel needs customs data.
CUSTOMS_UNION = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "MC",
        "SM",
    }
)


def is_loopback(host: str) -> bool:
    """Simulators run on loopback: credentials may always go there."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def b64_bytes(value: str) -> bytes:
    """A carrier's base64 label as bytes. Tolerant of line breaks and missing padding (carriers and SDK fixtures
    differ); characters outside the alphabet are skipped, as a decoder that ignores whitespace would."""
    cleaned = _B64.sub(b"", value.encode("ascii", errors="ignore"))
    cleaned = cleaned[: len(cleaned) - len(cleaned) % 4] if len(cleaned) % 4 == 1 else cleaned
    try:
        return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        return b""


def load_fixture(folder: Path, name: str) -> Any:
    return json.loads((folder / name).read_text(encoding="utf-8"))


def grams_from(value: float, unit: str) -> int:
    unit = unit.lower()
    if unit in {"kg", "kgs"}:
        return round(value * 1000)
    if unit in {"lb", "lbs"}:
        return round(value * 453.59237)
    return round(value)
