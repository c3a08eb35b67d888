"""How deep a parsed JSON document nests, measured without recursion: a 10,000-level body must not exhaust the stack
of the code that checks it."""

from __future__ import annotations

from typing import Any


def json_depth(value: Any, limit: int) -> int:
    """Nesting depth of `value` (a scalar is 1), or the first depth found beyond `limit`: the walk stops there."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, level + 1) for v in node)
    return deepest
