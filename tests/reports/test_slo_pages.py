"""Issue 19: who sees which SLO page (deny by default), the statement downloads, bad input, and the page's query
budget."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.slo.rollup import slo_minutes_rollup, slo_rollup
from tests.factories import UserFactory
from tests.integrations.factories import ConnectionFactory
from tests.reports.slo_history import order

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(brand, other_brand):
    mine = ConnectionFactory(brand=brand, name="Acme Shopify")
    theirs = ConnectionFactory(brand=other_brand, name="Borealis Shopify")
    start = timezone.now().astimezone(dt.UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    start -= dt.timedelta(days=1)
    order(mine, start, 1)
    order(mine, start + dt.timedelta(minutes=1), 30)
    order(theirs, start, 1)
    slo_rollup(days=30)
    return mine, theirs


def test_a_brand_user_sees_their_brand_only(client, make_user, brand, other_brand, shops):
    client.force_login(make_user("brand", brand=brand))
    assert client.get("/slo/").url == f"/slo/{brand.pk}/"  # one brand: straight to it
    page = client.get(f"/slo/{brand.pk}/")
    assert page.status_code == 200 and b"Acme Shopify" in page.content and b"Borealis" not in page.content
    assert client.get(f"/slo/{other_brand.pk}/").status_code == 404
    day = (timezone.now() - dt.timedelta(days=1)).date().isoformat()
    theirs = shops[1].pk
    assert client.get(f"/slo/{other_brand.pk}/missed/?slo=ingest&connection={theirs}&day={day}").status_code == 404
    # another brand's connection under my brand's page is no way in either
    assert client.get(f"/slo/{brand.pk}/missed/?slo=ingest&connection={theirs}&day={day}").status_code == 404
    assert client.get(f"/slo/{other_brand.pk}/statement/csv/").status_code == 404


def test_staff_see_every_brand_and_nobody_else_sees_any(client, make_user, brand, other_brand, shops):
    client.force_login(make_user("finance"))
    index = client.get("/slo/")
    assert index.status_code == 200 and b"Acme Apparel" in index.content and b"Borealis Beauty" in index.content
    assert client.get(f"/slo/{other_brand.pk}/").status_code == 200
    client.force_login(UserFactory(username="nobody"))
    assert client.get("/slo/").status_code == 403
    assert client.get(f"/slo/{brand.pk}/").status_code == 404


def test_the_missed_orders_of_a_day_and_bad_input(client, make_user, brand, shops):
    client.force_login(make_user("brand", brand=brand))
    day = (timezone.now() - dt.timedelta(days=1)).date().isoformat()
    url = f"/slo/{brand.pk}/missed/?slo=ingest&connection={shops[0].pk}&day={day}"
    page = client.get(url)
    assert page.status_code == 200 and b"30 s" in page.content and b"1 in all" in page.content
    for bad in ("slo=nope", f"slo=ingest&connection={shops[0].pk}&day=yesterday", "slo=ingest&connection=x&day=1"):
        assert client.get(f"/slo/{brand.pk}/missed/?{bad}").status_code == 404


def test_the_statement_downloads_and_refuses_a_bad_month(client, make_user, brand, shops):
    client.force_login(make_user("brand", brand=brand))
    month = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m")
    csv_response = client.get(f"/slo/{brand.pk}/statement/csv/?month={month}")
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    assert f'filename="slo-acme-{month}.csv"' in csv_response["Content-Disposition"]
    assert b"Acme Shopify" in csv_response.content and b"Borealis" not in csv_response.content
    pdf = client.get(f"/slo/{brand.pk}/statement/pdf/?month={month}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    bad = client.get(f"/slo/{brand.pk}/statement/csv/?month=November")
    assert bad.status_code == 400 and b"YYYY-MM" in bad.content
    assert client.get(f"/slo/{brand.pk}/statement/xlsx/").status_code == 404


def test_the_page_stays_within_12_queries(client, make_user, brand, shops):
    client.force_login(make_user("brand", brand=brand))
    client.get(f"/slo/{brand.pk}/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/slo/{brand.pk}/").status_code == 200
    assert len(captured.captured_queries) <= 12, [q["sql"][:80] for q in captured.captured_queries]


def test_the_schedules_are_declared_and_their_tasks_run(shops):
    from django.core.management import call_command
    from django.utils.module_loading import import_string

    from warehouse.management.commands.sync_schedules import declared_schedules

    mine = {s["name"]: s for s in declared_schedules() if s["name"].startswith("reports.slo")}
    assert set(mine) == {"reports.slo_rollup", "reports.slo_evaluate"}
    assert import_string(mine["reports.slo_rollup"]["func"])() >= 1
    assert import_string(mine["reports.slo_evaluate"]["func"])() == 0  # nothing burns in this history
    call_command("slo_rollup", "--days", "3")


def test_a_brand_whose_budget_burns_gets_a_banner(client, make_user, brand, shops):
    mine = shops[0]
    minute = timezone.now().replace(second=0, microsecond=0)
    for back in range(1, 61):  # the last hour: every minute's order took 12 s
        order(mine, minute - dt.timedelta(minutes=back), 12)
    slo_minutes_rollup(minutes=61)  # what the evaluation's minute runs wrote over that hour
    client.force_login(make_user("brand", brand=brand))
    page = client.get(f"/slo/{brand.pk}/").content.decode()
    assert 'data-burning="ingest"' in page
    assert "Order ingest is using its error budget too fast" in page and "100.0×" in page and "fast burn" in page
