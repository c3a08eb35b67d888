import pytest

from integrations.platforms.shopify.simulator import ShopifySimulator
from integrations.platforms.woocommerce.simulator import WooCommerceSimulator
from tests.integrations.factories import ConnectionFactory, WooConnectionFactory

TOKEN = "shpat_outbox_canary_7d1e"
CK, CS = "ck_outbox_canary_11aa", "cs_outbox_canary_22bb"


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture(autouse=True)
def fast_http(settings, sleeps):
    """Short timeouts and a recorded sleep, so an injected hang (3 s) is a timeout after 1 s."""
    settings.OUTBOX_HTTP = {"connect_timeout": 1.0, "read_timeout": 1.0, "retry_attempts": 2, "sleep": sleeps}
    return settings.OUTBOX_HTTP


@pytest.fixture
def shopify_sim():
    with ShopifySimulator.running(access_token=TOKEN, hang_seconds=3.0) as sim:
        yield sim


@pytest.fixture
def other_shopify_sim():
    with ShopifySimulator.running(access_token=TOKEN, hang_seconds=3.0) as sim:
        yield sim


@pytest.fixture
def woo_sim():
    with WooCommerceSimulator.running(consumer_key=CK, consumer_secret=CS, hang_seconds=3.0) as sim:
        yield sim


def shopify_connection_for(sim, brand, **extra):
    return ConnectionFactory(
        brand=brand,
        platform="shopify",
        api_base_url=sim.url,
        secrets={"credentials": {"access_token": TOKEN}},
        **extra,
    )


@pytest.fixture
def shop(shopify_sim, brand):
    return shopify_connection_for(shopify_sim, brand)


@pytest.fixture
def woo_shop(woo_sim, brand):
    return WooConnectionFactory(
        brand=brand, api_base_url=woo_sim.url, secrets={"credentials": {"consumer_key": CK, "consumer_secret": CS}}
    )
