"""A brand's onboarding checklist, after seed 000 §05: credentials exchanged; webhook subscribed and first delivery
seen; catalog reconciled (the brand's SKUs missing weight, dimensions or HS code listed); inventory seeded and
confirmed; a go-live date.

An item is done by the evidence when the product can see it (a connection holding sealed credentials; a webhook
delivery stored in the inbox for one of the brand's connections; SKUs, none of them with catalog drift), or by a
person with a note (`OnboardingItem`: who, when, why, each change a history row). Inventory is never done by
evidence alone: its stock levels are what a person confirms against the physical receipt. The go-live date is a
person's too.

Who: the roles that see every brand read every checklist; a brand user reads their own brands' only (the pages
answer "not found" for another's). Ticking and the go-live date need `integrations.tick_onboardingitem`
(administrators and warehouse managers, `warehouse/roles.py`). The model lives here beside its rules;
`integrations.models` imports it so that Django registers it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Sum
from django.utils import dateformat, timezone
from simple_history.models import HistoricalRecords

from integrations.models import Connection, DeliverySource, InboundDelivery
from inventory.models import Sku, StockLevel
from inventory.selectors import catalog_drift, sku_missing_fields
from warehouse.errors import InvalidInput, NotPermitted, Reason
from warehouse.history import save_with_history
from warehouse.limits import refuse_too_long, too_long
from warehouse.models import Brand
from warehouse.roles import brands_visible_to

TICK_PERMISSION = "integrations.tick_onboardingitem"
NOTE_MAX = 300
DRIFT_SHOWN = 50  # SKUs listed on the page; the count above the list is always the whole number


class OnboardingStep(models.TextChoices):
    CREDENTIALS = "credentials", "Credentials exchanged"
    WEBHOOK = "webhook", "Webhook subscribed and first delivery seen"
    CATALOG = "catalog", "Catalog reconciled"
    INVENTORY = "inventory", "Inventory seeded and confirmed"
    GO_LIVE = "go_live", "Go-live date"


# Items a person ticks with a note (the go-live item is set with its own form: a date).
TICKABLE = [s for s in OnboardingStep if s != OnboardingStep.GO_LIVE]


class OnboardingItem(models.Model):
    """A person's word on one item of one brand's checklist: ticked with a note (or the tick taken back, with a
    note), or the go-live date. One row per (brand, step); every change is a history row naming who and why."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="onboarding_items")
    step = models.CharField(max_length=20, choices=OnboardingStep.choices)
    ticked = models.BooleanField(default=True)
    note = models.CharField(max_length=NOTE_MAX, blank=True)
    go_live_on = models.DateField(null=True, blank=True, help_text="The go-live item's date")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        app_label = "integrations"
        ordering = ["brand_id", "step"]
        permissions = [("tick_onboardingitem", "Can tick onboarding items and set a brand's go-live date")]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "step"],
                name="one_onboarding_item_per_brand_and_step",
                violation_error_message="This brand already has this checklist item.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} of brand {self.brand_id}: {'ticked' if self.ticked else 'not ticked'}"


# -- reading the checklist --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    step: str
    label: str
    done: bool
    done_by: str  # "evidence", "person" or "" (not done)
    evidence: str  # what the product sees, in words ("" when it sees nothing)
    waiting: str  # what is still missing, in words ("" when done)
    tick: OnboardingItem | None  # a person's word, ticked or taken back
    details: list[str] = field(default_factory=list)  # e.g. the SKUs missing data
    more: int = 0  # details not listed (the count in `waiting` is the whole number)

    @property
    def tickable(self) -> bool:
        return self.step != OnboardingStep.GO_LIVE


@dataclass(frozen=True)
class Checklist:
    brand: Brand
    items: list[ChecklistItem]

    @property
    def done_count(self) -> int:
        return sum(1 for item in self.items if item.done)

    @property
    def complete(self) -> bool:
        return self.done_count == len(self.items)


def when_words(at: dt.datetime) -> str:
    """ "5 Dec 14:02" in the site's time zone."""
    return dateformat.format(timezone.localtime(at), "j M H:i")


def connection_words(connection: Connection) -> str:
    return f"{connection.platform_name} — {connection.name}"


def _connections(brand: Brand) -> list[Connection]:
    return list(Connection.objects.filter(channel__brand=brand).select_related("channel").order_by("pk"))


