# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report every provider returns: schema, validation, neutralisation, markdown, fingerprint."""

from __future__ import annotations

import hashlib
import re

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.categories import CATEGORIES
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput

URGENCIES = ("P0", "P1", "P2")
MAX_TEXT = 2000
MAX_CAUSES = 3
FINGERPRINT_MARKER = "mlops-hybrid-fingerprint"
DIGEST_MARKER = "mlops-hybrid-digest"

RESPONSE_SCHEMA = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "root_causes": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_CAUSES,
            "items": {
                "type": "object",
                "properties": {
                    "cause": {"type": "string"},
                    "evidence": {"type": "string"},
                    "remediation": {"type": "string"},
                    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                },
                "required": ["cause", "evidence", "remediation", "confidence"],
            },
        },
        "urgency": {"type": "string", "enum": list(URGENCIES)},
        "false_positive": {"type": "boolean"},
    },
    "required": ["summary", "root_causes", "urgency"],
}


class ReportInvalid(ValueError):
    """The structured output does not follow RESPONSE_SCHEMA."""


def _text(value, where):
    if not isinstance(value, str) or not value.strip():
        raise ReportInvalid("%s must be a non-empty string" % where)
    return value.strip()[:MAX_TEXT]


def validate(report):
    """Check a report against RESPONSE_SCHEMA and return a normalised copy (raises ReportInvalid)."""
    if not isinstance(report, dict):
        raise ReportInvalid("the report must be a JSON object, got %s" % type(report).__name__)
    causes = report.get("root_causes")
    if not isinstance(causes, list) or not causes:
        raise ReportInvalid("root_causes must be a non-empty list")
    out_causes = []
    for n, c in enumerate(causes[:MAX_CAUSES]):
        if not isinstance(c, dict):
            raise ReportInvalid("root_causes[%d] must be an object" % n)
        conf = c.get("confidence")
        if isinstance(conf, bool) or not isinstance(conf, (int, float)) or not 0 <= conf <= 1:
            raise ReportInvalid("root_causes[%d].confidence must be a number from 0 to 1" % n)
        out_causes.append(
            {
                "cause": _text(c.get("cause"), "root_causes[%d].cause" % n),
                "evidence": _text(c.get("evidence"), "root_causes[%d].evidence" % n),
                "remediation": _text(c.get("remediation"), "root_causes[%d].remediation" % n),
                "confidence": round(float(conf), 2),
            }
        )
    urgency = report.get("urgency")
    if urgency not in URGENCIES:
        raise ReportInvalid("urgency must be one of %s, got %r" % (", ".join(URGENCIES), urgency))
    fp = report.get("false_positive", False)
    if not isinstance(fp, bool):
        raise ReportInvalid("false_positive must be a boolean")
    return {
        "summary": _text(report.get("summary"), "summary"),
        "root_causes": out_causes,
        "urgency": urgency,
        "false_positive": fp,
    }


_MENTION = re.compile(r"(?<![\w.`])@([A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9_.-]+)?)")
_SLACK_SPECIAL = re.compile(r"(?i)<?[!@](?:channel|here|everyone)>?")


def neutralize(text):
    """Make model text inert for GitHub and Slack: no HTML, no @-mentions, no pings."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SLACK_SPECIAL.sub(lambda m: m.group(0).replace("@", "@\u200b").replace("!", "!\u200b"), text)
    return _MENTION.sub(lambda m: "`@%s`" % m.group(1), text)


def headline(summary, limit=120):
    """The first sentence of ``summary``, cut at a word boundary with an ellipsis past ``limit``."""
    first = summary.strip().splitlines()[0] if summary.strip() else ""
    sentence = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + "\u2026"


def _code_span(text):
    """Inline code: HTML is not interpreted there, so it only needs to stay one span on one line."""
    return "`%s`" % " ".join(text.replace("`", "'").split())


def _fence(text):
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def render_markdown(
    report, category, evidence=(), *, provider="offline", fallback=False, fingerprint=None, meta=None, footer=True
):
    """Markdown for GitHub (issues, comments); everything from the model or the logs is neutralised."""
    lines = [
        "### %s: %s" % (category, neutralize(headline(report["summary"]))),
        "",
        "**Urgency:** %s | **Category:** `%s` | **Provider:** %s%s%s"
        % (
            report["urgency"],
            category,
            provider,
            " (fallback: the remote provider failed)" if fallback else "",
            " | **Likely false positive**" if report.get("false_positive") else "",
        ),
        "",
        neutralize(report["summary"]),
        "",
        "#### Likely root causes",
        "",
    ]
    for n, c in enumerate(report["root_causes"], 1):
        lines.append("%d. **%s** (confidence %.0f%%)" % (n, neutralize(c["cause"]), c["confidence"] * 100))
        lines.append("   - Evidence: %s" % _code_span(c["evidence"]))
        lines.append("   - Remediation: %s" % neutralize(c["remediation"]))
    if evidence:
        body = "\n".join(evidence)
        fence = _fence(body)
        lines += ["", "<details><summary>Decisive lines</summary>", "", fence + "text", body, fence, "", "</details>"]
    lines += render_context(meta, footer=footer)
    if fingerprint:
        lines.append("<!-- %s: %s -->" % (FINGERPRINT_MARKER, fingerprint))
    return "\n".join(lines) + "\n"


FOOTER = "_Generated by mlops.hybrid AIOps. It advises; people act._"


def render_context(meta, footer=True):
    """The lines of a report's context (``meta``, neutralised, sorted) and its footer."""
    lines = []
    if meta:
        lines += ["", "#### Context", ""]
        lines += ["- %s: %s" % (neutralize(str(k)), neutralize(str(v))) for k, v in sorted(meta.items())]
    return lines + (["", FOOTER] if footer else [])


def render_slack(report, category, *, provider="offline", fallback=False, link=None):
    """Slack mrkdwn: escape &, <, > and neutralise pings."""
    cause = report["root_causes"][0]
    text = "*[%s] %s*: %s\n*Most likely:* %s\n*Do:* %s%s%s" % (
        report["urgency"],
        category,
        neutralize(report["summary"]),
        neutralize(cause["cause"]),
        neutralize(cause["remediation"]),
        "\n_provider %s%s_" % (provider, ", fallback" if fallback else ""),
        "\n%s" % link if link else "",
    )
    return text


_VOLATILE = re.compile(
    r"\b[0-9a-f]{7,64}\b|\b\d{4}-\d\d-\d\d[t ][\d:.,]+z?|0x[0-9a-f]+|\b\d+(?:\.\d+)?(?:ms|s|m|h|Mi|Gi|kB|MB)?\b"
    r"|-[a-z0-9]{5}\b|-[a-z0-9]{8,10}-[a-z0-9]{5}\b|/tmp/[\w./-]+"
)


def fingerprint(category, evidence, key=None):
    """Stable id of a failure: category + decisive lines with volatile parts (ids, numbers, times) removed."""
    if category not in CATEGORIES:
        raise InvalidInput("unknown category %r: use one of %s" % (category, ", ".join(CATEGORIES)))
    norm = sorted({_VOLATILE.sub("#", e.strip().lower()) for e in evidence if e.strip()})[:10]
    h = hashlib.sha256(("%s\n%s\n%s" % (category, key or "", "\n".join(norm))).encode("utf-8"))
    return h.hexdigest()[:16]


def digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
