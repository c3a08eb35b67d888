"""A platform folder's official example payloads (`integrations/platforms/<code>/fixtures/`, copied from
../shared/specs), read by its connector, its tests and the conformance suite."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any


def fixture(package: str, name: str) -> Any:
    """The JSON file `name` in the `fixtures/` folder of `package` (a platform folder, e.g. the connector module's
    `__package__`)."""
    return json.loads(files(package).joinpath("fixtures", name).read_text(encoding="utf-8"))
