"""Context extraction on the labelled corpus: category accuracy, decisive-line recall, throughput.

Prints, side by side in one run:
- category accuracy and decisive-line recall of the excerpt at the token budget (default 2,000);
- the same with each case buried in 5,000 lines of realistic CI noise (a random split before and after),
  and with the 5,000 lines all before the case (the failure at the end of the log, the baseline's best case);
- the baseline k8sgpt and HolmesGPT use, the last 100 lines (its recall, and the category the same
  classifier gives when it only sees those lines);
- throughput in MB/s over the noisy inputs.

Usage: .venv/bin/python bench/context_extraction.py [--budget 2000] [--noise-lines 5000] [--seed 7] [-v]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import excerpt  # noqa: E402
from ansible_collections.mlops.hybrid.plugins.module_utils.text import normalize  # noqa: E402

CORPUS = REPO / "tests" / "corpus"

_PKGS = [
    "numpy",
    "pandas",
    "scikit-learn",
    "mlflow",
    "requests",
    "urllib3",
    "pyyaml",
    "jinja2",
    "kubernetes",
    "google-auth",
    "protobuf",
    "grpcio",
    "packaging",
    "click",
    "rich",
    "fastapi",
    "uvicorn",
    "pydantic",
]
_NOISE = [
    lambda r: "Collecting %s==%d.%d.%d" % (r.choice(_PKGS), r.randint(0, 3), r.randint(0, 30), r.randint(0, 9)),
    lambda r: (
        "  Downloading %s-%d.%d.%d-py3-none-any.whl (%d kB)"
        % (r.choice(_PKGS), r.randint(0, 3), r.randint(0, 30), r.randint(0, 9), r.randint(10, 9000))
    ),
    lambda r: (
        "Requirement already satisfied: %s in ./.venv/lib/python3.11/site-packages (%d.%d)"
        % (r.choice(_PKGS), r.randint(0, 3), r.randint(0, 30))
    ),
    lambda r: (
        "Successfully installed %s"
        % " ".join("%s-%d.%d" % (p, r.randint(0, 3), r.randint(0, 9)) for p in r.sample(_PKGS, 4))
    ),
    lambda r: (
        "tests/unit/test_%s.py::test_%s_%d PASSED%s[%3d%%]"
        % (
            r.choice(["features", "serve", "drift", "registry"]),
            r.choice(["ok", "roundtrip", "schema", "shape"]),
            r.randint(0, 99),
            " " * 20,
            r.randint(0, 100),
        )
    ),
    lambda r: (
        "%s INFO     [%s] %s"
        % (
            "2026-11-24 13:%02d:%02d,%03d" % (r.randint(0, 59), r.randint(0, 59), r.randint(0, 999)),
            r.choice(["mlflow.tracking", "uvicorn.access", "model_server", "alembic.runtime.migration"]),
            r.choice(
                [
                    "Started server process",
                    "GET /health 200",
                    "Context impl SQLiteImpl.",
                    "loaded model version %d" % r.randint(1, 40),
                    "POST /v2/models/iris/infer 200 %dms" % r.randint(3, 90),
                ]
            ),
        )
    ),
    lambda r: (
        "##[group]Run %s"
        % r.choice(["actions/checkout@v4", "actions/setup-python@v5", "make lint", "ansible-runner run ."])
    ),
    lambda r: "##[endgroup]",
    lambda r: (
        "TASK [%s : %s] %s"
        % (
            r.choice(["k3s_server", "argocd_bootstrap", "mlflow"]),
            r.choice(["Render config", "Wait for API", "Install package"]),
            "*" * 40,
        )
    ),
    lambda r: "ok: [localhost] => (item=%s)" % r.choice(_PKGS),
    lambda r: "changed: [localhost]",
    lambda r: "  warnings.warn(  # DeprecationWarning: pkg_resources is deprecated as an API",
    lambda r: (
        "npm WARN deprecated %s@%d.%d.%d: this package is no longer supported"
        % (r.choice(["glob", "inflight", "rimraf"]), r.randint(1, 9), r.randint(0, 9), r.randint(0, 9))
    ),
    lambda r: (
        "Epoch %d/%d: val_accuracy improved from 0.9%02d to 0.9%02d"
        % (r.randint(1, 50), 50, r.randint(0, 49), r.randint(50, 99))
    ),
    lambda r: (
        "retrying GET https://pypi.org/simple/%s/ (attempt %d of 5): connection reset by peer"
        % (r.choice(_PKGS), r.randint(1, 2))
    ),
    lambda r: "0 errors, 0 warnings in %d files" % r.randint(1, 200),
    lambda r: "",
]


def noise(rng, n):
    return [rng.choice(_NOISE)(rng) for _ in range(n)]


def load_cases(labels_file="labels.json", folder="cases"):
    labels = json.loads((CORPUS / labels_file).read_text())["cases"]
    return [(cid, lab, (CORPUS / folder / (cid + ".log")).read_text(encoding="utf-8")) for cid, lab in labels.items()]


def recall(excerpt, decisive):
    return sum(1 for d in decisive if d in excerpt), len(decisive)


def evaluate(cases, budget, make_input):
    correct = found = total = 0
    size = 0
    elapsed = 0.0
    misses = []
    for cid, lab, raw in cases:
        text = make_input(cid, raw)
        size += len(text.encode("utf-8"))
        t0 = time.perf_counter()
        res = excerpt.extract(text, max_tokens=budget)
        elapsed += time.perf_counter() - t0
        ok = res["category"] == lab["category"]
        correct += ok
        f, t = recall(res["excerpt"], lab["decisive"])
        found += f
        total += t
        if not ok or f < t:
            misses.append(
                (cid, lab["category"], res["category"], [d for d in lab["decisive"] if d not in res["excerpt"]])
            )
    return correct / len(cases), found / total, size, elapsed, misses


def baseline(cases, make_input, n_last=100):
    correct = found = total = 0
    for cid, lab, raw in cases:
        tail = "\n".join(normalize(make_input(cid, raw)).split("\n")[-n_last:])
        f, t = recall(tail, lab["decisive"])
        found += f
        total += t
        correct += excerpt.extract(tail, max_tokens=10**6)["category"] == lab["category"]
    return correct / len(cases), found / total


def _row(label, acc, rec):
    print("%-34s %10.3f %10.3f" % (label, acc, rec))


def heldout(args, clean, noisy):
    """The cases written after the rules: reported apart, never part of the targets' tuning."""
    held = load_cases("labels_heldout.json", "heldout")
    acc_h, rec_h, _s, _t, miss_held = evaluate(held, args.budget, clean)
    acc_hn, rec_hn, _s, _t, miss_held_n = evaluate(held, args.budget, noisy)
    bacc_h, brec_h = baseline(held, noisy)
    print("held-out (%d cases written after the rules, never used to tune them):" % len(held))
    _row("extractor, clean", acc_h, rec_h)
    _row("extractor, in %d noise lines" % args.noise_lines, acc_hn, rec_hn)
    _row("last 100 lines, in noise", bacc_h, brec_h)
    return miss_held, miss_held_n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=excerpt.DEFAULT_MAX_TOKENS)
    ap.add_argument("--noise-lines", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    cases = load_cases()
    buried = {}
    tail_end = {}

    def clean(_cid, raw):
        return raw

    def noisy(cid, raw):
        if cid not in buried:
            rng = random.Random("%s-%s" % (args.seed, cid))
            before = rng.randint(0, args.noise_lines)
            buried[cid] = "\n".join([*noise(rng, before), raw.rstrip("\n"), *noise(rng, args.noise_lines - before)])
        return buried[cid]

    def noise_before(cid, raw):
        if cid not in tail_end:
            rng = random.Random("%s-%s-before" % (args.seed, cid))
            tail_end[cid] = "\n".join([*noise(rng, args.noise_lines), raw.rstrip("\n")])
        return tail_end[cid]

    cats = sorted({lab["category"] for _c, lab, _r in cases})
    print("corpus: %d cases, %d categories, budget %d tokens" % (len(cases), len(cats), args.budget))
    acc, rec, _size, _t, miss_clean = evaluate(cases, args.budget, clean)
    acc_n, rec_n, size_n, t_n, miss_noisy = evaluate(cases, args.budget, noisy)
    acc_e, rec_e, _s, _t, miss_end = evaluate(cases, args.budget, noise_before)
    bacc, brec = baseline(cases, clean)
    bacc_n, brec_n = baseline(cases, noisy)
    bacc_e, brec_e = baseline(cases, noise_before)
    print("%-34s %10s %10s" % ("(baseline category: same classifier)", "accuracy", "recall"))
    _row("extractor, clean", acc, rec)
    _row("extractor, in %d noise lines" % args.noise_lines, acc_n, rec_n)
    _row("extractor, after %d noise lines" % args.noise_lines, acc_e, rec_e)
    _row("last 100 lines, clean", bacc, brec)
    _row("last 100 lines, in noise", bacc_n, brec_n)
    _row("last 100 lines, after noise", bacc_e, brec_e)
    print("throughput: %.1f MB/s (%.1f MB of noisy input in %.2f s)" % (size_n / 1e6 / t_n, size_n / 1e6, t_n))
    big = "\n".join(buried.values())
    t0 = time.perf_counter()
    excerpt.extract(big)
    t_big = time.perf_counter() - t0
    print("one %.1f MB input: %.2f s, %.1f MB/s" % (len(big) / 1e6, t_big, len(big) / 1e6 / t_big))
    miss_held, miss_held_n = heldout(args, clean, noisy)
    targets = acc_n >= 0.9 and rec_n >= 0.95 and acc >= 0.9 and rec >= 0.95 and rec_n > brec_n
    print("targets (accuracy >= 0.9, recall >= 0.95, above baseline): %s" % ("met" if targets else "NOT met"))
    if args.verbose:
        for title, misses in (
            ("clean", miss_clean),
            ("noisy", miss_noisy),
            ("noise before", miss_end),
            ("held-out", miss_held),
            ("held-out noisy", miss_held_n),
        ):
            for cid, want, got, lost in misses:
                print("  miss [%s] %s: want %s got %s, lost %s" % (title, cid, want, got, lost))
    return 0


if __name__ == "__main__":
    sys.exit(main())
