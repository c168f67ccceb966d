# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules that recognise the failure categories (:mod:`categories`) in a log and its hints.

Each rule names its category (or none, for lines that are decisive whatever the failure), its
weight, a regular expression without nested quantifiers and the literal keys a candidate line must
hold, so a scan is linear in the input; whether a matching line is decisive and how many lines around
it matter. The category table adds a rule per category for its tools' command lines and one for its
alert names. :func:`scan` finds the rule hits (after the prefixes builders put before every line),
:func:`classify_scores` weighs them, :func:`hint_scores` weighs the failing step's, job's and
workflow's names, and :func:`choose` names the category; the excerpt selects lines from the same hits.
"""

from __future__ import annotations

import bisect
import dataclasses
import re

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.categories import CATEGORIES, TABLE

MIN_CATEGORY_SCORE = 4
COUNT_CAP = 3
MAX_MATCHES_PER_RULE = 400
# A tool's command line in the log (flake8 src/, $ trivy image ..., Run bandit -r .) and its name in the
# failing step's name (the first hint) or in the job's or workflow's (the later ones); a weaker word of
# a step or job name (test, lint, train); an alert name's word (ModelPodOOMKilled).
TOOL_LINE_WEIGHT = 4
HINT_TOOL_WEIGHT = 10
HINT_WORD_WEIGHT = 5
LATER_HINT_SHARE = 0.5
ALERT_WEIGHT = 8
# golangci-lint's linters, as it names them at the end of a finding: "... (errcheck)".
GO_LINTERS = (
    "errcheck",
    "govet",
    "staticcheck",
    "gosimple",
    "unused",
    "ineffassign",
    "typecheck",
    "revive",
    "gofmt",
    "goimports",
    "golint",
    "deadcode",
    "structcheck",
    "varcheck",
    "misspell",
    "gocritic",
    "stylecheck",
    "unparam",
    "nakedret",
    "prealloc",
    "dupl",
    "goconst",
    "gocyclo",
    "lll",
)
# What builders put before every line: "[   38s] " (OBS), "[12:01:02] ", an ISO timestamp.
_LINE_PREFIX = re.compile(
    r"^(?:\[ *\d+(?:\.\d+)?s\] |\[\d\d:\d\d:\d\d\] |\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?Z? )",
    re.M,
)


@dataclasses.dataclass(frozen=True)
class Rule:
    """One rule: lines holding one of ``keys`` (lower case; "\\n" = at a line's start) are tried against ``pattern``."""

    category: str | None
    weight: float
    pattern: str
    keys: tuple
    decisive: bool = True
    before: int = 0
    after: int = 0
    regex: re.Pattern = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "regex", re.compile(self.pattern, re.M))


