"""Re-run dead-lettered inbound deliveries after the fault that dead-lettered them is fixed."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.delivery_lifecycle import deliveries_rerun
from integrations.models import RERUNNABLE, InboundDelivery


class Command(BaseCommand):
    help = "Re-run dead-lettered inbound deliveries: by id, by connection, or all of them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="delivery ids (the console's delivery list shows them)")
        parser.add_argument("--connection", type=int, help="every dead letter of this connection id")
        parser.add_argument("--all", action="store_true", help="every dead letter")

    def handle(self, *args: Any, **options: Any) -> None:
        dead = InboundDelivery.objects.filter(state__in=RERUNNABLE)
        if options["ids"]:
            dead = dead.filter(pk__in=options["ids"])
        elif options["connection"] is not None:
            dead = dead.filter(connection_id=options["connection"])
        elif not options["all"]:
            raise CommandError("Name delivery ids, --connection ID or --all.")
        ids = list(dead.values_list("pk", flat=True))
        count = deliveries_rerun(ids=ids, actor=None)
        self.stdout.write(f"re-queued {count} dead-lettered deliver{'y' if count == 1 else 'ies'}")
