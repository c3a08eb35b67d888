"""The volume report's queries, compiled once per shape and run on a plain cursor (reports/finance/compiled.py), give
exactly the rows the ORM gives for the same values, whichever values a shape is reused with; and the report reads its
channel names in the same two queries."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.contrib.contenttypes.models import ContentType

from orders.models import Order, OrderState
from reports.finance import compiled
from reports.finance.compiled import CompiledQuery
from reports.finance.filters import report_filter
from reports.finance.volume import LIVE, ROLLED, VolumeReport, _live_query, _rolled_query, volume_rollup
from returns.models import Return
from tests.reports.seed import at, order, seed_month
from warehouse.models import SalesChannel, TransitionRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Two brands' months, with every kind of event: orders received and shipped, a cancel (a transition record),
    returns with and without an order, and a manual order (no channel)."""
    acme, acme_shop, acme_floor = seed_month()
    other, other_shop, other_floor = seed_month(brand_name="Other", slug="other")
    order_type = ContentType.objects.get_for_model(Order)
    for o in Order.objects.filter(state=OrderState.CANCELLED):
        record = TransitionRecord.objects.create(
            content_type=order_type, object_id=o.pk, name="cancel", source="new", target=OrderState.CANCELLED
        )
        TransitionRecord.objects.filter(pk=record.pk).update(at=at("2026-11-19", 9))
    manual = order(acme, None, acme_floor, "MANUAL-1", ship_by=at("2026-11-10", 18), handed_at=at("2026-11-10", 15))
    for n, (brand, o, floor) in enumerate(
        [(acme, Order.objects.get(platform_order_id="NOV-3", brand=acme), acme_floor), (acme, manual, None),
         (other, None, other_floor)]
    ):  # fmt: skip
        r = Return.objects.create(brand=brand, rma_number=f"RMA-{n}", order=o, facility=floor)
        Return.objects.filter(pk=r.pk).update(created_at=at("2026-11-21", 10 + n))
    return {"acme": acme, "other": other, "shops": (acme_shop, other_shop), "floors": (acme_floor, other_floor)}


def _filters(world) -> list[dict]:
    acme, other = world["acme"], world["other"]
    acme_shop, other_shop = world["shops"]
    acme_floor, other_floor = world["floors"]
    both = [acme.pk, other.pk]
    return [
        {"brands": both, "channel": None, "facility": None},
        {"brands": [acme.pk], "channel": None, "facility": None},
        {"brands": [other.pk], "channel": None, "facility": None},  # the same shape as the one before, other values
        {"brands": [acme.pk], "channel": acme_shop.pk, "facility": None},
        {"brands": [other.pk], "channel": other_shop.pk, "facility": None},
        {"brands": both, "channel": None, "facility": acme_floor.pk},
        {"brands": both, "channel": None, "facility": other_floor.pk},
        {"brands": [acme.pk], "channel": acme_shop.pk, "facility": acme_floor.pk},
        {"brands": [], "channel": None, "facility": None},  # a user who sees no brand
    ]


def _live_params(world) -> list[dict]:
    order_type = ContentType.objects.get_for_model(Order).pk
    ranges = [(at("2026-10-01", 0), at("2026-12-01", 0)), (at("2026-11-19", 0), at("2026-11-22", 0))]
    return [{**f, "start": s, "end": e, "order_type": order_type} for f in _filters(world) for s, e in ranges]


def _rolled_params(world) -> list[dict]:
    ranges = [(dt.date(2026, 10, 1), dt.date(2026, 11, 30)), (dt.date(2026, 11, 19), dt.date(2026, 11, 21))]
    return [{**f, "date_from": a, "date_to": b} for f in _filters(world) for a, b in ranges]


def _names() -> dict[int, str]:
    return dict(SalesChannel.objects.values_list("pk", "name"))


def _check(query: CompiledQuery, orm, params: list[dict], channel_at: int) -> int:
    """Each call's rows are the ORM's, each with its channel's name last; returns how many rows were compared."""
    names, compared = _names(), 0
    for p in params:
        for _ in range(2):  # the first call of a shape compiles it, the second runs it from the cache
            rows = query.rows(p)
            assert Counter(r[:-1] for r in rows) == Counter(orm(p)), p
            assert all(r[-1] == names.get(r[channel_at]) for r in rows)
            compared += len(rows)
    return compared


def test_the_live_counts_are_the_orms_rows_for_every_filter(world):
    assert _check(LIVE, _live_query, _live_params(world), channel_at=3) > 20
    assert all(c is not None for c in LIVE._shapes.values())  # PostgreSQL: every shape ran from the cache


def test_the_rollups_rows_are_the_orms_rows_for_every_filter(world):
    volume_rollup(today=dt.date(2026, 12, 1))
    params = _rolled_params(world)

    assert _check(ROLLED, _rolled_query, params, channel_at=2) > 20
    assert {r[1] for r in ROLLED.rows(params[0])} == {world["acme"].pk, world["other"].pk, None}  # None: day markers


def test_a_backend_that_changes_values_compiles_each_call_and_gives_the_same_rows(world, monkeypatch):
    monkeypatch.setattr(compiled, "_traceable", lambda param: False)  # as on SQLite: no stand-in found again
    live = CompiledQuery(_live_query, wrap=LIVE.wrap)

    assert _check(live, _live_query, _live_params(world), channel_at=3) > 20
    assert set(live._shapes.values()) <= {None, compiled._EMPTY}


def test_the_volume_report_reads_rows_and_channel_names_in_two_queries(world, make_user, django_assert_num_queries):
    f = report_filter({"from": "2026-11-01", "to": "2026-11-30"}, make_user("finance", username="fin"))
    list(VolumeReport().rows(f))  # the order content type, cached for the process

    with django_assert_num_queries(2):  # the rollup's rows and the live counts, each with the channels' names
        rows = list(VolumeReport().rows(f))

    assert {r[2] for r in rows} == {"Acme shop", "Other shop", "manual or file"}
    assert sum(r[5] for r in rows) == 2 and sum(r[6] for r in rows) == 3  # the two cancels, the three returns
