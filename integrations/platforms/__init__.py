"""The connector kit's platforms: one folder per platform (`<code>/`), the `Connector` protocol (`protocol.py`), the
registry (`registry.py`), the simulator machinery (`simulator_kit.py`) and what the folders share (`base.py`,
`fixtures.py`)."""
