import pytest

from integrations.platforms.shopify.simulator import ShopifySimulator
from integrations.platforms.woocommerce.simulator import WooCommerceSimulator
from tests.integrations.factories import ConnectionFactory, WooConnectionFactory

TOKEN = "shpat_publishing_test_5c2e"
CK, CS = "ck_publishing_test_01", "cs_publishing_test_02"


@pytest.fixture(autouse=True)
def fast_http(settings):
    settings.OUTBOX_HTTP = {"connect_timeout": 0.5, "read_timeout": 2.0, "retry_attempts": 2}
    return settings.OUTBOX_HTTP


@pytest.fixture
def shopify_sim():
    with ShopifySimulator.running(access_token=TOKEN, bucket_size=400, hang_seconds=0.5) as sim:
        yield sim


@pytest.fixture
def woo_sim():
    with WooCommerceSimulator.running(consumer_key=CK, consumer_secret=CS, hang_seconds=0.5) as sim:
        yield sim


@pytest.fixture
def shop(shopify_sim, brand):
    return ConnectionFactory(
        brand=brand, platform="shopify", api_base_url=shopify_sim.url,
        secrets={"credentials": {"access_token": TOKEN}},
    )  # fmt: skip


@pytest.fixture
def woo_shop(woo_sim, brand):
    return WooConnectionFactory(
        brand=brand, api_base_url=woo_sim.url, secrets={"credentials": {"consumer_key": CK, "consumer_secret": CS}}
    )
