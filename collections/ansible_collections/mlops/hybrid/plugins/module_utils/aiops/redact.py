# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replace secrets with typed placeholders before text leaves the machine.

``redact(text)`` returns the redacted text and a count per kind, never the values. The patterns
run from the most specific (a PEM block, a service-account key) to the most generic (a
high-entropy value assigned to a secret-sounding name); a placeholder is never matched again.
"""

from __future__ import annotations

import math
import re

PLACEHOLDER = "[REDACTED:%s]"
_PH = r"\[REDACTED:[a-z_]+\]"

# (kind, pattern, group to replace: 0 = the whole match)
_PATTERNS = [
    (
        "private_key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:[^-]|-(?!----END)){0,20000}"
        r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----",
        0,
    ),
    ("private_key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[A-Za-z0-9+/=\s\\n]{0,20000}", 0),
    ("gcp_service_account", r"\"private_key_id\"\s*:\s*\"([0-9a-f]{16,64})\"", 1),
    (
        "kubeconfig_key_data",
        r"\b(?:client-key-data|client-certificate-data|certificate-authority-data)\s*:\s*([A-Za-z0-9+/=]{16,})",
        1,
    ),
    ("k3s_token", r"\bK10[0-9a-f]{32,}::[\w.-]+:[0-9A-Za-z]+", 0),
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})", 0),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}", 0),
    ("aws_access_key_id", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA)[0-9A-Z]{16}\b", 0),
    ("aws_secret_access_key", r"(?i)\baws_?secret_?access_?key\b[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+=]{40})", 1),
    ("slack_webhook", r"https://hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+", 0),
    ("slack_token", r"\bxox[abposre]-[0-9A-Za-z-]{10,}", 0),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", 0),
    ("bearer_token", r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{12,})", 1),
    ("basic_auth", r"(?i)\bauthorization\s*[:=]\s*[\"']?basic\s+([A-Za-z0-9+/=]{8,})", 1),
    ("basic_auth", r"(?i)\bbasic\s+([A-Za-z0-9+/]{16,}={0,2})(?![A-Za-z0-9+/=])", 1),
    ("url_password", r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@\[\]]+:([^@\s/\[\]]+)@", 1),
    ("kubeconfig_token", r"(?m)^\s*(?:token|id-token|refresh-token|access-token)\s*:\s*[\"']?([^\s\"'\[]{8,})", 1),
    (
        "env_secret",
        r"(?i)\b[A-Z0-9_.-]*(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)"
        r"[A-Z0-9_]*[\"']?\s*[:=]\s*[\"']?((?!\[REDACTED:)[^\s\"',;}\]]{4,})",
        1,
    ),
]
_COMPILED = [(kind, re.compile(p), g) for kind, p, g in _PATTERNS]
_GENERIC = re.compile(r"(?<![A-Za-z0-9+/=_-])([A-Za-z0-9+/=_-]{32,})(?![A-Za-z0-9+/=_-])")
KINDS = tuple(dict.fromkeys([k for k, _p, _g in _PATTERNS] + ["generic_secret"]))
_PLACEHOLDER_RX = re.compile(_PH)


def _entropy(s):
    counts = {}
    for ch in s:
        counts[ch] = counts.get(ch, 0) + 1
    n = float(len(s))
    return -sum(c / n * math.log(c / n, 2) for c in counts.values())


def _looks_secret(value):
    if _PLACEHOLDER_RX.search(value) or value.lower() in ("none", "null", "true", "false", "changeme", "xxxx"):
        return False
    if value.startswith(("$", "{{", "<")) or set(value) <= set("*x#."):
        return False
    return True


def redact(text, extra=()):
    """Return (redacted text, {kind: count}). ``extra`` holds literal values to remove too."""
    if text is None:
        return text, {}
    if not isinstance(text, str):
        text = str(text)
    counts = {}

    def bump(kind):
        counts[kind] = counts.get(kind, 0) + 1
        return PLACEHOLDER % kind

    for value in extra:
        if value and len(value) >= 4 and value in text:
            counts["known_secret"] = counts.get("known_secret", 0) + text.count(value)
            text = text.replace(value, PLACEHOLDER % "known_secret")
    for kind, rx, group in _COMPILED:

        def sub(m, kind=kind, group=group):
            if group == 0:
                return bump(kind)
            value = m.group(group)
            if not _looks_secret(value):
                return m.group(0)
            start, end = m.span(group)
            base = m.start(0)
            return m.group(0)[: start - base] + bump(kind) + m.group(0)[end - base :]

        text = rx.sub(sub, text)

    def generic(m):
        value = m.group(1)
        if _PLACEHOLDER_RX.search(value) or not (_entropy(value) >= 4.0 and _mixed(value)):
            return value
        return bump("generic_secret")

    text = _GENERIC.sub(generic, text)
    return text, counts


def _mixed(value):
    """Letters and digits mixed, not a hex digest of a commit or an image (those are not secrets)."""
    if re.fullmatch(r"[0-9a-f]+", value) or re.fullmatch(r"sha\d+[:-][0-9a-f]+", value):
        return False
    return any(c.isdigit() for c in value) and any(c.isupper() for c in value) and any(c.islower() for c in value)


def redact_obj(obj, counts=None, extra=()):
    """Redact every string inside dicts and lists; returns (copy, counts)."""
    counts = {} if counts is None else counts

    def walk(o):
        if isinstance(o, str):
            out, c = redact(o, extra)
            for k, v in c.items():
                counts[k] = counts.get(k, 0) + v
            return out
        if isinstance(o, dict):
            return {k: walk(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [walk(v) for v in o]
        return o

    return walk(obj), counts


def merge_counts(*parts):
    total = {}
    for part in parts:
        for k, v in (part or {}).items():
            total[k] = total.get(k, 0) + v
    return dict(sorted(total.items()))