_RULES = [
    # test
    Rule("test", 3, r"^E {2,}\S.*$", ("\ne  ",), before=3),
    Rule("test", 4, r"^(?:FAILED|ERROR) \S+\.py\b.*$", ("\nfailed ", "\nerror ")),
    Rule("test", 4, r"^=+ .*\b\d+ (?:failed|errors?)\b.*=+$", ("failed", "error")),
    Rule("test", 4, r"^(?:\d+ \w+, )*\d+ (?:failed|errors?)(?:, \d+ \w+)* in [\d.]+s\b.*$", (" failed", " error")),
    Rule(
        "test",
        2,
        r"^_{3,} (?:ERROR at setup of |ERROR collecting |ERROR at teardown of )?\S+ _{3,}$",
        ("___ ",),
        after=1,
    ),
    Rule("test", 4, r"^FAILED \((?:failures|errors)=\d+.*$", ("\nfailed (",)),
    Rule("test", 3, r"Interrupted: \d+ errors? during collection", ("during collection",)),
    Rule(
        "test",
        2,
        r"^=+ (?:FAILURES|ERRORS|short test summary info) =+$",
        ("= failures =", "= errors =", "short test summary"),
        decisive=False,
    ),
    Rule("test", 1, r"^Ran \d+ tests? in ", ("\nran ",), decisive=False),
    Rule("test", 3, r"^>\s+assert\b.*$", ("\n>",), after=1),
    Rule(
        "test", 6, r"ImportError while (?:importing test module|loading conftest).*$", ("importerror while",), after=4
    ),
    Rule("test", 5, r"^(?:_pytest\.\w+(?:\.\w+)*\.)?(?:UsageError|Failed): .*$", ("usageerror: ", "failed: ")),
    Rule("test", 3, r"/_pytest/", ("/_pytest/",), decisive=False),
    Rule("test", 5, r"^(?:pytest|py\.test): error: .*$", ("pytest: error",)),
    Rule(
        "test",
        6,
        r"^ERROR: +[\w.-]+: (?:commands failed|InvocationError).*$",
        (": commands failed", ": invocationerror"),
    ),
    Rule("test", 6, r"^\s*[\w.-]+: FAIL code \d+.*$", (": fail code ",)),
    Rule("test", 4, r"InvocationError for command .*$", ("invocationerror for",)),
    Rule("test", 6, r"^nox > Session \S+ failed\..*$", ("nox > session",)),
    Rule("test", 3, r"^(?:FAIL|ERROR): \w+ \([\w.]+\).*$", ("\nfail: ", "\nerror: ")),
    Rule("test", 2, r"^collected \d+ items?(?: / \d+ errors?)?", ("\ncollected ",), decisive=False),
    Rule("test", 2, r"^=+ test session starts =+$", ("test session starts",), decisive=False),
    Rule("test", 4, r"^--- FAIL: Test\w+.*$", ("--- fail: ",)),
    Rule("test", 3, r"^FAIL\s+\S+\s+[\d.]+s$", ("\nfail",)),
    Rule("test", 5, r"^ ?FAIL +\S+\.(?:test|spec)\.[jt]sx?\b.*$", ("fail ",)),
    Rule("test", 3, r"^\s+\u25cf .+ \u203a .*$", ("\u25cf ",)),
    Rule("test", 5, r"^(?:Tests|Test Suites): +\d+ failed\b.*$", ("tests:", "test suites:")),
    # lint
    Rule("lint", 2, r"^\S+\.pyi?:\d+:\d+: [A-Z]{1,3}\d{2,4}\b.*$", (".py",)),
    Rule("lint", 4, r"^Found \d+ errors?\.$", ("\nfound ",)),
    Rule("lint", 5, r"^\d+ files? would be reformatted.*$", ("would be reformatted",)),
    Rule("lint", 4, r"^(?:[Ww]ould reformat:?) \S+.*$", ("would reformat",)),
    Rule("lint", 1, r"^\s*--> \S+\.pyi?:\d+:\d+$", ("--> ",)),
    Rule("lint", 3, r"^\S+\.ya?ml:\d+:\d+: \[(?:error|warning)\].*$", (": [error]", ": [warning]")),
    Rule("lint", 3, r"^\s+\d+:\d+\s+(?:error|warning)\s+.*\([\w-]+\)$", ("error ", "warning ")),
    Rule("lint", 3, r"^\S+\.pyi?:\d+: error: .*$", (": error: ",)),
    Rule("lint", 4, r"^Failed: \d+ failure\(s\).*$", ("failure(s)",)),
    Rule("lint", 3, r"^\S+\.ya?ml:\d+(?::\d+)?: [a-z-]+\[[a-z-]+\].*$", (".yml:", ".yaml:")),
    Rule("lint", 5, r"^ERROR: \S+ Imports are incorrectly sorted.*$", ("incorrectly sorted",)),
    Rule("lint", 2, r"^Your code has been rated at -?[\d.]+/10.*$", ("has been rated at",)),
    Rule("lint", 4, r"^In \S+ line \d+:$", ("\nin ",), after=3),
    Rule("lint", 3, r"\^-+ SC\d{4}(?: \(\w+\))?: .*$", ("-- sc",)),
    Rule("lint", 3, r"^\S+:\d+ DL\d{4} .*$", (" dl3", " dl4")),
    Rule("lint", 4, r"Code style issues (?:found|were found).*$", ("code style issues",)),
    Rule("lint", 3, r"^\S+\.go:\d+:\d+: .* \([\w-]+\)$", (".go:",)),
    Rule("lint", 2, r"^\S+\.pyi?:\d+:\d+: (?:error|warning): .*$", (": error: ", ": warning: ")),
    Rule("lint", 3, r"\((?:%s)\)$" % "|".join(GO_LINTERS), tuple("(%s)" % n for n in GO_LINTERS)),
    Rule("lint", 4, r"Running \[\S*golangci-lint\b", ("golangci-lint",), decisive=False),
    # sast
    Rule("sast", 5, r"^>> Issue: \[B\d{3}:\w+\].*$", ("\n>> issue:",), after=4),
    Rule("sast", 1, r"^\s+Location: \S+:\d+:\d+$", ("location:",)),
    Rule("sast", 1, r"^\s+Severity: (?:High|Medium|Low)\s+Confidence:", ("confidence:",), decisive=False),
    Rule("sast", 2, r"^Run started:", ("\nrun started:",), decisive=False),
    Rule("sast", 5, r"^\s*(?:\u276f\u276f\u2771|\u276f\u2771|\u2771) [\w.-]+$", ("❱ ",), after=2),
    Rule("sast", 6, r"\bG\d{3} \(CWE-\d+\): .*$", (" (cwe-",)),
    Rule("sast", 2, r"^\s*Issues ?: [1-9]\d*$", ("issues",)),
    Rule("sast", 6, r"^\s*Total issues \(by severity\):$", ("total issues (by severity)",), after=5),
    Rule("sast", 2, r"^\s*Nosec ?: \d+$", ("nosec",), decisive=False),
    Rule("sast", 4, r"\b\d+ (?:Code|Blocking) Findings?\b.*$", (" findings", " finding")),
    Rule("sast", 5, r"\bPassed checks: \d+, Failed checks: [1-9]\d*.*$", ("failed checks:",)),
    Rule("sast", 5, r"^\s*Check: CKV2?_\w+: .*$", ("check: ckv",)),
    Rule("sast", 4, r"^\s*FAILED for resource: .*$", ("failed for resource:",)),
    # sca
    Rule("sca", 2, r"^\S+ +\S+ +(?:PYSEC-\d{4}-\d+|GHSA-[\w-]{14}|CVE-\d{4}-\d+) .*$", ("pysec-", "ghsa-", "cve-")),
    Rule(
        "sca",
        5,
        r"✗ (?:Low|Medium|High|Critical) severity vulnerability found in \S+",
        ("severity vulnerability found",),
        after=1,
    ),
    Rule("sca", 1, r"^\s*Introduced through: .*$", ("introduced through:",)),
    Rule(
        "sca", 4, r"^Tested \d+ dependencies for known issues, found \d+ issues?.*$", ("dependencies for known issues",)
    ),
    Rule("sca", 3, r"^\d+ (?:low|moderate|high|critical) severity vulnerabilit.*$", (" severity vulnerabilit",)),
    # pip-audit and Safety: "Found 2 known vulnerabilities, ignored 1 in 1 package", "Found 3 vulnerabilities:".
    Rule(
        "sca",
        6,
        r"^(?:Error: )?Found \d+ (?:known )?vulnerabilit(?:y|ies)(?:(?:, ignored \d+)? in \d+ packages?.*|:?)$",
        ("vulnerabilit",),
    ),
    Rule("sca", 4, r"^Name +Version +ID +Fix Versions\b", ("fix versions",), decisive=False),
    Rule("sca", 6, r"^Vulnerability #\d+: GO-\d{4}-\d+.*$", ("vulnerability #",)),
    Rule("sca", 2, r"^\s+Found in: \S+@\S+$", ("found in: ",)),
    Rule("sca", 6, r"Your code is affected by \d+ vulnerabilit.*$", ("your code is affected",)),
    Rule("sca", 5, r"\bRUSTSEC-\d{4}-\d{4}\b.*$", ("rustsec-",)),
    Rule("sca", 6, r"^error: \d+ vulnerabilit(?:y|ies) found!?.*$", ("vulnerabilit",)),
    Rule("sca", 5, r"-> Vulnerability (?:found|reported) in .*$", ("-> vulnerability",)),
    Rule("sca", 4, r"checked \d+ packages, using\b", ("checked ",), decisive=False),
    Rule("sca", 5, r"VULNERABILITIES (?:FOUND|REPORTED).*$", ("vulnerabilities found", "vulnerabilities reported")),
    Rule("sca", 3, r"^\| [\w.\[\]-]+ +\| [\w.]+ +\| [^|\n]+\| \d{4,} +\|$", ("|",)),
    Rule(
        "sca",
        6,
        r"One or more dependencies were identified with (?:known )?vulnerabilities.*$",
        ("dependencies were identified with",),
    ),
    Rule("sca", 3, r"https://osv\.dev/\S+", ("osv.dev/",)),
    Rule("sca", 6, r"^Vulnerabilities found!.*$", ("vulnerabilities found!",)),
    Rule("sca", 4, r"^Advisory: (?:CVE|GHSA|OSVDB)-[\w-]+.*$", ("advisory: ",)),
    Rule("sca", 2, r"^Criticality: \w+", ("criticality: ",), decisive=False),
    Rule("sca", 3, r"^Solution: (?:upgrade|update|remove)\b.*$", ("solution: ",)),
    Rule("sca", 3, r"\(pkg:\w+/[^)\n]+\): (?:CVE-\d{4}-\d+|GHSA-[\w-]{14}).*$", ("(pkg:",)),
    # container_scan
    Rule(
        "container_scan",
        6,
        r"^Total: \d+ \((?:UNKNOWN: \d+, )?(?:LOW: \d+, )?(?:MEDIUM: \d+, )?(?:HIGH: \d+, )?CRITICAL: \d+\)",
        ("\ntotal: ",),
    ),
    Rule("container_scan", 3, r"^[│|] *[^│|\n]*[│|] *CVE-\d{4}-\d+ *[│|] *CRITICAL *[│|].*$", ("cve-",)),
    Rule("container_scan", 1, r"^[│|] *[^│|\n]*[│|] *CVE-\d{4}-\d+ *[│|] *HIGH *[│|].*$", ("cve-",)),
    Rule(
        "container_scan",
        2,
        r"\((?:debian|alpine|ubuntu|redhat|centos|amazon|rocky|wolfi)[ \d.]*\)$",
        ("(debian", "(alpine", "(ubuntu", "(redhat", "(centos", "(amazon", "(rocky", "(wolfi"),
        decisive=False,
    ),
    Rule("container_scan", 2, r"\bDetected OS\b", ("detected os",), decisive=False),
    Rule("container_scan", 4, r"^NAME +INSTALLED +FIXED-IN +TYPE +VULNERABILITY +SEVERITY", ("fixed-in",)),
    Rule("container_scan", 6, r"by severity: \d+ critical, \d+ high\b.*$", ("by severity:",)),
    Rule("container_scan", 3, r"Scanned for vulnerabilities\b", ("scanned for vulnerabilities",), decisive=False),
    Rule(
        "container_scan",
        3,
        r"^\S+ +\S+ +(?:\S+ +)?(?:deb|apk|rpm|binary|go-module|java-archive"
        r"|npm|python|gem) +(?:CVE-\d{4}-\d+|GHSA-[\w-]{14}) +\w+.*$",
        ("cve-", "ghsa-"),
    ),
    Rule("container_scan", 2, r"\b(?:CVE-\d{4}-\d+|GHSA-[\w-]{14}) +(?:Critical|High)\b.*$", ("cve-", "ghsa-")),
    Rule("container_scan", 6, r"^\s*\d+ vulnerabilities found in \d+ packages?.*$", ("vulnerabilities found in",)),
    Rule("container_scan", 2, r"^\s+(?:CRITICAL|HIGH) +[1-9]\d*\s*$", ("critical", "high")),
    Rule("container_scan", 4, r"\u2717 (?:CRITICAL|HIGH) CVE-\d{4}-\d+.*$", ("\u2717 critical", "\u2717 high")),
    Rule("container_scan", 3, r"^\S+ found \S+ +\S+ +CVE-\d{4}-\d+ on .+ - \w+$", (" found ",)),
    Rule(
        "container_scan",
        3,
        r"^CVE-\d{4}-\d+: \[(?:Critical|High|Medium|Low|Negligible|Unknown|Defcon1)\].*$",
        ("\ncve-",),
    ),
    Rule("container_scan", 2, r"^Found in: \S+ \[[^\]\n]+\]$", ("found in: ",)),
    Rule(
        "container_scan",
        4,
        r"^(?:Analysing \d+ layers|Got results from Clair API)",
        ("analysing ", "got results from clair"),
        decisive=False,
    ),
    Rule(
        "container_scan",
        5,
        r"(?i)\bLibrary\s*[\u2502|]\s*Vulnerability(?: ID)?\s*[\u2502|]\s*Severity\b",
        ("vulnerability",),
        decisive=False,
    ),
    # secrets
    Rule("secrets", 4, r"^RuleID:\s+\S+$", ("\nruleid:",)),
    Rule("secrets", 1, r"^File:\s+\S+$", ("\nfile:",)),
    Rule("secrets", 2, r"^Finding:\s+", ("\nfinding:",), decisive=False),
    Rule("secrets", 5, r"\bleaks found: \d+", ("leaks found:",)),
    Rule("secrets", 5, r"Leaks detected.*$", ("leaks detected",)),
    Rule("secrets", 2, r'^\s*"type": "[^"\n]+",?$', ('"type": "',)),
    Rule("secrets", 2, r'"hashed_secret": "', ('"hashed_secret"',), decisive=False),
    Rule("secrets", 6, r"^ERROR: Potential secrets about to be committed.*$", ("potential secrets",)),
    Rule("secrets", 3, r"^Secret Type: .*$", ("\nsecret type:",)),
    Rule("secrets", 1, r"^Location:\s+\S+:\d+$", ("location:",)),
    Rule("secrets", 5, r"Found (?:verified|unverified) result", ("verified result",), after=3),
    Rule("secrets", 6, r"GH013: Repository rule violations found.*$", ("gh013",)),
    Rule("secrets", 7, r"Push cannot contain secrets.*$", ("push cannot contain secrets",)),
    Rule("secrets", 4, r"GITHUB PUSH PROTECTION", ("push protection",), decisive=False),
    Rule("secrets", 3, r"\u2014\u2014 [^\u2014\n]+ \u2014{3,}", ("\u2014\u2014 ",)),
    Rule("secrets", 4, r"\b\d+ (?:incidents?|secrets?) (?:detected|found)\b.*$", (" detected", " found")),
    Rule("secrets", 4, r"^\s*Detector Type: \S+.*$", ("detector type:",)),
    Rule("secrets", 2, r"^\s*(?:Raw result|Secret):\s+\S+", ("raw result:", "secret:"), decisive=False),
    Rule("secrets", 6, r"\[ERROR\] Matched one or more prohibited patterns.*$", ("prohibited patterns",)),
    Rule("secrets", 5, r"\b\d+ incidents? (?:has|have) been found\b.*$", ("been found",)),
    Rule("secrets", 4, r'"(?:RuleID|offender|Match)": "', ('"ruleid":', '"offender":')),
    Rule("secrets", 3, r"^Fingerprint:\s+\S+:\S+:[\w-]+:\d+$", ("fingerprint:",)),
    Rule("secrets", 3, r"TruffleHog\. Unearth your secrets", ("unearth your secrets",), decisive=False),
    Rule(
        "secrets", 4, r"^Reason: (?:High Entropy|[\w ]*(?:Key|Token|Secret|Password|Credentials?))\b.*$", ("reason: ",)
    ),
    Rule("secrets", 6, r"\bIncident \d+\(Secrets detection\).*$", ("(secrets detection)",)),
    Rule("secrets", 4, r'"secret_type(?:_display_name)?": "', ('"secret_type',)),
    Rule("secrets", 4, r"(?i)\b(?:potential secrets?|secrets? (?:were |was )?(?:detected|found))\b.*$", ("secret",)),
    # training
    Rule(
        "training", 4, r"(?i)\bnan (?:loss|detected|encountered)\b.*$", ("nan loss", "nan detected", "nan encountered")
    ),
    Rule("training", 4, r"^FloatingPointError: .*$", ("floatingpointerror",), before=2),
    Rule(
        "training",
        6,
        r"Input (?:X |y )?contains (?:NaN|infinity).*$",
        ("contains nan", "contains infinity"),
        before=2,
        after=1,
    ),
    Rule("training", 6, r"X has \d+ features, but \w+ is expecting \d+ features.*$", ("is expecting",), before=2),
    Rule("training", 6, r"CUDA out of memory.*$", ("cuda out of memory",), before=1),
    Rule("training", 1, r"(?i)^epoch \d+", ("\nepoch ",), decisive=False),
    Rule(
        "training",
        2,
        r"RuntimeWarning: (?:overflow|invalid value|divide by zero) encountered",
        ("runtimewarning",),
        decisive=False,
    ),
    Rule("training", 2, r"ConvergenceWarning", ("convergencewarning",), decisive=False),
    Rule("training", 5, r"(?i)\bloss\s*(?:is|:|=)?\s*(?:nan|inf)\b.*$", ("loss",)),
    Rule(
        "training", 4, r"(?:----?>|^\s*File .*, in )\s*\d*\s*[\w.\[\]]+\.fit(?:_transform|_generator)?\(.*$", (".fit",)
    ),
    Rule("training", 3, r"\bin fit\b.*$", ("in fit",), decisive=False),
    Rule("training", 5, r"(?i)^\s*(?:>\s+)?assert\s+[\w.\[\]\"']*acc\w*[\w.\[\]\"']*\s*(?:>=?|<=?)\s*.*$", ("assert",)),
    Rule("training", 5, r"(?i)\btraining (?:job )?failed\b.*$", ("training failed", "training job failed")),
    Rule(
        "training",
        5,
        r"(?:mat1 and mat2 shapes cannot be multiplied|Expected all tensors to be on the same device"
        r"|element 0 of tensors does not require grad).*$",
        ("mat1 and mat2", "same device", "does not require grad"),
    ),
    Rule(
        "training",
        5,
        r"(?:Found input variables with inconsistent numbers of samples"
        r"|Unknown label type|needs samples of at least 2 classes).*$",
        ("inconsistent numbers of samples", "unknown label type", "at least 2 classes"),
    ),
    Rule("training", 5, r"Shapes \([^)\n]*\) and \([^)\n]*\) are incompatible.*$", ("are incompatible",)),
    Rule(
        "training",
        4,
        r"(?:logits and labels must have the same|NaN or Inf found in input tensor|Gradient overflow).*$",
        ("logits and labels", "nan or inf found", "gradient overflow"),
    ),
    Rule("training", 4, r"\bXGBoostError\b.*$|\[LightGBM\] \[Fatal\].*$", ("xgboosterror", "[lightgbm] [fatal]")),
    Rule(
        "training",
        3,
        r"\b(?:train_function|train_step|trainer\.train\(|\.train\()",
        ("train_function", "train_step", ".train("),
        decisive=False,
    ),
    Rule(
        "training",
        5,
        r"Expected input batch_size \(\d+\) to match target batch_size.*$",
        ("to match target batch_size",),
    ),
    Rule("training", 4, r"The size of tensor a \(\d+\) must match the size of tensor b.*$", ("size of tensor a",)),
    Rule(
        "training",
        4,
        r"(?:Target -?\d+ is out of bounds|CUDA error: device-side assert triggered|CUBLAS_STATUS_\w+).*$",
        ("is out of bounds", "device-side assert", "cublas_status_"),
    ),
    Rule(
        "training",
        4,
        r"(?:y contains previously unseen labels|Found array with 0 sample|could not convert string to float).*$",
        ("previously unseen labels", "found array with 0 sample", "could not convert string to float"),
    ),
    Rule("training", 3, r"\blbfgs failed to converge\b.*$", ("failed to converge",)),
    # model_validation
    Rule("model_validation", 8, r"(?i)model validation failed.*$", ("model validation failed",), before=1),
    Rule(
        "model_validation",
        5,
        r"(?i)\b(?:accuracy|f1\w*|auc|rmse|precision|recall)\b[^\n]{0,40}?(?:below"
        r"|under|<)(?: the)?(?: threshold| gate)? *[\d.]+",
        ("below", "under", "<"),
    ),
    Rule("model_validation", 1, r"(?i)^psi\s+\S+\s+[\d.]+$", ("\npsi",)),
    Rule(
        "model_validation",
        5,
        r"(?i)\b(?:missing columns?|schema mismatch|unexpected columns?)\b.*$",
        ("missing column", "schema mismatch", "unexpected column"),
        before=1,
    ),
    Rule("model_validation", 1, r"(?i)\bevaluation\b", ("evaluation",), decisive=False),
    Rule("model_validation", 7, r"(?i)\bdrift detected\b.*$", ("drift detected",)),
    Rule("model_validation", 6, r"Drift is detected for \d+ out of \d+ columns.*$", ("drift is detected",)),
    Rule("model_validation", 3, r"(?i)\b(?:dataset drift|share of drifted|drift share)\b", ("drift",), decisive=False),
    Rule("model_validation", 7, r"Failed to enforce schema.*$", ("failed to enforce schema",)),
    Rule("model_validation", 7, r"Model is missing inputs.*$", ("model is missing inputs",)),
    Rule("model_validation", 3, r"\b_enforce_schema\b", ("_enforce_schema",), decisive=False),
    Rule("model_validation", 7, r"A total of \d+ schema errors were found.*$", ("schema errors were found",)),
    Rule("model_validation", 4, r"SchemaErrorReason\.\w+: \d+.*$", ("schemaerrorreason.",)),
    Rule("model_validation", 4, r"\bSchemaErrors?\(.*$", ("schemaerror",)),
    Rule("model_validation", 4, r"\bvalidator failed\b.*$", ("validator failed",)),
    Rule("model_validation", 3, r'^\s*"success": false,?$', ('"success": false',)),
    Rule("model_validation", 3, r'^\s*"unexpected_percent": [\d.]+,?$', ('"unexpected_percent"',)),
    Rule("model_validation", 4, r'"expectation_type": "expect_\w+"', ("expectation_type",), decisive=False),
    Rule("model_validation", 5, r"(?i)\bacceptance\b[^\n]*\bFAIL(?:ED)?\b.*$", ("acceptance",)),
    Rule(
        "model_validation",
        6,
        r"(?i)\b(?:quality|accuracy|validation|model|metric) gate\b[^\n]*\b(?:fail\w*|not met|blocked)\b.*$",
        (" gate",),
    ),
    Rule(
        "model_validation",
        7,
        r"(?:ModelValidationFailedException|threshold check failed).*$",
        ("modelvalidationfailedexception", "threshold check failed"),
    ),
    Rule(
        "model_validation",
        6,
        r"(?:Incompatible input types for column|Can not safely convert).*$",
        ("incompatible input types", "can not safely convert"),
    ),
    Rule("model_validation", 6, r"failed (?:element-wise|series or dataframe) validator.*$", ("validator",)),
    Rule(
        "model_validation",
        5,
        r"(?:non-nullable series|column '[^'\n]+' not in (?:dataframe|DataFrameSchema)).*$",
        ("non-nullable series", "not in dataframe"),
    ),
    Rule("model_validation", 5, r"(?i)\bexpectations? (?:suite )?(?:failed|not met)\b.*$", ("expectation",)),
    Rule("model_validation", 4, r"(?i)\banomal(?:y|ies) (?:found|detected)\b.*$", ("anomal",)),
    # k8s_crashloop
    Rule("k8s_crashloop", 5, r"\bCrashLoopBackOff\b.*$", ("crashloopbackoff",), before=1, after=3),
    Rule("k8s_crashloop", 5, r"Back-off restarting failed container.*$", ("back-off restarting",)),
    Rule("k8s_crashloop", 2, r"^\s+Last State:\s+Terminated", ("last state:",), decisive=False, after=3),
    Rule("k8s_crashloop", 1, r"^\s+Exit Code:\s+[1-9]\d*$", ("exit code:",)),
    Rule("k8s_crashloop", 1, r"^\s+Restart Count:\s+[1-9]\d*$", ("restart count:",)),
    Rule("k8s_crashloop", 2, r"kubectl (?:-n \S+ )?logs .*--previous", ("--previous",), decisive=False),
    Rule("k8s_crashloop", 5, r"^[\w.]*OperationalError: .*$", ("operationalerror: ",)),
    Rule(
        "k8s_crashloop",
        4,
        r"(?:could not connect to server|Is the server running on host"
        r"|Can't connect to MySQL server|password authentication failed for user).*$",
        (
            "could not connect to server",
            "is the server running",
            "can't connect to mysql",
            "password authentication failed",
        ),
    ),
    Rule(
        "k8s_crashloop",
        6,
        r"(?:Application startup failed|Worker failed to boot).*$",
        ("application startup failed", "worker failed to boot"),
    ),
    Rule(
        "k8s_crashloop",
        6,
        r"(?:exec format error|exec user process caused).*$",
        ("exec format error", "exec user process caused"),
    ),
    Rule(
        "k8s_crashloop",
        5,
        r"(?:OCI runtime create failed|failed to create containerd task|RunContainerError).*$",
        ("oci runtime create failed", "failed to create containerd task", "runcontainererror"),
    ),
    Rule("k8s_crashloop", 3, r"\b(?:pyfunc\.)?load_model\(.*$", ("load_model(",)),
    Rule(
        "k8s_crashloop",
        4,
        r"(?:Failed to load model|ModelMissingError|storage-initializer).*$",
        ("failed to load model", "modelmissingerror", "storage-initializer"),
    ),
    Rule(
        "k8s_crashloop",
        5,
        r"\b(?:CreateContainerConfigError|CreateContainerError|ContainerCannotRun)\b.*$",
        ("createcontainerconfigerror", "createcontainererror", "containercannotrun"),
    ),
    Rule(
        "k8s_crashloop",
        4,
        r"\bBackoffLimitExceeded\b.*$|Job has reached the specified backoff limit.*$",
        ("backofflimitexceeded", "specified backoff limit"),
    ),
    # k8s_oom
    Rule("k8s_oom", 12, r"OOMKilled\b.*$", ("oomkilled",), before=1, after=2),
    Rule("k8s_oom", 4, r"Exit Code:\s+137\b", ("exit code:",)),
    Rule("k8s_oom", 7, r"Memory cgroup out of memory.*$", ("memory cgroup out of memory",)),
    Rule("k8s_oom", 5, r"invoked oom-killer.*$", ("oom-killer",)),
    Rule("k8s_oom", 3, r"\boom-kill:", ("oom-kill:",), decisive=False),
    Rule("k8s_oom", 6, r"\bEvicted\b.*$", ("evicted",)),
    Rule("k8s_oom", 7, r"The node was low on resource: memory.*$", ("low on resource: memory",)),
    Rule("k8s_oom", 3, r"\bMemoryPressure\b.*$", ("memorypressure",)),
    Rule("k8s_oom", 4, r"(?i)\bexit(?:ed)? (?:with )?(?:code|status):? ?137\b.*$", ("137",)),
    Rule(
        "k8s_oom",
        5,
        r"(?:java\.lang\.OutOfMemoryError|fatal error: runtime: out of memory|JavaScript heap out of memory).*$",
        ("outofmemoryerror", "runtime: out of memory", "heap out of memory"),
    ),
    Rule("k8s_oom", 5, r"Killed process \d+ .*$", ("killed process",)),
    Rule("k8s_oom", 5, r"memory: usage \d+kB, limit \d+kB, failcnt [1-9]\d*.*$", ("failcnt",)),
    Rule("k8s_oom", 7, r"killed as a result of limit of .*$", ("killed as a result of limit",)),
    Rule("k8s_oom", 3, r"Memory cgroup stats for ", ("memory cgroup stats",), decisive=False),
    # k8s_image_pull
    Rule(
        "k8s_image_pull",
        6,
        r"\b(?:ErrImagePull|ImagePullBackOff|InvalidImageName|ErrImageNeverPull)\b.*$",
        ("errimagepull", "imagepullbackoff", "invalidimagename", "errimageneverpull"),
    ),
    Rule("k8s_image_pull", 6, r"Failed to pull image.*$", ("failed to pull image",)),
    Rule("k8s_image_pull", 3, r"Back-off pulling image.*$", ("back-off pulling image",)),
    # k8s_probe
    Rule("k8s_probe", 7, r"(?:Readiness|Liveness|Startup) probe failed.*$", ("probe failed",)),
    Rule(
        "k8s_probe",
        5,
        r"failed (?:liveness|readiness|startup) probe.*$",
        ("failed liveness", "failed readiness", "failed startup"),
    ),
    Rule(
        "k8s_probe",
        1,
        r"^\s+(?:Readiness|Liveness|Startup):\s+(?:http-get|exec|tcp-socket)",
        ("readiness:", "liveness:", "startup:"),
        decisive=False,
    ),
    # k8s_latency
    Rule("k8s_latency", 3, r"histogram_quantile\(", ("histogram_quantile(",), decisive=False),
    Rule("k8s_latency", 3, r"(?:request_duration|latency)_seconds_(?:bucket|count)", ("_seconds_",), decisive=False),
    Rule("k8s_latency", 2, r"^\{[^}\n]*\} => [\d.eE+-]+ @\[.*$", ("\n{",)),
    Rule("k8s_latency", 5, r"(?i)\bp(?:9[059]|50) latency\b.*$", (" latency",)),
    Rule("k8s_latency", 3, r"(?i)\blatency\b[^\n]*\b(?:threshold|above|exceeds?)\b.*$", ("latency",)),
    Rule("k8s_latency", 5, r"(?i)upstream request timeout.*$", ("upstream request timeout",)),
    Rule("k8s_latency", 3, r"(?i)\bslow request\b.*$", ("slow request",)),
    Rule("k8s_latency", 6, r"upstream timed out \(110.*$", ("upstream timed out",)),
    Rule("k8s_latency", 6, r"\b504 Gateway Time-?out\b.*$", ("504 gateway time",)),
    Rule("k8s_latency", 4, r"(?i)\bGateway Time-?out\b.*$", ("gateway time",)),
    Rule("k8s_latency", 5, r"\bresponse_flags?[=:] ?\"?UT\b", ("response_flag",)),
    Rule("k8s_latency", 5, r"upstream_response_timeout", ("upstream_response_timeout",)),
    Rule("k8s_latency", 5, r"\bupstream (?:response )?timeout\b.*$", ("upstream timeout", "upstream response timeout")),
    Rule(
        "k8s_latency",
        5,
        r"(?:curl: \(28\)|Operation timed out after \d+ milliseconds).*$",
        ("curl: (28)", "operation timed out after"),
    ),
    Rule(
        "k8s_latency",
        3,
        r'"(?:time|duration|elapsed|latency)(?:_seconds)?": ?[1-9]\d{2,}\.\d+',
        ('"time":', '"duration":', '"elapsed":', '"latency":', '"time": ', '"duration": '),
    ),
    Rule("k8s_latency", 2, r"(?i)\belapsed time\b", ("elapsed time",), decisive=False),
    Rule(
        "k8s_latency",
        3,
        r"(?i)\b(?:took|duration[=:] ?|elapsed[=:] ?|request_time[=:] ?)\s*\d{4,}(?:\.\d+)? ?ms\b.*$",
        ("took", "duration", "elapsed", "request_time"),
    ),
    Rule("k8s_latency", 2, r"(?i)\b(?:context )?deadline exceeded\b.*$", ("deadline exceeded",)),
    Rule(
        "k8s_latency",
        3,
        r"(?i)\b(?:request|read) timed? ?out\b.*$",
        ("request timed out", "request timeout", "read timed out"),
    ),
    Rule("k8s_latency", 5, r"wal: sync duration of [\d.]+m?s, expected less than .*$", ("sync duration of",)),
    Rule("k8s_latency", 4, r"(?i)\btook too long\b.*$", ("took too long",)),
    Rule(
        "k8s_latency", 5, r"(?:<Response \[504\]>|\bHTTP/\d(?:\.\d)? 504\b|\bstatus(?: code)?[=: ]+504\b).*$", ("504",)
    ),
    Rule("k8s_latency", 3, r"(?i)^\s*elapsed time:?\s+\d{2,}(?:\.\d+)?.*$", ("elapsed time",)),
    # argocd_sync
    Rule("argocd_sync", 7, r"\bComparisonError\b.*$", ("comparisonerror",)),
    Rule("argocd_sync", 7, r"one or more objects failed to apply.*$", ("failed to apply",)),
    Rule("argocd_sync", 4, r"Operation has completed with phase: (?:Failed|Error).*$", ("completed with phase",)),
    Rule("argocd_sync", 6, r"Failed to sync app.*$", ("failed to sync app",)),
    Rule("argocd_sync", 5, r"\bSync(?:Error|Failed)\b.*$", ("syncerror", "syncfailed")),
    Rule(
        "argocd_sync",
        3,
        r"\bOutOfSync +(?:Missing|Degraded|Healthy|Progressing|Suspended|Unknown) +\S.*$",
        ("outofsync ",),
    ),
    Rule("argocd_sync", 2, r"^Sync Status:\s+(?:OutOfSync|Unknown)", ("sync status:",), decisive=False),
    Rule("argocd_sync", 1, r"\bapplication=argocd/", ("application=argocd/",), decisive=False),
    Rule("argocd_sync", 7, r"Failed to load target state.*$", ("failed to load target state",)),
    Rule("argocd_sync", 7, r"Failed to compare desired state to live state.*$", ("failed to compare desired state",)),
    Rule(
        "argocd_sync",
        6,
        r"(?i)(?:failed to generate manifest|Manifest generation error).*$",
        ("failed to generate manifest", "manifest generation error"),
    ),
    Rule(
        "argocd_sync",
        6,
        r"(?i)(?:plugin sidecar failed|couldn't find cmp-server plugin).*$",
        ("plugin sidecar failed", "cmp-server plugin"),
    ),
    Rule(
        "argocd_sync",
        5,
        r"(?:error resolving repo revision|Unable to resolve '[^'\n]*' to a commit SHA).*$",
        ("error resolving repo revision", "to a commit sha"),
    ),
    Rule(
        "argocd_sync",
        6,
        r"one or more synchronization tasks (?:completed unsuccessfully|are not valid).*$",
        ("synchronization tasks",),
    ),
    Rule("argocd_sync", 4, r"grpc\.method=GenerateManifest\b", ("grpc.method=generatemanifest",), decisive=False),
    Rule("argocd_sync", 3, r"apiVersion: argoproj\.io/v1alpha1", ("argoproj.io/",), decisive=False),
    Rule(
        "argocd_sync",
        5,
        r"(?:InvalidSpecError|application spec for \S+ is invalid).*$",
        ("invalidspecerror", "application spec for"),
    ),
    Rule("argocd_sync", 3, r"^\s+phase: (?:Failed|Error)$", ("phase: ",)),
    Rule(
        "argocd_sync",
        1.5,
        r"\bargocd-(?:repo-server|application-controller|server|applicationset-controller)\b",
        ("argocd-",),
        decisive=False,
    ),
    Rule(
        "argocd_sync",
        5,
        r"(?:match repository error|`[^`\n]+ discover` failed).*$",
        ("match repository error", " discover` failed"),
    ),
    # infra
    Rule("infra", 6, r"UNREACHABLE! =>.*$", ("unreachable!",), after=3),
    Rule("infra", 5, r"Failed to connect to the host via ssh.*$", ("failed to connect to the host",)),
    Rule("infra", 5, r"^fatal: \[[^\]\n]+\]: FAILED! =>.*$", ("failed! =>",)),
    Rule("infra", 6, r"No matching distribution found for.*$", ("no matching distribution",)),
    Rule("infra", 3, r"Could not find a version that satisfies the requirement \S+", ("could not find a version",)),
    Rule("infra", 5, r"! \[rejected\].*$", ("[rejected]",)),
    Rule("infra", 5, r"^error: failed to push some refs.*$", ("failed to push",)),
    Rule("infra", 6, r"^ERROR: \(gcloud\.[\w.-]+\).*$", ("(gcloud.",), after=1),
    Rule("infra", 6, r"Quota '[\w_]+' exceeded.*$", ("quota '",)),
    Rule("infra", 6, r"(?i)No space left on device.*$", ("no space left",)),
    Rule(
        "infra",
        3,
        r"dial tcp [\w.:\[\]-]+: (?:i/o timeout|connect: connection refused|connect: no route to host).*$",
        ("dial tcp",),
    ),
    Rule("infra", 5, r"failed to get CA certs.*$", ("failed to get ca certs",)),
    Rule("infra", 5, r"The runner has received a shutdown signal.*$", ("shutdown signal",)),
    Rule("infra", 5, r"^│ Error: .*$", ("│ error: ",), after=2),
    Rule(
        "infra",
        5,
        r"Error: (?:Kubernetes cluster unreachable|INSTALLATION FAILED).*$",
        ("cluster unreachable", "installation failed"),
    ),
    Rule("infra", 6, r"googleapi: Error (?:4\d\d|5\d\d): .*$", ("googleapi: error",)),
    Rule(
        "infra",
        5,
        r"(?i)\b(?:quota (?:limit )?'?[\w ]*'? (?:has been )?exceeded|quota exceeded"
        r"|rateLimitExceeded|RESOURCE_EXHAUSTED|ZONE_RESOURCE_POOL_EXHAUSTED)\b.*$",
        ("exceeded", "resource_exhausted", "pool_exhausted"),
    ),
    Rule("infra", 5, r"Permission denied \(publickey.*$", ("permission denied (publickey",)),
    Rule(
        "infra",
        4,
        r"(?:Could not resolve host|Temporary failure in name resolution|Name or service not known).*$",
        ("could not resolve host", "temporary failure in name resolution", "name or service not known"),
    ),
    Rule("infra", 4, r"The requested URL returned error: \d{3}.*$", ("the requested url returned error",)),
    Rule("infra", 5, r"remote: Permission to \S+ denied.*$", ("remote: permission to",)),
    Rule(
        "infra",
        3,
        r"^Error: Error (?:creating|reading|updating|deleting|when reading or editing) .*$",
        ("error: error ",),
    ),
    Rule(
        "infra",
        5,
        r"\bFailedScheduling\b.*$|\b\d+/\d+ nodes are available\b.*$",
        ("failedscheduling", "nodes are available"),
    ),
    Rule(
        "infra",
        4,
        r"(?:\bFailedMount\b|MountVolume\.SetUp failed|FailedAttachVolume).*$",
        ("failedmount", "mountvolume.setup failed", "failedattachvolume"),
    ),
    Rule(
        "infra",
        4,
        r"(?:\bNodeNotReady\b|node\.kubernetes\.io/(?:not-ready|unreachable)).*$",
        ("nodenotready", "node.kubernetes.io/"),
    ),
    # generic: decisive candidates that say nothing about the category
    Rule(None, 2, r"^##\[error\].*$", ("##[error]",)),
    Rule(
        None,
        2,
        r"^[\w.]*(?:Error|Exception|Failure|Fault)\b:? .*$",
        ("error", "exception", "failure", "fault"),
        before=3,
    ),
    Rule(None, 1, r"(?i)^(?:error|fatal|panic)\b[:!]? .*$", ("\nerror", "\nfatal", "\npanic")),
    Rule(None, 1, r"\blevel=(?:error|fatal)\b.*$", ("level=error", "level=fatal")),
    Rule(None, 1, r"(?i)\bexit(?:ed)? (?:with )?(?:code|status) [1-9]\d*.*$", ("code ", "status ")),
    Rule(None, 2, r'"alertname": ?"[^"\n]+"', ('"alertname":',)),
    Rule(
        None,
        0.5,
        r"(?i)\b(?:mismatch|broken|not found|failed|invalid|denied|cannot|unable to|problems?)\b.*$",
        ("mismatch", "broken", "not found", "failed", "invalid", "denied", "cannot", "unable to", "problem"),
    ),
    Rule(None, 2, r"^error\[E\d{4}\]: .*$", ("\nerror[e",)),
    Rule(None, 2, r"\((?:WARNING|ERROR|SEVERE)/\d\) .*$", ("(warning/", "(error/", "(severe/")),
    Rule(None, 0.5, r"\bWARNING: .*$", ("warning: ",)),
    Rule(
        None,
        2,
        r"(?:build finished with problems|warnings treated as errors).*$",
        ("finished with problems", "treated as errors"),
    ),
    Rule(None, 1, r"^Traceback \(most recent call last\):$", ("traceback (most recent",), after=1),
    Rule(None, 1, r"^\S+ +Traceback \(most recent call last\)$", ("traceback (most recent",)),
    Rule(
        None,
        1,
        r"^\s*[\w./\\-]+\.(?:py|pyi|ya?ml|sh|go|rs|js|ts|tsx|c|cc|cpp|h|java|tf|rst|md|json|toml|cfg|ini|j2)"
        r":\d+(?::\d+)?:? .*$",  # a finding's location: path:line[:column]: message
        (
            ".py:",
            ".pyi:",
            ".yml:",
            ".yaml:",
            ".sh:",
            ".go:",
            ".rs:",
            ".js:",
            ".ts:",
            ".tsx:",
            ".c:",
            ".cc:",
            ".cpp:",
            ".h:",
            ".java:",
            ".tf:",
            ".rst:",
            ".md:",
            ".json:",
            ".toml:",
            ".cfg:",
            ".ini:",
            ".j2:",
        ),
    ),
]


