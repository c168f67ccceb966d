# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cut the decisive lines out of raw text of any size, within a token budget.

The text is normalised (:func:`text.normalize`), the category rules find their hits in one pass
each (:mod:`classify`), then a greedy selection under the budget keeps the decisive lines first
and their surrounding context second. Nothing here calls a model.
"""

from __future__ import annotations

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.classify import (
    CATEGORIES,
    choose,
    classify_scores,
    line_starts,
    scan,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.text import normalize

DEFAULT_MAX_TOKENS = 2000
CHARS_PER_TOKEN = 4
MAX_LINE_CHARS = 1200
MAX_EVIDENCE = 20


def estimate_tokens(text):
    """A conservative token estimate for budgets (about four characters a token)."""
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def _clip(line):
    """Shorten a very long line at a word boundary, so no token (or secret) is cut in half."""
    if len(line) <= MAX_LINE_CHARS:
        return line
    head = line[:MAX_LINE_CHARS]
    cut = max(head.rfind(" "), head.rfind("\t"))
    return (head[:cut] if cut > 0 else "") + " [...]"


def _rank(hits, category):
    """Decisive lines by priority: the chosen category's rules first, generic rules next, others last."""
    best = {}
    for i, (cat, weight, decisive, before, after, _keys, _rx) in hits:
        if not decisive:
            continue
        prio = weight + 10 if cat == category else (weight if cat is None else weight / 2.0)
        old = best.get(i)
        if old is None or prio > old[0]:
            best[i] = (prio, before, after)
    return sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))


def _select(lines, hits, category, max_tokens):
    """Greedy under the budget: decisive lines up to 70 %, then their context; the tail if nothing matched."""
    ranked = _rank(hits, category)
    budget = max(1, int(max_tokens)) * CHARS_PER_TOKEN
    chosen = {}
    used = 0
    for i, _v in ranked:
        cost = len(_clip(lines[i])) + 1
        if used + cost > budget * 0.7:
            break
        chosen[i] = True
        used += cost
    evidence_idx = sorted([i for i, _v in ranked if i in chosen][:MAX_EVIDENCE])
    for i, (_prio, before, after) in ranked:
        if i not in chosen:
            continue
        for j in [*range(i - max(before, 1), i), *range(i + 1, i + 1 + max(after, 1))]:
            if 0 <= j < len(lines) and j not in chosen and lines[j].strip():
                cost = len(_clip(lines[j])) + 1
                if used + cost + 40 > budget:
                    break
                chosen[j] = False
                used += cost
    if not chosen:
        used = 40  # room for the "lines omitted" marker in front of the tail
        for j in range(len(lines) - 1, -1, -1):
            cost = len(_clip(lines[j])) + 1
            if used + cost > budget:
                break
            chosen[j] = False
            used += cost
    return ranked, evidence_idx, chosen


def _render(lines, chosen, max_tokens):
    """The chosen lines in their original order, gaps marked, trimmed to the budget."""
    out = []
    prev = -1
    for j in sorted(chosen):
        if j > prev + 1:
            out.append("[... %d lines omitted ...]" % (j - prev - 1))
        out.append(_clip(lines[j]))
        prev = j
    if 0 <= prev < len(lines) - 1 and any(s.strip() for s in lines[prev + 1 :]):
        out.append("[... %d lines omitted ...]" % (len(lines) - 1 - prev))
    excerpt = "\n".join(out)
    while estimate_tokens(excerpt) > max_tokens and out:
        out.pop()
        excerpt = "\n".join(out)
    return excerpt


def extract(text, max_tokens=DEFAULT_MAX_TOKENS, kind="auto"):
    """Return category, scores, evidence (decisive lines) and an excerpt within ``max_tokens``."""
    if kind not in ("auto", *CATEGORIES):
        raise InvalidInput("kind must be 'auto' or one of %s, got %r" % (", ".join(CATEGORIES), kind))
    text = normalize(text or "")
    lines = text.split("\n")
    hits = list(scan(text, line_starts(lines)))
    scores = classify_scores(hits)
    category = choose(scores) if kind == "auto" else kind

    _ranked, evidence_idx, chosen = _select(lines, hits, category, max_tokens)
    excerpt = _render(lines, chosen, max_tokens)
    return {
        "category": category,
        "scores": dict(sorted(scores.items(), key=lambda kv: -kv[1])),
        "evidence": [_clip(lines[i]).strip() for i in evidence_idx],
        "excerpt": excerpt,
        "lines_total": len(lines),
        "excerpt_tokens": estimate_tokens(excerpt),
    }
