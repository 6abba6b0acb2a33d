"""The shapes of the names the hub and the agent must agree on, in one place.

A name the hub accepts (from a CMDB file, an upload, a plan) ends up in a task the agent
checks against its own patterns; if the two disagree, the hub stores what the agent will
refuse, and the failure shows up only when a change runs. So both sides import these:
`cmdb.document` validates the CMDB file with them and `agent.patterns` builds its field
types from them.

    NODE_CODE       what the agent takes as a node key (agent.yaml `nodes:`, task steps)
    ASSET_CODE      the CMDB's codes (institution, system, asset): upper case, and a
                    subset of NODE_CODE, so every asset code is a node code
    SERVICE_NAME    a service unit (systemd style): tomcat, postgresql@15-main; no ':'
    HOST            a host name or an IPv4/IPv6 address
    AGENT_ID        an agent's id
    FILE_NAME       a deployable file's name, no directory; see `file_name_problem`

The patterns are plain strings anchored with ^ and $ for pydantic's `Field(pattern=...)`,
whose regex engine reads $ as the end of the text. Python's `re` lets $ match before a
trailing newline, so match them in Python with `fullmatch` (as `matches` does), never with
`match`. Pure: no I/O, nothing but `re`.
"""

from __future__ import annotations

import re

NODE_CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ASSET_CODE = r"^[A-Z0-9][A-Z0-9_-]{0,63}$"
#: the longest code, in characters (both patterns allow 64)
MAX_CODE_CHARS = 64
SERVICE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$"
HOST = r"^[A-Za-z0-9][A-Za-z0-9.:_-]{0,253}$"
AGENT_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
FILE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$"
#: the longest file name, in characters
MAX_FILE_NAME_CHARS = 200

#: suffixes the agent keeps beside a deployed file (agent/release.py): the file it ran
#: before (`<name>.guardia-prev`) and an upload in flight (`.<name>.guardia-new`). A file
#: named like them would overwrite that bookkeeping, so no artifact may end in one.
RESERVED_SUFFIXES: tuple[str, ...] = (".guardia-prev", ".guardia-new")


def matches(pattern: str, value: str) -> bool:
    """Whether `value` is wholly of the shape `pattern` describes (no trailing newline)."""
    return re.fullmatch(pattern, value) is not None


def file_name_problem(name: str) -> str | None:
    """Why the agent would refuse `name` as a deployable file, or None when it would not."""
    if len(name) > MAX_FILE_NAME_CHARS:
        return f"a file name is at most {MAX_FILE_NAME_CHARS} characters, not {len(name)}"
    if not matches(FILE_NAME, name):
        return "a file name is letters, digits and . _ + - only, starting with a letter or digit"
    if ".." in name:
        return "a file name must not contain '..'"
    if name.endswith(RESERVED_SUFFIXES):
        return f"a file name must not end in {' or '.join(RESERVED_SUFFIXES)}"
    return None
