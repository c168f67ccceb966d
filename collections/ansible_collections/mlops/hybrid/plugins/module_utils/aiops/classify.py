# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failure categories and the rules that recognise them in a log.

Each rule names its category (or none, for lines that are decisive whatever the failure), its
weight, whether a matching line is decisive and how many lines around it matter, the literal keys
a candidate line must hold and a compiled regular expression without nested quantifiers, so a scan
is linear in the input. :func:`scan` finds the rule hits, :func:`classify_scores` weighs them and
:func:`choose` names the category; the excerpt module selects lines from the same hits.
"""

from __future__ import annotations

import bisect
import dataclasses
import re

CATEGORIES = (
    "test",
    "lint",
    "sast",
    "sca",
    "container_scan",
    "secrets",
    "training",
    "model_validation",
    "k8s_crashloop",
    "k8s_oom",
    "k8s_image_pull",
    "k8s_probe",
    "k8s_latency",
    "argocd_sync",
    "infra",
    "other",
)

MIN_CATEGORY_SCORE = 4
COUNT_CAP = 3
MAX_MATCHES_PER_RULE = 400

# (category or None for generic, weight, decisive, lines before, lines after, keys, pattern)
# keys: lower-case literals, one of which a matching line must contain ("\n" = start of a line); only
# lines holding a key are tried against the pattern, which keeps the scan fast and linear.
_RULES = [
    # test
    ("test", 3, True, 3, 0, ("\ne  ",), r"^E {2,}\S.*$"),
    ("test", 4, True, 0, 0, ("\nfailed ", "\nerror "), r"^(?:FAILED|ERROR) \S+\.py\b.*$"),
    ("test", 4, True, 0, 0, ("failed", "error"), r"^=+ .*\b\d+ (?:failed|errors?)\b.*=+$"),
    (
        "test",
        4,
        True,
        0,
        0,
        (" failed", " error"),
        r"^(?:\d+ \w+, )*\d+ (?:failed|errors?)(?:, \d+ \w+)* in [\d.]+s\b.*$",
    ),
    (
        "test",
        2,
        True,
        0,
        1,
        ("___ ",),
        r"^_{3,} (?:ERROR at setup of |ERROR collecting |ERROR at teardown of )?\S+ _{3,}$",
    ),
    ("test", 4, True, 0, 0, ("\nfail: test", "\nerror: test"), r"^(?:FAIL|ERROR): test\w* \(.*$"),
    ("test", 4, True, 0, 0, ("\nfailed (",), r"^FAILED \((?:failures|errors)=\d+.*$"),
    ("test", 3, True, 0, 0, ("during collection",), r"Interrupted: \d+ errors? during collection"),
    (
        "test",
        2,
        False,
        0,
        0,
        ("= failures =", "= errors =", "short test summary"),
        r"^=+ (?:FAILURES|ERRORS|short test summary info) =+$",
    ),
    ("test", 1, False, 0, 0, ("\nran ",), r"^Ran \d+ tests? in "),
    # lint
    ("lint", 2, True, 0, 0, (".py",), r"^\S+\.pyi?:\d+:\d+: [A-Z]{1,3}\d{2,4}\b.*$"),
    ("lint", 4, True, 0, 0, ("\nfound ",), r"^Found \d+ errors?\.$"),
    ("lint", 5, True, 0, 0, ("would be reformatted",), r"^\d+ files? would be reformatted.*$"),
    ("lint", 4, True, 0, 0, ("would reformat",), r"^(?:[Ww]ould reformat:?) \S+.*$"),
    ("lint", 1, True, 0, 0, ("--> ",), r"^\s*--> \S+\.pyi?:\d+:\d+$"),
    ("lint", 3, True, 0, 0, (": [error]", ": [warning]"), r"^\S+\.ya?ml:\d+:\d+: \[(?:error|warning)\].*$"),
    ("lint", 3, True, 0, 0, ("error ", "warning "), r"^\s+\d+:\d+\s+(?:error|warning)\s+.*\([\w-]+\)$"),
    ("lint", 3, True, 0, 0, (": error: ",), r"^\S+\.pyi?:\d+: error: .*$"),
    ("lint", 4, True, 0, 0, ("failure(s)",), r"^Failed: \d+ failure\(s\).*$"),
    ("lint", 3, True, 0, 0, (".yml:", ".yaml:"), r"^\S+\.ya?ml:\d+(?::\d+)?: [a-z-]+\[[a-z-]+\].*$"),
    # sast
    ("sast", 5, True, 0, 4, ("\n>> issue:",), r"^>> Issue: \[B\d{3}:\w+\].*$"),
    ("sast", 1, True, 0, 0, ("location:",), r"^\s+Location: \S+:\d+:\d+$"),
    ("sast", 1, False, 0, 0, ("confidence:",), r"^\s+Severity: (?:High|Medium|Low)\s+Confidence:"),
    ("sast", 2, False, 0, 0, ("\nrun started:",), r"^Run started:"),
    ("sast", 5, True, 0, 2, ("\u2771 ",), r"^\s*(?:\u276f\u276f\u2771|\u276f\u2771|\u2771) [\w.-]+$"),
    # sca
    ("sca", 6, True, 0, 0, ("known vulnerabilit",), r"^Found \d+ known vulnerabilit(?:y|ies) in \d+ packages?.*$"),
    (
        "sca",
        2,
        True,
        0,
        0,
        ("pysec-", "ghsa-", "cve-"),
        r"^\S+ +\S+ +(?:PYSEC-\d{4}-\d+|GHSA-[\w-]{14}|CVE-\d{4}-\d+) .*$",
    ),
    (
        "sca",
        5,
        True,
        0,
        1,
        ("severity vulnerability found",),
        r"✗ (?:Low|Medium|High|Critical) severity vulnerability found in \S+",
    ),
    ("sca", 1, True, 0, 0, ("introduced through:",), r"^\s*Introduced through: .*$"),
    (
        "sca",
        4,
        True,
        0,
        0,
        ("dependencies for known issues",),
        r"^Tested \d+ dependencies for known issues, found \d+ issues?.*$",
    ),
    (
        "sca",
        3,
        True,
        0,
        0,
        (" severity vulnerabilit",),
        r"^\d+ (?:low|moderate|high|critical) severity vulnerabilit.*$",
    ),
    # container_scan
    (
        "container_scan",
        6,
        True,
        0,
        0,
        ("\ntotal: ",),
        r"^Total: \d+ \((?:UNKNOWN: \d+, )?(?:LOW: \d+, )?(?:MEDIUM: \d+, )?(?:HIGH: \d+, )?CRITICAL: \d+\)",
    ),
    ("container_scan", 3, True, 0, 0, ("cve-",), r"^[│|] *[^│|\n]*[│|] *CVE-\d{4}-\d+ *[│|] *CRITICAL *[│|].*$"),
    ("container_scan", 1, True, 0, 0, ("cve-",), r"^[│|] *[^│|\n]*[│|] *CVE-\d{4}-\d+ *[│|] *HIGH *[│|].*$"),
    (
        "container_scan",
        2,
        False,
        0,
        0,
        ("(debian", "(alpine", "(ubuntu", "(redhat", "(centos", "(amazon", "(rocky", "(wolfi"),
        r"\((?:debian|alpine|ubuntu|redhat|centos|amazon|rocky|wolfi)[ \d.]*\)$",
    ),
    ("container_scan", 2, False, 0, 0, ("detected os",), r"\bDetected OS\b"),
    ("container_scan", 4, True, 0, 0, ("fixed-in",), r"^NAME +INSTALLED +FIXED-IN +TYPE +VULNERABILITY +SEVERITY"),
    # secrets
    ("secrets", 4, True, 0, 0, ("\nruleid:",), r"^RuleID:\s+\S+$"),
    ("secrets", 1, True, 0, 0, ("\nfile:",), r"^File:\s+\S+$"),
    ("secrets", 2, False, 0, 0, ("\nfinding:",), r"^Finding:\s+"),
    ("secrets", 5, True, 0, 0, ("leaks found:",), r"\bleaks found: \d+"),
    ("secrets", 5, True, 0, 0, ("leaks detected",), r"Leaks detected.*$"),
    ("secrets", 2, True, 0, 0, ('"type": "',), r'^\s*"type": "[^"\n]+",?$'),
    ("secrets", 2, False, 0, 0, ('"hashed_secret"',), r'"hashed_secret": "'),
    ("secrets", 6, True, 0, 0, ("potential secrets",), r"^ERROR: Potential secrets about to be committed.*$"),
    ("secrets", 3, True, 0, 0, ("\nsecret type:",), r"^Secret Type: .*$"),
    ("secrets", 1, True, 0, 0, ("location:",), r"^Location:\s+\S+:\d+$"),
    ("secrets", 5, True, 0, 3, ("verified result",), r"Found (?:verified|unverified) result"),
    # training
    ("training", 6, True, 0, 0, ("loss",), r"(?i)\bloss(?: is|:|=| =)\s*(?:nan|inf)\b.*$"),
    (
        "training",
        4,
        True,
        0,
        0,
        ("nan loss", "nan detected", "nan encountered"),
        r"(?i)\bnan (?:loss|detected|encountered)\b.*$",
    ),
    ("training", 4, True, 2, 0, ("floatingpointerror",), r"^FloatingPointError: .*$"),
    ("training", 6, True, 2, 1, ("contains nan", "contains infinity"), r"Input (?:X |y )?contains (?:NaN|infinity).*$"),
    ("training", 6, True, 2, 0, ("is expecting",), r"X has \d+ features, but \w+ is expecting \d+ features.*$"),
    ("training", 6, True, 1, 0, ("cuda out of memory",), r"CUDA out of memory.*$"),
    ("training", 1, False, 0, 0, ("\nepoch ",), r"(?i)^epoch \d+"),
    (
        "training",
        2,
        False,
        0,
        0,
        ("runtimewarning",),
        r"RuntimeWarning: (?:overflow|invalid value|divide by zero) encountered",
    ),
    ("training", 2, False, 0, 0, ("convergencewarning",), r"ConvergenceWarning"),
    # model_validation
    ("model_validation", 8, True, 1, 0, ("model validation failed",), r"(?i)model validation failed.*$"),
    (
        "model_validation",
        5,
        True,
        0,
        0,
        ("below", "under", "<"),
        r"(?i)\b(?:accuracy|f1\w*|auc|rmse|precision|recall)\b[^\n]{0,40}?(?:below|under|<)"
        r"(?: the)?(?: threshold| gate)? *[\d.]+",
    ),
    (
        "model_validation",
        7,
        True,
        2,
        0,
        ("drift detected",),
        r"(?i)\b(?:data|concept|prediction|feature) drift detected.*$",
    ),
    ("model_validation", 1, True, 0, 0, ("\npsi",), r"(?i)^psi\s+\S+\s+[\d.]+$"),
    (
        "model_validation",
        5,
        True,
        1,
        0,
        ("missing column", "schema mismatch", "unexpected column"),
        r"(?i)\b(?:missing columns?|schema mismatch|unexpected columns?)\b.*$",
    ),
    ("model_validation", 1, False, 0, 0, ("evaluation",), r"(?i)\bevaluation\b"),
    # k8s_crashloop
    ("k8s_crashloop", 5, True, 1, 3, ("crashloopbackoff",), r"\bCrashLoopBackOff\b.*$"),
    ("k8s_crashloop", 5, True, 0, 0, ("back-off restarting",), r"Back-off restarting failed container.*$"),
    ("k8s_crashloop", 2, False, 0, 3, ("last state:",), r"^\s+Last State:\s+Terminated"),
    ("k8s_crashloop", 1, True, 0, 0, ("exit code:",), r"^\s+Exit Code:\s+[1-9]\d*$"),
    ("k8s_crashloop", 2, False, 0, 0, ("--previous",), r"kubectl (?:-n \S+ )?logs .*--previous"),
    # k8s_oom
    ("k8s_oom", 7, True, 1, 2, ("oomkilled",), r"OOMKilled\b.*$"),
    ("k8s_oom", 4, True, 0, 0, ("exit code:",), r"Exit Code:\s+137\b"),
    ("k8s_oom", 7, True, 0, 0, ("memory cgroup out of memory",), r"Memory cgroup out of memory.*$"),
    ("k8s_oom", 5, True, 0, 0, ("oom-killer",), r"invoked oom-killer.*$"),
    ("k8s_oom", 3, False, 0, 0, ("oom-kill:",), r"\boom-kill:"),
    # k8s_image_pull
    (
        "k8s_image_pull",
        6,
        True,
        0,
        0,
        ("errimagepull", "imagepullbackoff", "invalidimagename", "errimageneverpull"),
        r"\b(?:ErrImagePull|ImagePullBackOff|InvalidImageName|ErrImageNeverPull)\b.*$",
    ),
    ("k8s_image_pull", 6, True, 0, 0, ("failed to pull image",), r"Failed to pull image.*$"),
    ("k8s_image_pull", 3, True, 0, 0, ("back-off pulling image",), r"Back-off pulling image.*$"),
    # k8s_probe
    ("k8s_probe", 7, True, 0, 0, ("probe failed",), r"(?:Readiness|Liveness|Startup) probe failed.*$"),
    (
        "k8s_probe",
        5,
        True,
        0,
        0,
        ("failed liveness", "failed readiness", "failed startup"),
        r"failed (?:liveness|readiness|startup) probe.*$",
    ),
    (
        "k8s_probe",
        1,
        False,
        0,
        0,
        ("readiness:", "liveness:", "startup:"),
        r"^\s+(?:Readiness|Liveness|Startup):\s+(?:http-get|exec|tcp-socket)",
    ),
    # k8s_latency
    ("k8s_latency", 8, True, 0, 0, ('"alertname":',), r'"alertname": ?"\w*(?:Latency|Slow)\w*"'),
    ("k8s_latency", 8, True, 0, 0, ("alertname=",), r"\balertname=\"?\w*(?:Latency|Slow)\w*"),
    ("k8s_latency", 3, False, 0, 0, ("histogram_quantile(",), r"histogram_quantile\("),
    ("k8s_latency", 3, False, 0, 0, ("_seconds_",), r"(?:request_duration|latency)_seconds_(?:bucket|count)"),
    ("k8s_latency", 2, True, 0, 0, ("\n{",), r"^\{[^}\n]*\} => [\d.eE+-]+ @\[.*$"),
    ("k8s_latency", 5, True, 0, 0, (" latency",), r"(?i)\bp(?:9[059]|50) latency\b.*$"),
    ("k8s_latency", 3, True, 0, 0, ("latency",), r"(?i)\blatency\b[^\n]*\b(?:threshold|above|exceeds?)\b.*$"),
    ("k8s_latency", 5, True, 0, 0, ("upstream request timeout",), r"(?i)upstream request timeout.*$"),
    ("k8s_latency", 3, True, 0, 0, ("slow request",), r"(?i)\bslow request\b.*$"),
    # argocd_sync
    ("argocd_sync", 7, True, 0, 0, ("comparisonerror",), r"\bComparisonError\b.*$"),
    ("argocd_sync", 7, True, 0, 0, ("failed to apply",), r"one or more objects failed to apply.*$"),
    (
        "argocd_sync",
        4,
        True,
        0,
        0,
        ("completed with phase",),
        r"Operation has completed with phase: (?:Failed|Error).*$",
    ),
    ("argocd_sync", 6, True, 0, 0, ("failed to sync app",), r"Failed to sync app.*$"),
    ("argocd_sync", 5, True, 0, 0, ("syncerror", "syncfailed"), r"\bSync(?:Error|Failed)\b.*$"),
    (
        "argocd_sync",
        3,
        True,
        0,
        0,
        ("outofsync ",),
        r"\bOutOfSync +(?:Missing|Degraded|Healthy|Progressing|Suspended|Unknown) +\S.*$",
    ),
    ("argocd_sync", 2, False, 0, 0, ("sync status:",), r"^Sync Status:\s+(?:OutOfSync|Unknown)"),
    ("argocd_sync", 1, False, 0, 0, ("application=argocd/",), r"\bapplication=argocd/"),
    # infra
    ("infra", 6, True, 0, 3, ("unreachable!",), r"UNREACHABLE! =>.*$"),
    ("infra", 5, True, 0, 0, ("failed to connect to the host",), r"Failed to connect to the host via ssh.*$"),
    ("infra", 5, True, 0, 0, ("failed! =>",), r"^fatal: \[[^\]\n]+\]: FAILED! =>.*$"),
    ("infra", 6, True, 0, 0, ("no matching distribution",), r"No matching distribution found for.*$"),
    (
        "infra",
        3,
        True,
        0,
        0,
        ("could not find a version",),
        r"Could not find a version that satisfies the requirement \S+",
    ),
    ("infra", 5, True, 0, 0, ("[rejected]",), r"! \[rejected\].*$"),
    ("infra", 5, True, 0, 0, ("failed to push",), r"^error: failed to push some refs.*$"),
    ("infra", 6, True, 0, 1, ("(gcloud.",), r"^ERROR: \(gcloud\.[\w.-]+\).*$"),
    ("infra", 6, True, 0, 0, ("quota '",), r"Quota '[\w_]+' exceeded.*$"),
    ("infra", 6, True, 0, 0, ("no space left",), r"No space left on device.*$"),
    (
        "infra",
        3,
        True,
        0,
        0,
        ("dial tcp",),
        r"dial tcp [\w.:\[\]-]+: (?:i/o timeout|connect: connection refused|connect: no route to host).*$",
    ),
    ("infra", 5, True, 0, 0, ("failed to get ca certs",), r"failed to get CA certs.*$"),
    ("infra", 5, True, 0, 0, ("shutdown signal",), r"The runner has received a shutdown signal.*$"),
    ("infra", 5, True, 0, 2, ("│ error: ",), r"^│ Error: .*$"),
    (
        "infra",
        5,
        True,
        0,
        0,
        ("cluster unreachable", "installation failed"),
        r"Error: (?:Kubernetes cluster unreachable|INSTALLATION FAILED).*$",
    ),
    # generic: decisive candidates that say nothing about the category
    (None, 2, True, 0, 0, ("##[error]",), r"^##\[error\].*$"),
    (
        None,
        2,
        True,
        3,
        0,
        ("error", "exception", "failure", "fault"),
        r"^[\w.]*(?:Error|Exception|Failure|Fault)\b:? .*$",
    ),
    (None, 1, True, 0, 0, ("\nerror", "\nfatal", "\npanic"), r"(?i)^(?:error|fatal|panic)\b[:!]? .*$"),
    (None, 1, True, 0, 0, ("level=error", "level=fatal"), r"\blevel=(?:error|fatal)\b.*$"),
    (None, 1, True, 0, 0, ("code ", "status "), r"(?i)\bexit(?:ed)? (?:with )?(?:code|status) [1-9]\d*.*$"),
    (None, 2, True, 0, 0, ('"alertname":',), r'"alertname": ?"[^"\n]+"'),
    (
        None,
        0.5,
        True,
        0,
        0,
        ("mismatch", "broken", "not found", "failed", "invalid", "denied", "cannot", "unable to", "problem"),
        r"(?i)\b(?:mismatch|broken|not found|failed|invalid|denied|cannot|unable to|problems?)\b.*$",
    ),
]


@dataclasses.dataclass(frozen=True)
class Rule:
    """One rule of the table above, with its pattern compiled."""

    category: str | None
    weight: float
    decisive: bool
    before: int
    after: int
    keys: tuple
    regex: re.Pattern


_COMPILED = [
    Rule(category=c, weight=w, decisive=d, before=b, after=a, keys=k, regex=re.compile(p, re.M))
    for c, w, d, b, a, k, p in _RULES
]
_ASCII_LOWER = {i: i + 32 for i in range(65, 91)}


def line_starts(lines):
    """The offset of every line of the text ``"\\n".join(lines)``."""
    starts = []
    pos = 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    return starts


def scan(text, starts):
    """Yield (line index, rule) for each line a rule matches, at most MAX_MATCHES_PER_RULE a rule."""
    low = "\n" + text.lower()
    if len(low) != len(text) + 1:
        low = "\n" + text.translate(_ASCII_LOWER)
    nlines = len(starts)
    for rule in _COMPILED:
        rx = rule.regex
        seen = set()
        for key in rule.keys:
            shift = 0 if key.startswith("\n") else 1
            pos = low.find(key)
            while pos != -1 and len(seen) < MAX_MATCHES_PER_RULE:
                i = bisect.bisect_right(starts, pos - shift) - 1
                end = starts[i + 1] - 1 if i + 1 < nlines else len(text)
                if i not in seen:
                    seen.add(i)
                    if rx.search(text, starts[i], end):
                        yield i, rule
                pos = low.find(key, end + 1) if i + 1 < nlines else -1


def classify_scores(hits):
    """Category scores from rule hits: each rule counts at most COUNT_CAP times."""
    counts = {}
    for _i, rule in hits:
        if rule.category is not None:
            counts[id(rule)] = (rule, counts.get(id(rule), (rule, 0))[1] + 1)
    scores = {}
    for rule, n in counts.values():
        scores[rule.category] = scores.get(rule.category, 0) + rule.weight * min(n, COUNT_CAP)
    return scores


def choose(scores):
    """The category with the highest score (ties go to the one listed first), or other below MIN_CATEGORY_SCORE."""
    if not scores:
        return "other"
    best = max(scores.items(), key=lambda kv: (kv[1], -CATEGORIES.index(kv[0])))
    return best[0] if best[1] >= MIN_CATEGORY_SCORE else "other"
