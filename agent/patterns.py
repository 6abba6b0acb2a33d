"""The patterns every name from the hub or the config must match before it reaches a command.

Anything the hub sends is data checked here, never shell text: a value that passes these
patterns is still quoted with shlex.quote where it meets a command line. The names the hub
also checks (node codes, service names, hosts, agent ids, file names) are defined once, in
protocol/names.py, so that the CMDB cannot hold a name the agent refuses.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from protocol import names
from protocol.names import FILE_NAME, HOST, NODE_CODE, SERVICE_NAME

#: action codes: RESTART_SERVICE
ACTION_CODE = r"^[A-Z][A-Z0-9_]{0,63}$"
ARTIFACT_ID = r"^[A-Za-z0-9_-]{1,128}$"
SHA256 = r"^[0-9a-fA-F]{64}$"
#: a bearer token: base64url/base64 characters only, so it cannot break an HTTP header
BEARER_TOKEN = r"^[A-Za-z0-9._~+/=-]{1,2048}$"
#: POSIX login names
USER_NAME = r"^[a-z_][a-z0-9_.-]{0,31}\$?$"
#: an absolute path on a node, without control characters
ABSOLUTE_PATH = r"^/[^\x00-\x1f\x7f]{0,4095}$"


def _plain_file_name(name: str) -> str:
    problem = names.file_name_problem(name)
    if problem is not None:
        raise ValueError(problem)
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

#: for `.match`: \Z, because Python's $ would let a trailing newline through
AGENT_ID = re.compile(names.AGENT_ID.removesuffix("$") + r"\Z")
