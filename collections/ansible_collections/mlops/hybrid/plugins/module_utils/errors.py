# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors raised by module_utils; only ``runner.run_module`` turns them into ``fail_json``.

Every error the collection raises is one of these: ``msg`` is what the user reads (what is wrong
and what to do), ``result`` is returned beside it. module_utils never raise a bare ``ValueError``
or ``KeyError`` across their public functions.
"""

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
    """A Python library the operation needs is not installed.

    ``library`` is the distribution to install (``PyGithub``, ``google-genai``, ...); ``msg`` is
    always a sentence naming it; the runner reports it with ``missing_required_lib``.
    """

    def __init__(self, library, result=None, reason=None):
        self.library = library
        self.reason = reason
        msg = "the Python library %s is not installed (pip install %s)" % (library, library)
        if reason:
            msg = "%s: %s" % (reason, msg)
        super().__init__(msg, result)


class RemoteError(MlopsError):
    """A remote service (API, registry, Git remote) answered with an error."""


class OperationTimeout(MlopsError):
    """A bounded wait ran out; ``result`` holds what was known at that point."""


class GateFailed(MlopsError):
    """A quality gate (a metric below its threshold) refused the change; nothing was changed."""


class CheckFailed(MlopsError):
    """A check of what the host needs did not pass; ``result`` holds every check with its hint."""