def _credentials(connections: list[Connection]) -> tuple[str, str]:
    sealed = [c for c in connections if c.credentials_fingerprint]
    if sealed:
        return "Credentials sealed for " + ", ".join(connection_words(c) for c in sealed) + ".", ""
    if connections:
        names = ", ".join(connection_words(c) for c in connections)
        return "", f"No credentials on {names} yet: an administrator enters them on the connection's page."
    return "", "No connection yet: an administrator adds one in the console (Integrations › Connections)."


def _first_delivery(connections: list[Connection]) -> tuple[str, str]:
    # One indexed look per connection (the inbox is indexed on connection, source, received_at); brands have few.
    first: tuple[InboundDelivery, Connection] | None = None
    for connection in connections:
        delivery = (
            InboundDelivery.objects.filter(connection=connection, source=DeliverySource.WEBHOOK)
            .order_by("received_at", "pk")
            .only("received_at", "topic", "connection_id")
            .first()
        )
        if delivery is not None and (first is None or delivery.received_at < first[0].received_at):
            first = (delivery, connection)
    if first is not None:
        delivery, connection = first
        topic = f" ({delivery.topic})" if delivery.topic else ""
        return f"First delivery {when_words(delivery.received_at)} on {connection_words(connection)}{topic}.", ""
    if connections:
        names = ", ".join(connection_words(c) for c in connections)
        return "", (
            f"No webhook delivery yet on {names}: subscribe the platform to the webhook URL shown on the "
            "connection's page (or use its “Subscribe the webhooks” button)."
        )
    return "", "No connection yet, so no webhook URL to subscribe."


def _catalog(brand: Brand) -> tuple[str, str, list[str], int]:
    total = Sku.objects.filter(brand=brand).count()
    drift = catalog_drift(brand=brand)
    missing = drift.count()
    if total == 0:
        return "", "No SKU yet: the catalog pull has brought none.", [], 0
    if missing == 0:
        return f"All {total} SKUs have weight, dimensions and HS code.", "", [], 0
    shown = [f"{sku.code}: missing {', '.join(sku_missing_fields(sku))}" for sku in drift[:DRIFT_SHOWN]]
    waiting = f"{missing} of {total} SKUs miss weight, dimensions or HS code; the brand fixes them:"
    return "", waiting, shown, missing - len(shown)


def _inventory(brand: Brand) -> tuple[str, str]:
    seeded = StockLevel.objects.filter(sku__brand=brand).aggregate(
        rows=Count("pk"), skus=Count("sku", distinct=True), facilities=Count("facility", distinct=True),
        units=Sum("on_hand"),
    )  # fmt: skip
    if not seeded["rows"]:
        return "", "No stock yet: receive the brand's first inbound, then confirm the counts."
    facilities = seeded["facilities"]
    evidence = (
        f"Stock seeded: {seeded['skus']} SKUs at {facilities} facilit{'y' if facilities == 1 else 'ies'}, "
        f"{seeded['units'] or 0} units on hand."
    )
    return evidence, "A person confirms the counts against the physical receipt."


def onboarding_checklist(*, brand: Brand) -> Checklist:
    """The brand's checklist as the product sees it now, with each person's word."""
    ticks = {item.step: item for item in OnboardingItem.objects.filter(brand=brand).select_related("by")}
    connections = _connections(brand)
    items: list[ChecklistItem] = []

    def add(step: OnboardingStep, evidence: str, waiting: str, *, by_evidence: bool, **extra: Any) -> None:
        tick = ticks.get(step)
        by_person = tick is not None and tick.ticked
        done = by_evidence or by_person
        done_by = "evidence" if by_evidence else "person" if by_person else ""
        items.append(ChecklistItem(step, step.label, done, done_by, evidence, "" if done else waiting, tick, **extra))

    evidence, waiting = _credentials(connections)
    add(OnboardingStep.CREDENTIALS, evidence, waiting, by_evidence=bool(evidence))
    evidence, waiting = _first_delivery(connections)
    add(OnboardingStep.WEBHOOK, evidence, waiting, by_evidence=bool(evidence))
    evidence, waiting, details, more = _catalog(brand)
    add(OnboardingStep.CATALOG, evidence, waiting, by_evidence=bool(evidence), details=details, more=more)
    evidence, waiting = _inventory(brand)
    add(OnboardingStep.INVENTORY, evidence, waiting, by_evidence=False)  # confirmed by a person only

    go_live = ticks.get(OnboardingStep.GO_LIVE)
    on = go_live.go_live_on if go_live is not None and go_live.ticked else None
    evidence = f"Goes live on {dateformat.format(on, 'j M Y')}." if on else ""
    waiting = "" if on else "An administrator or a manager sets the date once the items above are done."
    items.append(
        ChecklistItem(OnboardingStep.GO_LIVE, OnboardingStep.GO_LIVE.label, bool(on), "person" if on else "",
                      evidence, waiting, go_live)
    )  # fmt: skip
    return Checklist(brand=brand, items=items)


