"""The patterns every name from the hub or the config must match before it reaches a command.

Anything the hub sends is data checked here, never shell text: a value that passes these
patterns is still quoted with shlex.quote where it meets a command line.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

#: asset codes (CMDB `asset_code`)
NODE_CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
#: systemd-style unit names: tomcat, nginx, postgresql@15-main
SERVICE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$"
#: action codes: RESTART_SERVICE
ACTION_CODE = r"^[A-Z][A-Z0-9_]{0,63}$"
#: a file name with no directory part; '..' is refused separately
FILE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$"
ARTIFACT_ID = r"^[A-Za-z0-9_-]{1,128}$"
SHA256 = r"^[0-9a-fA-F]{64}$"
#: a bearer token: base64url/base64 characters only, so it cannot break an HTTP header
BEARER_TOKEN = r"^[A-Za-z0-9._~+/=-]{1,2048}$"
#: host names and IPv4/IPv6 addresses
HOST = r"^[A-Za-z0-9][A-Za-z0-9.:_-]{0,253}$"
#: POSIX login names
USER_NAME = r"^[a-z_][a-z0-9_.-]{0,31}\$?$"
#: an absolute path on a node, without control characters
ABSOLUTE_PATH = r"^/[^\x00-\x1f\x7f]{0,4095}$"

#: suffixes the agent keeps beside a deployed file; an artifact may not be named like them
RESERVED_SUFFIXES = (".guardia-prev", ".guardia-new")


def _plain_file_name(name: str) -> str:
    if ".." in name:
        raise ValueError("a file name must not contain '..'")
    if name.endswith(RESERVED_SUFFIXES):
        raise ValueError(f"a file name must not end in {' or '.join(RESERVED_SUFFIXES)}")
    return name


NodeCode = Annotated[str, Field(pattern=NODE_CODE)]
ServiceName = Annotated[str, Field(pattern=SERVICE_NAME)]
ActionCode = Annotated[str, Field(pattern=ACTION_CODE)]
FileName = Annotated[str, Field(pattern=FILE_NAME), AfterValidator(_plain_file_name)]
ArtifactId = Annotated[str, Field(pattern=ARTIFACT_ID)]
Sha256 = Annotated[str, Field(pattern=SHA256), AfterValidator(str.lower)]
BearerToken = Annotated[str, Field(pattern=BEARER_TOKEN)]
HostName = Annotated[str, Field(pattern=HOST)]
UserName = Annotated[str, Field(pattern=USER_NAME)]
AbsolutePath = Annotated[str, Field(pattern=ABSOLUTE_PATH)]

AGENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
