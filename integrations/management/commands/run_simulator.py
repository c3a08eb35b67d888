"""`python manage.py run_simulator <platform> --port N`: one fake platform on loopback until interrupted. The
platforms are the registry's; each connector builds its own simulator (`Connector.simulator`).

`--connection ID --hub-base http://127.0.0.1:8000` takes the credentials, the signing secret and the shop from that
connection (so the simulator accepts the hub's calls and signs what the hub verifies) and delivers webhooks to the
connection's inbox URL. Credentials can be given one by one too: one option per credential field of the registered
platforms (`--access-token`, `--consumer-key`...). Secrets are never printed."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.platforms import registry


def options_from_connection(connection: Any, *, hub_base: str) -> dict[str, Any]:
    """`Connector.simulator` keyword arguments mirroring a `Connection`: its credentials, signing secret, shop and
    inbox."""
    secrets = connection.signing_secrets_valid()
    return {
        "shop": connection.shop,
        "credentials": connection.credentials_get(),
        "secret": secrets[0] if secrets else "",
        "hub_url": f"{hub_base.rstrip('/')}/webhooks/{connection.platform}/{connection.pk}/" if hub_base else "",
    }


def credential_options() -> dict[str, str]:
    """{field name: what it is} for every credential field of every registered platform, once each."""
    names: dict[str, str] = {}
    for code in registry.codes():
        connector = registry.connector_for(code)
        for field in connector.credential_fields:
            names.setdefault(field.name, f"{connector.name} {field.label.lower()} the simulator accepts")
    return dict(sorted(names.items()))


class Command(BaseCommand):
    help = "Run a platform simulator (a real HTTP server) on loopback."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("platform", choices=registry.codes())
        parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--connection", type=int, help="Mirror this connection's credentials, secret and shop")
        parser.add_argument("--hub-base", default="", help="The hub's base URL; webhooks go to its inbox")
        parser.add_argument("--hub-url", default="", help="Where webhooks are delivered (full URL)")
        parser.add_argument("--secret", default="", help="Webhook signing secret")
        parser.add_argument("--shop", default="", help="The shop as its platform names it (a domain, a site URL)")
        for name, what in credential_options().items():
            parser.add_argument(f"--{name.replace('_', '-')}", dest=f"credential_{name}", default="", help=what)

    def handle(self, *args: Any, **options: Any) -> None:
        platform = options["platform"]
        connector = registry.connector_for(platform)
        given: dict[str, Any] = {"shop": "", "credentials": {}, "secret": "", "hub_url": ""}
        if options["connection"]:
            from integrations.models import Connection

            connection = (
                Connection.objects.filter(pk=options["connection"], channel__platform_code=platform)
                .select_related("channel")
                .first()
            )
            if connection is None:
                raise CommandError(f"No {platform} connection with id {options['connection']}.")
            given.update(options_from_connection(connection, hub_base=options["hub_base"]))
        explicit = {
            field.name: options.get(f"credential_{field.name}", "")
            for field in connector.credential_fields
            if options.get(f"credential_{field.name}")
        }
        given["credentials"] = {**given["credentials"], **explicit}
        for name, option in (("shop", "shop"), ("secret", "secret"), ("hub_url", "hub_url")):
            if options[option]:
                given[name] = options[option]
        sim = connector.simulator(**given).start(host=options["host"], port=options["port"])
        # Never print the credentials: only where it listens and where webhooks go.
        self.stdout.write(f"{platform} simulator listening on {sim.url}", ending="\n")
        if sim.hub_url:
            self.stdout.write(f"webhooks to {sim.hub_url}", ending="\n")
        self.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            sim.stop()