def onboarding_history(*, brand: Brand, limit: int = 20) -> Any:
    """The last changes people made to the brand's checklist (who, when, why), newest first."""
    return (
        OnboardingItem.history.filter(brand_id=brand.pk)
        .select_related("history_user")
        .order_by("-history_date")[:limit]
    )


# -- a person's word --------------------------------------------------------------------------------------------


def _check_actor(*, actor: Any, brand: Brand) -> None:
    if (
        actor is None
        or not actor.has_perm(TICK_PERMISSION)
        or not brands_visible_to(actor).filter(pk=brand.pk).exists()
    ):
        raise NotPermitted(
            "Only an administrator or a warehouse manager ticks the onboarding checklist.",
            reasons=[Reason("not_permitted", "ticking the onboarding checklist needs an administrator or a manager")],
        )


def _note(note: str, *, required: str) -> str:
    text = (note or "").strip()
    reason = too_long("note", text, NOTE_MAX)
    refuse_too_long([reason] if reason else [])
    if not text:
        raise InvalidInput(required, reasons=[Reason("note_required", required)])
    return text


def _step(step: str) -> OnboardingStep:
    if step not in TICKABLE:
        message = f"{step!r} is not an item a person ticks; one of {', '.join(s.value for s in TICKABLE)}."
        raise InvalidInput(message, reasons=[Reason("unknown_step", message)])
    return OnboardingStep(step)


def _save(*, brand: Brand, step: OnboardingStep, actor: Any, note: str, **values: Any) -> OnboardingItem:
    with transaction.atomic():
        Brand.objects.select_for_update().filter(pk=brand.pk).first()  # one writer per brand: no duplicate row race
        item = OnboardingItem.objects.filter(brand=brand, step=step).first() or OnboardingItem(brand=brand, step=step)
        for name, value in values.items():
            setattr(item, name, value)
        item.note, item.by, item.at = note, actor, timezone.now()
        save_with_history(item, actor=actor, reason=note)
    return item


def onboarding_tick(*, brand: Brand, step: str, note: str, actor: Any) -> OnboardingItem:
    """A person ticks an item, saying why (kept with who and when). Refused before any write: `NotPermitted`, then
    `InvalidInput` for an unknown item or a missing note, `TooLong` for a note over NOTE_MAX characters."""
    _check_actor(actor=actor, brand=brand)
    chosen = _step(step)
    text = _note(note, required="Write a note: why this item is done (it is kept with your name and the time).")
    return _save(brand=brand, step=chosen, actor=actor, note=text, ticked=True)


def onboarding_untick(*, brand: Brand, step: str, note: str, actor: Any) -> OnboardingItem:
    """A person takes back a tick, saying why (evidence the product sees still counts)."""
    _check_actor(actor=actor, brand=brand)
    chosen = _step(step)
    text = _note(note, required="Write a note: why the tick is taken back (it is kept with your name and the time).")
    return _save(brand=brand, step=chosen, actor=actor, note=text, ticked=False)


def go_live_parse(value: str) -> dt.date:
    """A date written as the date field sends it (2026-12-24); `InvalidInput` naming the format otherwise."""
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        message = "The go-live date must be a date written like 2026-12-24."
        raise InvalidInput(message, reasons=[Reason("bad_date", message)]) from None


def onboarding_set_go_live(*, brand: Brand, on: str | dt.date, note: str, actor: Any) -> OnboardingItem:
    """An administrator or a manager sets the brand's go-live date (the note is optional)."""
    _check_actor(actor=actor, brand=brand)
    date = on if isinstance(on, dt.date) else go_live_parse(on)
    text = (note or "").strip()
    reason = too_long("note", text, NOTE_MAX)
    refuse_too_long([reason] if reason else [])
    words = text or f"go-live date set to {date.isoformat()}"
    return _save(brand=brand, step=OnboardingStep.GO_LIVE, actor=actor, note=words, ticked=True, go_live_on=date)
