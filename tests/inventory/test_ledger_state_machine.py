"""Stateful fuzz of the stock services (reliability.md): any sequence of receive, allocate, release, pick, unpick,
ship, contract reserve / unreserve / allocate-reserved, quarantine, returns, adjustments, counts and replays keeps
every bucket ≥ 0, available ≥ 0, the buckets equal to a plain reference model, and the ledger explaining every
bucket."""

import itertools

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from inventory.models import BUCKETS, COMMITTED_BUCKETS, StockLevel
from inventory.services import (
    inventory_verify_ledger,
    kit_set_components,
    stock_adjust,
    stock_allocate,
    stock_allocate_reserved,
    stock_cycle_count,
    stock_dispose_return,
    stock_quarantine,
    stock_quarantine_release,
    stock_receive,
    stock_receive_return,
    stock_release,
    stock_reserve,
    stock_restock_return,
    stock_rework_return,
    stock_ship,
    stock_start_pick,
    stock_unpick,
    stock_unreserve,
)
from tests.conftest import grant
from tests.factories import BrandFactory, FacilityFactory, UserFactory
from tests.inventory.factories import KitFactory, SkuFactory
from warehouse.errors import Conflict, InsufficientStock

pytestmark = pytest.mark.django_db

_counter = itertools.count()
quantities = st.integers(min_value=1, max_value=6)
amounts = st.one_of(st.just("all"), quantities)  # "all": whatever the source bucket holds, so later steps succeed


