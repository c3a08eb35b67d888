"""Re-encrypt every sealed secret under the newest CREDENTIAL_KEYS key.

Rotation: put the new key first in CREDENTIAL_KEYS and keep the old one after it, run this command, then drop the old
key. A secret no configured key opens stops the run with a clear error naming the connection, not the secret."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from integrations.models import SECRET_FIELDS, Connection
from integrations.vault import CredentialKeyError, Sealed, reseal


class Command(BaseCommand):
    help = "Re-encrypt connection credentials and signing secrets with the newest CREDENTIAL_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        done = 0
        with transaction.atomic():
            for conn in Connection.objects.select_for_update().order_by("pk"):
                changed: dict[str, str] = {}
                for field in SECRET_FIELDS:
                    value = getattr(conn, field)
                    if isinstance(value, Sealed):
                        try:
                            changed[field] = reseal(value.token)
                        except CredentialKeyError as exc:
                            raise CommandError(f"connection {conn.pk} field {field}: {exc}") from None
                if changed:
                    # update(): a key rotation is not a change of the connection, so no history row.
                    Connection.objects.filter(pk=conn.pk).update(**{k: Sealed(v) for k, v in changed.items()})
                    done += 1
        self.stdout.write(f"re-encrypted the secrets of {done} connection(s)")