def _words(words):
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _table_rules():
    """Per category of the table: its tools' command lines and its alert names."""
    for cat in TABLE:
        if cat.tools:
            yield Rule(
                cat.name,
                TOOL_LINE_WEIGHT,
                r"^(?:\S*[$#>] |\+ |##\[group\]Run |Run )?(?:python3? -m |uv run |poetry run |pipx run |npx )?"
                r"(?:%s)(?![\w.-])" % _words(cat.tools),
                tuple(t.lower() for t in cat.tools),
                decisive=False,
            )
        if cat.alert_words:
            yield Rule(
                cat.name,
                ALERT_WEIGHT,
                r"\balertname(?:\"?: ?\"|=\"?)\w*(?:%s)\w*" % _words(cat.alert_words),
                ("alertname",),
            )


_ALL = [*_RULES, *_table_rules()]
_HINTS = [
    (
        cat.name,
        re.compile(r"(?<![a-z0-9])(?:%s)(?![a-z0-9])" % _words(cat.tools)) if cat.tools else None,
        re.compile(r"(?<![a-z0-9])(?:%s)" % _words(cat.step_words)) if cat.step_words else None,
    )
    for cat in TABLE
]
_VOCABULARY = [
    (cat.name, re.compile("|".join(re.escape(w) for w in sorted(cat.vocabulary, key=len, reverse=True))))
    for cat in TABLE
    if cat.vocabulary
]
# A log no rule names is given the category whose vocabulary its failing lines use most, with at least
# this many distinct words of it and more than of any other category's.
VOCABULARY_MIN = 2
_ASCII_LOWER = {i: i + 32 for i in range(65, 91)}
# A key's longest run of word characters: a key absent from a large text's vocabulary is not searched.
_WORD = re.compile(r"[a-z0-9_]+")
_CORE = {k: max(_WORD.findall(k), key=len, default="") for rule in _ALL for k in rule.keys}
VOCABULARY_FROM = 32768


