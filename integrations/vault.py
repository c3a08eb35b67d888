"""The credential vault: secrets sealed at rest with MultiFernet, keys from `settings.CREDENTIAL_KEYS` (newest first).

A stored secret is a `Sealed` value: it holds only the Fernet token and shows nothing of the secret when printed,
logged or rendered. `reveal()` decrypts at the moment of use. A token no configured key can open raises
`CredentialKeyError`, whose message never carries the secret or the token.

Outside production, when no keys are configured, a development key is derived from SECRET_KEY (and a warning says
so): the demo and the tests then work without setup, and production refuses to start sealing without keys."""

from __future__ import annotations

import base64
import hashlib
import logging
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.query_utils import DeferredAttribute

logger = logging.getLogger(__name__)

MASK = "••••••"


class CredentialKeyError(Exception):
    """A stored secret cannot be opened with the configured keys (wrong or missing key, or a corrupted token)."""


def fingerprint(secret: str) -> str:
    """The first 8 hex digits of the secret's SHA-256: enough to tell two secrets apart, useless to an attacker."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:8]


def _development_key() -> str:
    digest = hashlib.sha256(b"integrations.vault development key:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def configured_keys() -> tuple[str, ...]:
    keys = tuple(k.strip() for k in getattr(settings, "CREDENTIAL_KEYS", []) if k.strip())
    if keys:
        return keys
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured("CREDENTIAL_KEYS is empty: set at least one Fernet key to seal credentials.")
    return (_development_key(),)


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not getattr(settings, "CREDENTIAL_KEYS", []):
        logger.warning("CREDENTIAL_KEYS is not set: sealing credentials with a development key derived from SECRET_KEY")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError) as exc:
        # The message names the position of the bad key, never the key.
        raise ImproperlyConfigured(
            "CREDENTIAL_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes)"
        ) from exc


def vault() -> MultiFernet:
    return _multifernet(configured_keys())


def seal(secret: str) -> str:
    return vault().encrypt(secret.encode("utf-8")).decode("ascii")


def unseal(token: str) -> str:
    try:
        return vault().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        # `from None`: the chained exception would only say InvalidToken, but keep tracebacks free of the token.
        raise CredentialKeyError(
            "A stored secret cannot be decrypted with the configured CREDENTIAL_KEYS: the key that sealed it is "
            "missing or wrong. Add the old key after the new one and run `manage.py rotate_credential_keys`."
        ) from None


def reseal(token: str) -> str:
    """The same secret under the newest key (MultiFernet.rotate); raises CredentialKeyError like `unseal`."""
    try:
        return vault().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise CredentialKeyError(
            "A stored secret cannot be re-encrypted: no configured CREDENTIAL_KEYS opens it."
        ) from None


class Sealed:
    """A secret at rest. Printing, logging or rendering it shows a mask; only `reveal()` decrypts."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    @classmethod
    def of(cls, secret: str) -> Sealed:
        return cls(seal(secret))

    def reveal(self) -> str:
        return unseal(self.token)

    def fingerprint(self) -> str:
        return fingerprint(self.reveal())

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return "<Sealed secret>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Sealed, (self.token,))


class _SealOnAssign(DeferredAttribute):
    """Assigning a plain string seals it at once, so plaintext never sits on a model instance."""

    def __set__(self, instance: models.Model, value: Any) -> None:
        if isinstance(value, str):
            value = Sealed.of(value) if value else None
        instance.__dict__[self.field.attname] = value


class SealedField(models.TextField):
    """A TextField holding a Fernet token; the Python value is `Sealed` (or None). Assign plaintext to set it."""

    descriptor_class = _SealOnAssign

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)  # never rendered by a ModelForm: secrets are set through services
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Sealed | None:
        return Sealed(value) if value else None

    def to_python(self, value: Any) -> Sealed | None:
        if value is None or isinstance(value, Sealed):
            return value
        return Sealed(str(value)) if value else None  # serialised form is the token

    def get_prep_value(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if isinstance(value, Sealed):
            return value.token
        return seal(str(value))

    def value_to_string(self, obj: models.Model) -> str:
        value = self.value_from_object(obj)
        return value.token if isinstance(value, Sealed) else ""
