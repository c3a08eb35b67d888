"""The import contracts (`lint-imports`, in `make lint`) cover the whole project: every app of ours is in the layers,
and every platform folder is in the independence contract, so a new app or platform cannot slip past them."""

from pathlib import Path

from django.conf import settings
from importlinter.api import read_configuration

ROOT = Path(__file__).resolve().parents[1]


def _contract(contract_id: str) -> dict:
    (found,) = [c for c in read_configuration()["contracts_options"] if c["id"] == contract_id]
    return found


def test_every_app_of_ours_is_a_root_package_and_sits_in_a_layer():
    apps = {app.split(".")[0] for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()}
    ours = apps | {settings.ROOT_URLCONF.split(".")[0]}  # config: settings and URL modules, not an app
    roots = set(read_configuration()["session_options"]["root_packages"])
    layered = {
        name.strip().strip("()")
        for layer in _contract("layers")["layers"]
        for name in layer.replace(":", "|").split("|")
    }

    assert ours == roots
    assert ours <= layered


def test_every_platform_folder_is_in_the_independence_contract():
    folders = {
        f"integrations.platforms.{path.parent.name}"
        for path in (ROOT / "integrations" / "platforms").glob("*/__init__.py")
    }

    assert len(folders) >= 2
    assert set(_contract("platforms-independent")["modules"]) == folders