def line_starts(lines):
    """The offset of every line of the text ``"\\n".join(lines)``."""
    starts = []
    pos = 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    return starts


def scan(text):
    """Yield (line index, rule) for each line a rule matches, at most MAX_MATCHES_PER_RULE a rule.

    The line prefixes of builders are left out first; the line numbers are those of ``text``.
    """
    if "[" in text or "-" in text:
        text = _LINE_PREFIX.sub("", text)
    starts = line_starts(text.split("\n"))
    low = "\n" + text.lower()
    if len(low) != len(text) + 1:
        low = "\n" + text.translate(_ASCII_LOWER)
    nlines = len(starts)
    vocabulary = "\n".join(set(_WORD.findall(low))) if len(low) > VOCABULARY_FROM else None
    for rule in _ALL:
        rx = rule.regex
        seen = set()
        found = 0
        for key in rule.keys:
            if vocabulary is not None and _CORE[key] and _CORE[key] not in vocabulary:
                continue
            shift = 0 if key.startswith("\n") else 1
            pos = low.find(key)
            while pos != -1 and found < MAX_MATCHES_PER_RULE:
                i = bisect.bisect_right(starts, pos - shift) - 1
                end = starts[i + 1] - 1 if i + 1 < nlines else len(text)
                if i not in seen:
                    seen.add(i)
                    if rx.search(text, starts[i], end):
                        found += 1
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


