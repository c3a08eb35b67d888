"""`python manage.py run_carrier_simulator <carrier> --port N`: one fake carrier on loopback until interrupted.

`--account ID` makes the simulator accept that carrier account's credentials (and, with `--use`, points the account's
API base URL at it, for the demo); without it the simulator accepts the carrier's demo credentials. Pushed tracking
events go to `--hub-url` (and the carrier's token request to `--hub-token-url`). Secrets are never printed."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.carriers.models import CarrierAccount
from integrations.carriers.registry import codes, connector_for
from warehouse.history import save_with_history


def simulator_for(carrier: str, *, account: CarrierAccount | None = None, **options: Any) -> Any:
    """A not-yet-started simulator of `carrier` accepting the account's credentials (or the demo's)."""
    connector = connector_for(carrier)
    credentials = account.credentials_get() if account is not None else None
    pushes = {k: v for k, v in options.items() if v} if connector.supports_webhooks else {}
    return connector.simulator(credentials=credentials, **pushes)


class Command(BaseCommand):
    help = "Run a carrier simulator (a real HTTP server) on loopback."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("carrier", choices=codes())
        parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--account", type=int, help="Accept this carrier account's credentials")
        parser.add_argument("--use", action="store_true", help="Point the account's API base URL at the simulator")
        parser.add_argument("--hub-url", default="", help="Where pushed tracking events go (full URL)")
        parser.add_argument("--hub-token-url", default="", help="Where the carrier fetches its token for pushes")

    def handle(self, *args: Any, **options: Any) -> None:
        account = None
        if options["account"]:
            account = CarrierAccount.objects.filter(pk=options["account"], carrier=options["carrier"]).first()
            if account is None:
                raise CommandError(f"no {options['carrier']} carrier account {options['account']}")
        extra = {"hub_url": options["hub_url"], "hub_token_url": options["hub_token_url"]}
        sim = simulator_for(options["carrier"], account=account, **{k: v for k, v in extra.items() if v})
        sim.start(host=options["host"], port=options["port"])
        if account is not None and options["use"]:
            account.api_base_url = sim.url
            save_with_history(account, actor=None, reason="pointed at a simulator", fields=["api_base_url"])
        self.stdout.write(f"{connector_for(options['carrier']).name} simulator at {sim.url} (Ctrl-C stops it)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            sim.stop()
