# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors raised by module_utils; only a module's main() turns them into fail_json."""

from __future__ import annotations


class MlopsError(Exception):
    """Base class: ``msg`` is what the user reads; ``result`` is returned alongside it."""

    def __init__(self, msg, result=None):
        super().__init__(msg)
        self.msg = msg
        self.result = result or {}


class InvalidInput(MlopsError):
    """The options or the data handed in are wrong; nothing was changed."""


class MissingDependency(MlopsError):
    """A binary, Python library or service the operation needs is absent."""


class RemoteError(MlopsError):
    """A remote service (API, registry, Git remote) answered with an error."""


class OperationTimeout(MlopsError):
    """A bounded wait ran out; ``result`` holds what was known at that point."""
