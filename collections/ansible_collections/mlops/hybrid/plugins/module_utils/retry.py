# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One backoff: how long to wait before the next attempt, and what a server said about it.

Every client of the collection (GitHub, Gemini and OpenAI-compatible providers, Compute Engine,
the alert bridge's dispatcher) computes its waits here: exponential from ``base``, capped at
``cap``, optionally jittered, and replaced by the server's own hint (``Retry-After`` in seconds or
as an HTTP date, GitHub's ``X-RateLimit-Reset``, Google's ``RetryInfo.retryDelay``) when there is one.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

RETRY_STATUSES = (429, 500, 502, 503, 504)


def backoff_delay(attempt, base=0.5, cap=30.0, rng=None):
    """The wait before retry number ``attempt`` (1 for the first retry): ``min(cap, base * 2**(attempt-1))``.

    With ``rng`` (a ``random.Random``) the wait is uniform in ``[d/2, d]``, so that many clients
    that failed together do not retry together.
    """
    d = min(cap, base * (2 ** max(0, attempt - 1)))
    return rng.uniform(d / 2, d) if rng is not None else d


def retry_delay(attempt, base=0.5, cap=30.0, hint=None, rng=None):
    """The server's ``hint`` (seconds) when it gave one, else :func:`backoff_delay`; never above ``cap``."""
    if hint is not None:
        return min(max(float(hint), 0.0), cap)
    return backoff_delay(attempt, base, cap, rng)


def retry_after(headers, now=time.time):
    """Seconds to wait that the answer's headers ask for, or None.

    ``Retry-After`` as seconds or an HTTP date; without it, GitHub's exhausted rate limit
    (``X-RateLimit-Remaining: 0`` with ``X-RateLimit-Reset``, epoch seconds).
    """
    headers = headers or {}
    value = (headers.get("Retry-After") or "").strip()
    if value:
        if value.replace(".", "", 1).isdigit():
            return float(value)
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now())
        except (TypeError, ValueError):
            return None
    reset = str(headers.get("X-RateLimit-Reset") or "")
    if str(headers.get("X-RateLimit-Remaining")) == "0" and reset.isdigit():
        return max(0.0, float(reset) - now())
    return None


def seconds(duration):
    """A protobuf-JSON duration (``"12s"``, ``"1.5s"``) or a number as float seconds, or None."""
    try:
        return float(str(duration).strip().removesuffix("s"))
    except (TypeError, ValueError):
        return None
