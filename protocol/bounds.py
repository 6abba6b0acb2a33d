"""The bounds of the wire: how large a number, how deep a structure a peer may send.

Every integer must fit the databases (SQLite INTEGER and PostgreSQL BIGINT are 64-bit signed)
and survive a browser's JSON.parse unchanged (JavaScript's Number.MAX_SAFE_INTEGER): a JOIN
with after_seq 2**63 once overflowed a SQLite hub (issue 17.8).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

#: the largest integer on the wire
MAX_WIRE_INT = 2**53 - 1

#: a count or a position (seq, after_seq, durations): 0 <= n <= MAX_WIRE_INT
Count = Annotated[int, Field(ge=0, le=MAX_WIRE_INT)]
#: a signed integer a peer reports (an exit code): |n| <= MAX_WIRE_INT
WireInt = Annotated[int, Field(ge=-MAX_WIRE_INT, le=MAX_WIRE_INT)]

#: how deep a result's `data` may nest (objects and lists), and how long its strings may be
MAX_DATA_DEPTH = 6
MAX_DATA_STRING = 16_000


def _check_data(value: Any, depth: int = 0) -> None:
    """Structured data stays plain JSON a browser reads back unchanged: bounded integers and
    nesting, string keys, bounded strings."""
    if depth > MAX_DATA_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DATA_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or len(key) > 128:
                raise ValueError("keys must be strings of at most 128 characters")
            _check_data(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_data(item, depth + 1)
    elif isinstance(value, bool) or value is None or isinstance(value, float):
        return
    elif isinstance(value, int):
        if not -MAX_WIRE_INT <= value <= MAX_WIRE_INT:
            raise ValueError(f"integer {value} is outside +-(2**53 - 1)")
    elif isinstance(value, str):
        if len(value) > MAX_DATA_STRING:
            raise ValueError(f"a string is longer than {MAX_DATA_STRING} characters")
    else:
        raise ValueError(f"{type(value).__name__} is not a JSON value")


def _valid_data(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None:
        _check_data(value)
    return value


#: a result's structured data: a JSON object within the bounds above, or null
ResultData = Annotated[dict[str, Any] | None, AfterValidator(_valid_data)]
