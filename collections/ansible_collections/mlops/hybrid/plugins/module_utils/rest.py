# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain HTTP through ``requests``, for the JSON-over-HTTP clients (Prometheus, Slack, GitHub blobs and dispatches).

One guarded import, one "requests is missing" error, one translation of ``requests``' errors into
the collection's: a timeout is an :class:`OperationTimeout`, any other failure to get an answer a
:class:`RemoteError`. Each client keeps its own words for what it was doing.
"""

from __future__ import annotations

import traceback
from contextlib import contextmanager

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import (
    MissingDependency,
    OperationTimeout,
    RemoteError,
)

try:
    import requests
    from requests import RequestException, Timeout

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # reported by the module with missing_required_lib
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

    class RequestException(Exception):
        """Stands in for requests' base error so that ``except`` clauses work without requests."""

    class Timeout(RequestException):
        """Stands in for requests' timeout error."""


__all__ = ["HAS_REQUESTS", "REQUESTS_IMPORT_ERROR", "RequestException", "Timeout", "require", "session", "translated"]


def require():
    """The ``requests`` module; MissingDependency when it is not installed."""
    if not HAS_REQUESTS:
        raise MissingDependency("requests")
    return requests


def session():
    """A new ``requests.Session``; MissingDependency when requests is not installed."""
    return require().Session()


@contextmanager
def translated(*, timed_out, failed):
    """Raise ``requests``' errors as the collection's.

    ``timed_out`` is the whole message of the OperationTimeout; ``failed`` the message of the
    RemoteError, with one ``%s`` for the kind of failure (``ConnectionError``, ``SSLError``, ...).
    """
    try:
        yield
    except Timeout as e:
        raise OperationTimeout(timed_out) from e
    except RequestException as e:
        raise RemoteError(failed % type(e).__name__) from e
