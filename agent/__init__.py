"""The GUARDiA agent daemon: dials out to the hub and runs its own catalog of actions.

It imports `protocol` and nothing else of the project, so `pip install .[agent]` is enough.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("guardia")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
