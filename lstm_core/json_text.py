"""JSON text as the lab writes it (files, the run store, downloads): strict, never NaN.

Python's json writes NaN and Infinity, which are not JSON and which other readers refuse; a
number that is not finite is written as null instead.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite_or_none(value: Any) -> Any:
    """`value` with every NaN or infinity inside it (dicts, lists, tuples) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_none(each) for key, each in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(each) for each in value]
    return value


def dumps(content: Any, indent: int | None = None) -> str:
    """Strict JSON for `content`: non-finite numbers become null (allow_nan=False checks it)."""
    return json.dumps(finite_or_none(content), indent=indent, allow_nan=False)
