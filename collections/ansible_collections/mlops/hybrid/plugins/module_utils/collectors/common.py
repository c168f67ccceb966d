# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collectors share: bounds on numbers and the redaction of a whole result (text bounds: text.tail)."""

from __future__ import annotations

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.redact import redact_obj
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput


def positive(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidInput("%s must be an integer of at least %d, got %r" % (name, low, value))
    return value


def redacted(result, extra=()):
    """Redact every string of ``result``; add ``redactions`` (counts per kind, never values)."""
    out, counts = redact_obj(result, extra=[e for e in extra if e])
    out["redactions"] = dict(sorted(counts.items()))
    return out
