# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One text helper for logs: normalise what a runner or terminal added, keep the tail, shorten a line.

The excerpt builder, the workflow and pod collectors, the registry's messages and the report
titles all use these, so a log is cleaned the same way wherever it is read.
"""

from __future__ import annotations

import re

# CSI sequences (colours, cursor moves, including private "?" modes) and OSC sequences (titles, links).
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\n]*\x07")
# The timestamp GitHub's runner puts before every line of a job log.
_CI_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?", re.M)


def normalize(text):
    """Remove what is not content: ANSI codes, CI timestamps, progress bars redrawn with CR."""
    if not isinstance(text, str):
        text = (text or b"").decode("utf-8", "replace")
    text = text.replace("\r\n", "\n")
    if "\r" in text:
        text = "\n".join(line.rsplit("\r", 1)[-1] if "\r" in line else line for line in text.split("\n"))
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    return _CI_TIMESTAMP.sub("", text)


def tail(text, max_lines, max_bytes):
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


def shorten(text, limit, ellipsis="..."):
    """``text`` on one line (white space folded), cut to ``limit`` characters with ``ellipsis`` at the end."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ellipsis))].rstrip() + ellipsis
