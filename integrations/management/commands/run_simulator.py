"""`python manage.py run_simulator shopify|woocommerce --port N`: one fake platform on loopback until interrupted.

`--connection ID --hub-base http://127.0.0.1:8000` takes the token or consumer keys, the signing secret and the
shop from that connection (so the simulator accepts the hub's calls and signs what the hub verifies) and delivers
webhooks to the connection's inbox URL. Secrets are never printed."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.simulators import SIMULATORS


def options_from_connection(connection: Any, *, hub_base: str) -> dict[str, Any]:
    """Simulator keyword arguments mirroring a `Connection`: its credentials, signing secret, shop and inbox."""
    credentials = connection.credentials_get()
    secrets = connection.signing_secrets_valid()
    options: dict[str, Any] = {
        "secret": secrets[0] if secrets else "",
        "hub_url": f"{hub_base.rstrip('/')}/webhooks/{connection.platform}/{connection.pk}/" if hub_base else "",
    }
    if connection.platform == "shopify":
        options["access_token"] = str(credentials.get("access_token", ""))
        options["shop_domain"] = connection.shop
    else:
        options["consumer_key"] = str(credentials.get("consumer_key", ""))
        options["consumer_secret"] = str(credentials.get("consumer_secret", ""))
        options["site_url"] = connection.shop
    return options


class Command(BaseCommand):
    help = "Run a platform simulator (a real HTTP server) on loopback."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("platform", choices=sorted(SIMULATORS))
        parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--connection", type=int, help="Mirror this connection's credentials, secret and shop")
        parser.add_argument("--hub-base", default="", help="The hub's base URL; webhooks go to its inbox")
        parser.add_argument("--hub-url", default="", help="Where webhooks are delivered (full URL)")
        parser.add_argument("--secret", default="", help="Webhook signing secret")
        parser.add_argument("--access-token", default="", help="Shopify access token the simulator accepts")
        parser.add_argument("--consumer-key", default="", help="WooCommerce consumer key the simulator accepts")
        parser.add_argument("--consumer-secret", default="", help="WooCommerce consumer secret the simulator accepts")
        parser.add_argument("--shop", default="", help="Shopify shop domain or WooCommerce site URL")

    def handle(self, *args: Any, **options: Any) -> None:
        platform = options["platform"]
        kwargs: dict[str, Any] = {}
        if options["connection"]:
            from integrations.models import Connection

            connection = (
                Connection.objects.filter(pk=options["connection"], channel__platform_code=platform)
                .select_related("channel")
                .first()
            )
            if connection is None:
                raise CommandError(f"No {platform} connection with id {options['connection']}.")
            kwargs.update(options_from_connection(connection, hub_base=options["hub_base"]))
        explicit = {
            "hub_url": options["hub_url"],
            "secret": options["secret"],
            **(
                {"access_token": options["access_token"], "shop_domain": options["shop"]}
                if platform == "shopify"
                else {
                    "consumer_key": options["consumer_key"],
                    "consumer_secret": options["consumer_secret"],
                    "site_url": options["shop"],
                }
            ),
        }
        kwargs.update({name: value for name, value in explicit.items() if value})
        sim = SIMULATORS[platform](**kwargs).start(host=options["host"], port=options["port"])
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
