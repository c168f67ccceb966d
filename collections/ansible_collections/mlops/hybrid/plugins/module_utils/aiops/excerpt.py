# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cut the decisive lines out of raw text of any size, within a token budget.

The text is normalised (:func:`text.normalize`), the category rules find their hits in one pass
each (:mod:`classify`). A log that fits the budget is the excerpt whole; otherwise the decisive
lines come first, then the first lines (command, versions) and the last ones, then windows around
the decisive lines widened until the budget is used, each gap marked with the lines it cut.
Nothing here calls a model.
"""

from __future__ import annotations

import re

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.categories import CATEGORIES
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.classify import (
    choose,
    choose_by_vocabulary,
    classify_scores,
    hint_scores,
    merge_scores,
    scan,
    vocabulary_scores,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.text import normalize

DEFAULT_MAX_TOKENS = 2000
CHARS_PER_TOKEN = 4
MAX_LINE_CHARS = 1200
MAX_EVIDENCE = 20
# When the log does not fit: the decisive lines may take this share of the budget, the last lines this
# share after them, and the first HEAD_LINES (command, versions) always come; windows widen up to
# MAX_WINDOW lines each side, and a gap costs a marker of about MARKER_CHARS characters.
DECISIVE_SHARE = 0.5
TAIL_SHARE = 0.2
HEAD_LINES = 3
MAX_WINDOW = 40
MARKER_CHARS = 44
# A finding that says it is of high or critical severity (Bandit, Trivy, gosec, Snyk) ranks this much higher.
SEVERE_BONUS = 2
REPEAT_DECAY = 0.5
VOCABULARY_CONTEXT = 2
_SEVERE = re.compile(
    r"(?i:\bseverity:?\s*(?:high|critical)\b)|\b(?:CRITICAL|HIGH)\b|(?i:\b(?:high|critical) severity\b)"
)


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


def _severe(lines, i, after):
    """Whether line i or the lines its rule takes after it name a high or critical severity."""
    return any(_SEVERE.search(lines[j]) for j in range(i, min(len(lines), i + after + 1)))


def _rank(hits, category, lines):
    """Decisive lines by priority: the chosen category's rules first, generic rules next, others last.

    Within a rule, a finding of high or critical severity comes before the others, and each further
    line of the same rule and severity counts REPEAT_DECAY less, so a hundred lines of one finding do not
    crowd out the one line of another (or the summary).
    """
    best = {}
    repeats = {}
    for i, rule in sorted(hits, key=lambda hit: hit[0]):
        if not rule.decisive:
            continue
        if rule.category == category:
            prio = rule.weight + 10
        else:
            prio = rule.weight if rule.category is None else rule.weight / 2.0
        severe = rule.category is not None and _severe(lines, i, rule.after)
        if severe:
            prio += SEVERE_BONUS
        n = repeats.get((id(rule), severe), 0)
        repeats[(id(rule), severe)] = n + 1
        prio -= REPEAT_DECAY * n
        old = best.get(i)
        if old is None or prio > old[0]:
            best[i] = (prio, rule.before, rule.after)
    return sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))


class _Picker:
    """Lines chosen under a budget of characters, each gap counted at the size of its marker."""

    def __init__(self, lines, budget):
        self.lines, self.budget, self.used, self.order = lines, budget, 0, []
        self.chosen = set()

    def cost(self, j):
        gap = 0 if (j - 1 in self.chosen or j + 1 in self.chosen) else MARKER_CHARS
        return len(_clip(self.lines[j])) + 1 + gap

    def add(self, j, limit=None):
        """Choose line j if it exists, is new and fits (under ``limit`` characters if given).

        False only when the line does not fit: a line chosen before or past either end is no reason to stop.
        """
        if not 0 <= j < len(self.lines) or j in self.chosen:
            return True
        cost = self.cost(j)
        if self.used + cost > min(self.budget, limit if limit is not None else self.budget):
            return False
        self.chosen.add(j)
        self.order.append(j)
        self.used += cost
        return True


def _budget(max_tokens):
    """The budget in characters."""
    return max(1, int(max_tokens)) * CHARS_PER_TOKEN


def _fits(lines, max_tokens):
    """Whether the log, each line clipped as the excerpt clips it, fits the budget whole."""
    return sum(len(_clip(line)) + 1 for line in lines) <= _budget(max_tokens)


def _select(lines, ranked, max_tokens):
    """The whole log when it fits; else decisive lines, the first and last lines, then windows widened to the budget."""
    if _fits(lines, max_tokens):
        return list(range(len(lines)))
    budget = _budget(max_tokens)
    pick = _Picker(lines, budget)
    decisive = [i for i, _v in ranked]
    limit = budget * DECISIVE_SHARE
    for i, (_prio, before, after) in ranked:  # each with the lines its rule says belong to it
        if not pick.add(i, limit=limit):
            break
        for j in range(i - before, i + after + 1):
            pick.add(j, limit=limit)
    for j in range(min(HEAD_LINES, len(lines))):
        pick.add(j)
    tail_limit = pick.used + budget * (TAIL_SHARE if decisive else 1.0)
    for j in range(len(lines) - 1, -1, -1):
        if not pick.add(j, limit=tail_limit):
            break
    windows = [i for i in decisive if i in pick.chosen]
    for radius in range(1, MAX_WINDOW + 1):
        used = pick.used
        for i in windows:
            pick.add(i - radius)
            pick.add(i + radius)
        if pick.used == used:  # nothing fitted at this radius
            break
    for j in range(len(lines) - 1, -1, -1):  # what is left goes to the tail, where failures end
        if not pick.add(j):
            break
    return pick.order


def _render(lines, order, max_tokens):
    """The chosen lines in their original order, each gap marked with where and how much was cut."""
    keep = list(order)
    while True:
        out = []
        prev = -1
        for j in sorted(keep):
            if j > prev + 1:
                out.append(_marker(prev + 1, j - 1))
            out.append(_clip(lines[j]))
            prev = j
        if prev < len(lines) - 1 and any(s.strip() for s in lines[prev + 1 :]):
            out.append(_marker(prev + 1, len(lines) - 1))
        excerpt = "\n".join(out)
        if estimate_tokens(excerpt) <= max_tokens or not keep:
            return excerpt
        keep.pop()  # the line chosen last matters least


def _marker(first, last):
    n = last - first + 1
    return "[... %d line%s omitted (lines %d-%d) ...]" % (n, "" if n == 1 else "s", first + 1, last + 1)


def _failing_text(lines, ranked, max_tokens):
    """What a log's failure says: the whole log when it fits the budget, else its decisive lines and their
    neighbours (VOCABULARY_CONTEXT each side), so the words of the rest of a long log do not count."""
    if _fits(lines, max_tokens):
        return "\n".join(lines)
    keep = set()
    for i, _v in ranked[:MAX_EVIDENCE]:
        keep.update(range(max(0, i - VOCABULARY_CONTEXT), min(len(lines), i + VOCABULARY_CONTEXT + 1)))
    return "\n".join(lines[j] for j in sorted(keep))


def extract(text, max_tokens=DEFAULT_MAX_TOKENS, kind="auto", hints=()):
    """Return category, its basis, scores, evidence (decisive lines) and an excerpt within ``max_tokens``.

    ``category_basis`` says what named the category: ``kind`` (given), ``rules`` (the rules and hints),
    ``vocabulary`` (no rule matched; the failing lines' words did) or ``none`` (other).

    ``hints`` are the names around the log, most specific first (the failing step's, the job's, the
    workflow's or its file's): a tool named there weighs in the category (:func:`classify.hint_scores`).
    """
    if kind not in ("auto", *CATEGORIES):
        raise InvalidInput("kind must be 'auto' or one of %s, got %r" % (", ".join(CATEGORIES), kind))
    text = normalize(text or "")
    lines = text.split("\n")
    hits = list(scan(text))
    scores = merge_scores(classify_scores(hits), hint_scores(hints))
    category = choose(scores) if kind == "auto" else kind
    basis = "kind" if kind != "auto" else ("rules" if category != "other" else "none")

    ranked = _rank(hits, category, lines)
    if basis == "none":  # no rule names it: the words of its failing lines may
        category = choose_by_vocabulary(vocabulary_scores(_failing_text(lines, ranked, max_tokens)))
        basis = "vocabulary" if category != "other" else "none"
        if category != "other":
            ranked = _rank(hits, category, lines)
    evidence_idx = sorted(i for i, _v in ranked[:MAX_EVIDENCE])
    excerpt = _render(lines, _select(lines, ranked, max_tokens), max_tokens)
    return {
        "category": category,
        "category_basis": basis,
        "scores": dict(sorted(scores.items(), key=lambda kv: -kv[1])),
        "evidence": [_clip(lines[i]).strip() for i in evidence_idx],
        "excerpt": excerpt,
        "lines_total": len(lines),
        "excerpt_tokens": estimate_tokens(excerpt),
    }