class StockMachine(RuleBasedStateMachine):
    """The reference model is a dict of buckets per SKU; every service call must agree with it."""

    @initialize()
    def catalog(self):
        run = next(_counter)
        self.brand = BrandFactory(slug=f"fuzz-{run}")
        self.facility = FacilityFactory(code=f"FZ{run}")
        self.skus = [SkuFactory(brand=self.brand, code=f"FZ{run}-{n}") for n in range(2)]
        self.kit = KitFactory(brand=self.brand, code=f"FZ{run}-KIT")
        kit_set_components(kit=self.kit, components=[(self.skus[0], 2), (self.skus[1], 1)], actor=None)
        self.model = {sku.pk: dict.fromkeys(BUCKETS, 0) for sku in self.skus}
        self.approver = grant(UserFactory(username="fuzz-approver"), "inventory.approve_cycle_count")
        self.last = None  # (callable, kwargs) of the last successful event, for replays
        for sku in self.skus:  # opening stock, so that most steps can succeed
            self.receive(self.skus.index(sku), 20)

    def _event(self):
        return f"fuzz-{next(_counter)}"

    def _available(self, pk):
        buckets = self.model[pk]
        return buckets["on_hand"] - sum(buckets[b] for b in COMMITTED_BUCKETS)

    def _try(self, call, kwargs, changes, allowed):
        """Run the service; if the model says it is allowed it must succeed and move exactly `changes`."""
        if allowed:
            call(**kwargs)
            for pk, deltas in changes.items():
                for bucket, delta in deltas.items():
                    self.model[pk][bucket] += delta
            self.last = (call, kwargs)
        else:
            with pytest.raises((InsufficientStock, Conflict)):
                call(**kwargs)

    def _holding(self, index, bucket):
        """Prefer the SKU that has something in `bucket`, so that moves out of it are tried, not just refused."""
        if self.model[self.skus[index].pk][bucket] == 0 and self.model[self.skus[1 - index].pk][bucket] > 0:
            return 1 - index
        return index

    def _resolve(self, amount, index, use_kit, bucket):
        if amount != "all":
            return amount
        if use_kit:
            held = min(self.model[self.skus[0].pk][bucket] // 2, self.model[self.skus[1].pk][bucket])
        else:
            held = self.model[self.skus[index].pk][bucket]
        return max(held, 1)

    def _lines_and_units(self, index, quantity, use_kit):
        if use_kit:
            return [(self.kit, quantity)], {self.skus[0].pk: 2 * quantity, self.skus[1].pk: quantity}
        sku = self.skus[index]
        return [(sku, quantity)], {sku.pk: quantity}

    @rule(index=st.integers(0, 1), quantity=st.integers(1, 20))
    def receive(self, index, quantity):
        sku = self.skus[index]
        kwargs = {"sku": sku, "facility": self.facility, "quantity": quantity, "event_id": self._event(), "actor": None}
        self._try(stock_receive, kwargs, {sku.pk: {"on_hand": quantity}}, True)

    @rule(index=st.integers(0, 1), quantity=quantities, use_kit=st.booleans())
    def allocate(self, index, quantity, use_kit):
        lines, units = self._lines_and_units(index, quantity, use_kit)
        allowed = all(self._available(pk) >= n for pk, n in units.items())
        kwargs = {"facility": self.facility, "lines": lines, "event_id": self._event(), "actor": None}
        self._try(stock_allocate, kwargs, {pk: {"allocated": n} for pk, n in units.items()}, allowed)

    @precondition(lambda self: any(buckets["allocated"] for buckets in self.model.values()))
    @rule(index=st.integers(0, 1), amount=amounts, use_kit=st.booleans(), step=st.sampled_from(["release", "pick"]))
    def release_or_pick(self, index, amount, use_kit, step):
        index = self._holding(index, "allocated")
        quantity = self._resolve(amount, index, use_kit, "allocated")
        lines, units = self._lines_and_units(index, quantity, use_kit)
        allowed = all(self.model[pk]["allocated"] >= n for pk, n in units.items())
        kwargs = {"facility": self.facility, "lines": lines, "event_id": self._event(), "actor": None}
        if step == "release":
            self._try(stock_release, kwargs, {pk: {"allocated": -n} for pk, n in units.items()}, allowed)
        else:
            changes = {pk: {"allocated": -n, "in_pick": n} for pk, n in units.items()}
            self._try(stock_start_pick, kwargs, changes, allowed)

    @precondition(lambda self: any(buckets["in_pick"] for buckets in self.model.values()))
    @rule(index=st.integers(0, 1), amount=amounts)
    def ship(self, index, amount):
        index = self._holding(index, "in_pick")
        quantity = self._resolve(amount, index, False, "in_pick")
        lines, units = self._lines_and_units(index, quantity, False)
        allowed = all(self.model[pk]["in_pick"] >= n for pk, n in units.items())
        kwargs = {"facility": self.facility, "lines": lines, "event_id": self._event(), "actor": None}
        self._try(stock_ship, kwargs, {pk: {"in_pick": -n, "on_hand": -n} for pk, n in units.items()}, allowed)

    @precondition(lambda self: any(buckets["in_pick"] for buckets in self.model.values()))
    @rule(index=st.integers(0, 1), amount=amounts, use_kit=st.booleans())
    def unpick(self, index, amount, use_kit):
        index = self._holding(index, "in_pick")
        quantity = self._resolve(amount, index, use_kit, "in_pick")
        lines, units = self._lines_and_units(index, quantity, use_kit)
        allowed = all(self.model[pk]["in_pick"] >= n for pk, n in units.items())
        kwargs = {"facility": self.facility, "lines": lines, "event_id": self._event(), "actor": None}
        self._try(stock_unpick, kwargs, {pk: {"in_pick": -n} for pk, n in units.items()}, allowed)

    @rule(index=st.integers(0, 1), amount=amounts, step=st.sampled_from(["reserve", "unreserve", "allocate"]))
    def reservation(self, index, amount, step):
        index = self._holding(index, "reserved") if step != "reserve" else index
        quantity = (
            self._resolve(amount, index, False, "reserved") if step != "reserve" else (amount if amount != "all" else 4)
        )
        sku = self.skus[index]
        event_id = self._event()
        if step == "allocate":
            kwargs = {"facility": self.facility, "lines": [(sku, quantity)], "event_id": event_id, "actor": None}
            allowed = self.model[sku.pk]["reserved"] >= quantity
            self._try(stock_allocate_reserved, kwargs, {sku.pk: {"reserved": -quantity, "allocated": quantity}},
                      allowed)  # fmt: skip
            return
        kwargs = {"sku": sku, "facility": self.facility, "quantity": quantity, "event_id": event_id, "actor": None,
                  "reason": "fuzz"}  # fmt: skip
        if step == "reserve":
            self._try(stock_reserve, kwargs, {sku.pk: {"reserved": quantity}}, self._available(sku.pk) >= quantity)
        else:
            allowed = self.model[sku.pk]["reserved"] >= quantity
            self._try(stock_unreserve, kwargs, {sku.pk: {"reserved": -quantity}}, allowed)

    @rule(index=st.integers(0, 1), amount=amounts, release=st.booleans())
    def quarantine(self, index, amount, release):
        quantity = self._resolve(amount, index, False, "quarantine") if release else (amount if amount != "all" else 3)
        sku = self.skus[index]
        kwargs = {"sku": sku, "facility": self.facility, "quantity": quantity, "event_id": self._event(),
                  "actor": None, "reason": "fuzz"}  # fmt: skip
        if release:
            allowed = self.model[sku.pk]["quarantine"] >= quantity
            self._try(stock_quarantine_release, kwargs, {sku.pk: {"quarantine": -quantity}}, allowed)
        else:
            allowed = self._available(sku.pk) >= quantity
            self._try(stock_quarantine, kwargs, {sku.pk: {"quarantine": quantity}}, allowed)

    @rule(index=st.integers(0, 1), amount=amounts, outcome=st.sampled_from(["receive", "restock", "rework", "dispose"]))
    def returns(self, index, amount, outcome):
        index = self._holding(index, "quarantine") if outcome != "receive" else index
        quantity = self._resolve(amount, index, False, "quarantine")
        sku = self.skus[index]
        kwargs = {"sku": sku, "facility": self.facility, "quantity": quantity, "event_id": self._event(), "actor": None}
        if outcome == "receive":
            self._try(stock_receive_return, kwargs, {sku.pk: {"on_hand": quantity, "quarantine": quantity}}, True)
            return
        allowed = self.model[sku.pk]["quarantine"] >= quantity
        call, deltas = {
            "restock": (stock_restock_return, {"quarantine": -quantity}),
            "rework": (stock_rework_return, {"quarantine": -quantity, "damaged": quantity}),
            "dispose": (stock_dispose_return, {"quarantine": -quantity, "on_hand": -quantity}),
        }[outcome]
        self._try(call, kwargs, {sku.pk: deltas}, allowed)

    @rule(index=st.integers(0, 1), delta=st.integers(-6, 6).filter(bool))
    def adjust(self, index, delta):
        sku = self.skus[index]
        kwargs = {"sku": sku, "facility": self.facility, "delta": delta, "event_id": self._event(), "actor": None,
                  "reason": "fuzz"}  # fmt: skip
        allowed = delta > 0 or self._available(sku.pk) >= -delta
        self._try(stock_adjust, kwargs, {sku.pk: {"on_hand": delta}}, allowed)

    @rule(index=st.integers(0, 1), counted=st.integers(0, 30))
    def count(self, index, counted):
        sku = self.skus[index]
        committed = sum(self.model[sku.pk][b] for b in COMMITTED_BUCKETS)
        kwargs = {"sku": sku, "facility": self.facility, "counted": counted, "event_id": self._event(),
                  "actor": None, "approver": self.approver, "reason": "fuzz"}  # fmt: skip
        variance = counted - self.model[sku.pk]["on_hand"]
        self._try(stock_cycle_count, kwargs, {sku.pk: {"on_hand": variance}}, counted >= committed)

    @rule()
    def replay_the_last_event(self):
        if self.last is not None:
            call, kwargs = self.last
            assert call(**kwargs).replayed

    @invariant()
    def buckets_match_the_model_and_the_ledger(self):
        if not hasattr(self, "skus"):
            return
        for level in StockLevel.objects.filter(facility=self.facility):
            stored = {bucket: getattr(level, bucket) for bucket in BUCKETS}
            assert stored == self.model[level.sku_id]
            assert min(stored.values()) >= 0 and level.available >= 0
        assert inventory_verify_ledger(facility=self.facility) == []


def test_any_sequence_of_stock_events_keeps_buckets_non_negative_and_explained_by_the_ledger(db):
    run_state_machine_as_test(
        StockMachine,
        settings=settings(
            max_examples=10,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
