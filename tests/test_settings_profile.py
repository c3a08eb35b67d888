"""The production profile: it passes Django's deployment checks with no warning, and it refuses to start without a
secret key (no development default leaks into production). Each case runs manage.py in a fresh process, because
settings are read once at start-up."""

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # A clean environment: nothing of the developer's (DEBUG, SECRET_KEY, DATABASE_URL) leaks into the profile.
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _random_key() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(50))


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def test_the_production_profile_passes_the_deployment_checks_with_no_warning():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_PROFILE="production", SECRET_KEY=_random_key(), ALLOWED_HOSTS="x", CREDENTIAL_KEYS=_fernet_key(),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deployment_checks_do_fail_on_a_weak_production_setting():
    """The check above can fail: the same command with HSTS turned off exits non-zero."""
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_PROFILE="production", SECRET_KEY=_random_key(), ALLOWED_HOSTS="x", SECURE_HSTS_SECONDS="0",
        CREDENTIAL_KEYS=_fernet_key(),
    )  # fmt: skip
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DJANGO_PROFILE="production", ALLOWED_HOSTS="x")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "dev-only-insecure-key" not in result.stdout + result.stderr


def test_the_deployment_checks_fail_on_missing_or_development_credential_keys():
    """Without vault keys every webhook would answer 500 in production: `check --deploy` fails first, naming the
    problem and never the key. The development key is the one the vault derives from SECRET_KEY."""
    import base64
    import hashlib

    secret = _random_key()
    development = base64.urlsafe_b64encode(
        hashlib.sha256(b"integrations.vault development key:" + secret.encode()).digest()
    ).decode()
    production = {"DJANGO_PROFILE": "production", "SECRET_KEY": secret, "ALLOWED_HOSTS": "x"}
    for keys, code in [
        (None, "integrations.E001"),
        ("  ", "integrations.E001"),
        ("not-a-fernet-key", "integrations.E002"),
        (f"{_fernet_key()},{development}", "integrations.E003"),
    ]:
        result = _manage("check", "--deploy", **production, **({} if keys is None else {"CREDENTIAL_KEYS": keys}))
        output = result.stdout + result.stderr
        assert result.returncode != 0 and code in output and "ERRORS" in output, (keys, output)
        assert "not-a-fernet-key" not in output and development not in output
    good = _manage("check", "--deploy", **production, CREDENTIAL_KEYS=f"{_fernet_key()},{_fernet_key()}")
    assert good.returncode == 0, good.stdout + good.stderr
