"""`python manage.py run_simulator shopify|woocommerce --port N`: one fake platform on loopback until interrupted."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from integrations.simulators import SIMULATORS


class Command(BaseCommand):
    help = "Run a platform simulator (a real HTTP server) on loopback."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("platform", choices=sorted(SIMULATORS))
        parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--hub-url", default="", help="Where webhooks are delivered (full URL)")
        parser.add_argument("--secret", default="", help="Webhook signing secret")
        parser.add_argument("--access-token", default="", help="Shopify access token the simulator accepts")
        parser.add_argument("--consumer-key", default="", help="WooCommerce consumer key the simulator accepts")
        parser.add_argument("--consumer-secret", default="", help="WooCommerce consumer secret the simulator accepts")
        parser.add_argument("--shop", default="", help="Shopify shop domain or WooCommerce site URL")

    def handle(self, *args: Any, **options: Any) -> None:
        platform = options["platform"]
        kwargs: dict[str, Any] = {"hub_url": options["hub_url"], "secret": options["secret"]}
        if platform == "shopify":
            if options["access_token"]:
                kwargs["access_token"] = options["access_token"]
            if options["shop"]:
                kwargs["shop_domain"] = options["shop"]
        else:
            for name in ("consumer_key", "consumer_secret"):
                if options[name]:
                    kwargs[name] = options[name]
            if options["shop"]:
                kwargs["site_url"] = options["shop"]
        sim = SIMULATORS[platform](**kwargs).start(host=options["host"], port=options["port"])
        # Never print the credentials: only where it listens.
        self.stdout.write(f"{platform} simulator listening on {sim.url}", ending="\n")
        self.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            sim.stop()