def hint_scores(hints):
    """Category scores from names around the log: the failing step's first, then the job's and workflow's.

    A tool's name (bandit, trivy, pip-audit) says its category whatever the log says; a weaker word
    (test, lint, train) adds less. A later hint counts LATER_HINT_SHARE of the first.
    """
    scores = {}
    for n, hint in enumerate(h for h in (hints or ()) if h):
        share = 1.0 if n == 0 else LATER_HINT_SHARE
        low = str(hint).lower()
        for name, tools, words in _HINTS:
            if tools is not None and tools.search(low):
                weight = HINT_TOOL_WEIGHT
            elif words is not None and words.search(low):
                weight = HINT_WORD_WEIGHT
            else:
                continue
            scores[name] = max(scores.get(name, 0), weight * share)
    return scores


def merge_scores(*parts):
    """The sum of score dicts."""
    out = {}
    for part in parts:
        for name, value in part.items():
            out[name] = out.get(name, 0) + value
    return out


def choose(scores):
    """The category with the highest score (ties go to the one listed first), or other below MIN_CATEGORY_SCORE."""
    if not scores:
        return "other"
    best = max(scores.items(), key=lambda kv: (kv[1], -CATEGORIES.index(kv[0])))
    return best[0] if best[1] >= MIN_CATEGORY_SCORE else "other"


def vocabulary_scores(text):
    """How many distinct words of each category's vocabulary ``text`` uses."""
    low = text.lower()
    scores = {}
    for name, rx in _VOCABULARY:
        n = len(set(rx.findall(low)))
        if n:
            scores[name] = n
    return scores


def choose_by_vocabulary(scores):
    """The category whose vocabulary is used most (at least VOCABULARY_MIN words, no tie), or other."""
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], CATEGORIES.index(kv[0])))
    if not ranked or ranked[0][1] < VOCABULARY_MIN or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return "other"
    return ranked[0][0]
