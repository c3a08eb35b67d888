"""`manage.py check --deploy`: the vault's keys. Without CREDENTIAL_KEYS a production process seals nothing and
every webhook answers 500 (its signing secret cannot be opened), so a deployment check must say so first.

Error (production profile) or warning (otherwise) when CREDENTIAL_KEYS is empty, holds a value that is not a Fernet
key, or holds the development key (the one derived from SECRET_KEY that the demo and tests seal with)."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

HINT = (
    'Generate a key with `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`'
    " and set CREDENTIAL_KEYS=<key> (newest first, comma-separated); keep it apart from database backups."
)


@register(Tags.security, deploy=True)
def check_credential_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from integrations.vault import _development_key

    level = Error if getattr(settings, "PRODUCTION", False) else Warning
    keys = [k.strip() for k in getattr(settings, "CREDENTIAL_KEYS", []) if k.strip()]
    if not keys:
        return [level("CREDENTIAL_KEYS is empty: connection secrets cannot be sealed or opened.", hint=HINT,
                      id="integrations.E001")]  # fmt: skip
    problems: list[CheckMessage] = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            # The message names the key's position, never the key.
            problems.append(level(f"CREDENTIAL_KEYS key {position} is not a Fernet key.", hint=HINT,
                                  id="integrations.E002"))  # fmt: skip
            continue
        if key == _development_key():
            problems.append(level(f"CREDENTIAL_KEYS key {position} is the development key derived from SECRET_KEY.",
                                  hint=HINT, id="integrations.E003"))  # fmt: skip
    return problems


METRICS_TOKEN_MIN = 24


@register(Tags.security, deploy=True)
def check_metrics_access(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """`/metrics` (integrations/metrics/exporter.py): a guessable token, or an allowlist entry that lets the proxy's
    own address (every request behind it) or nothing through. Neither set is safe: every scrape is refused."""
    import ipaddress

    problems: list[CheckMessage] = []
    token = str(getattr(settings, "METRICS_TOKEN", "") or "")
    if token and len(token) < METRICS_TOKEN_MIN:
        hint = 'Generate one with `python -c "import secrets; print(secrets.token_urlsafe(32))"`.'
        problems.append(Warning(f"METRICS_TOKEN is shorter than {METRICS_TOKEN_MIN} characters.", hint=hint,
                                id="integrations.W010"))  # fmt: skip
    for position, entry in enumerate(getattr(settings, "METRICS_ALLOWED_IPS", []) or [], start=1):
        try:
            network = ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError:
            problems.append(Warning(f"METRICS_ALLOWED_IPS entry {position} is not an address or a network.",
                                    id="integrations.W011"))  # fmt: skip
            continue
        if network.is_loopback:
            problems.append(Warning(
                f"METRICS_ALLOWED_IPS entry {position} is a loopback address: behind the proxy every request comes "
                "from it, so anyone could scrape /metrics.", hint="Use METRICS_TOKEN instead.", id="integrations.W012",
            ))  # fmt: skip
    return problems
