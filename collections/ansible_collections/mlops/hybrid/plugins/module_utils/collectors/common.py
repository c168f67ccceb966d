# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collectors share: bounds on text and the redaction of a whole result."""

from __future__ import annotations

from ..aiops.redact import redact_obj
from ..errors import InvalidInput


def tail_text(text, max_lines, max_bytes):
    """The last ``max_lines`` lines of ``text`` within ``max_bytes`` (UTF-8); returns (text, truncated)."""
    text = text or ""
    lines = text.splitlines()
    truncated = len(lines) > max_lines
    lines = lines[-max_lines:] if max_lines else []
    out = "\n".join(lines)
    data = out.encode("utf-8")
    if len(data) > max_bytes:
        out = data[-max_bytes:].decode("utf-8", "ignore")
        out = out.split("\n", 1)[1] if "\n" in out else out  # no half line at the top
        truncated = True
    return out, truncated


def positive(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidInput("%s must be an integer of at least %d, got %r" % (name, low, value))
    return value


def redacted(result, extra=()):
    """Redact every string of ``result``; add ``redactions`` (counts per kind, never values)."""
    out, counts = redact_obj(result, extra=[e for e in extra if e])
    out["redactions"] = dict(sorted(counts.items()))
    return out
