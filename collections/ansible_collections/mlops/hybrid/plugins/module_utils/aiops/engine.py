# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One analysis from raw text to a report: extract, redact, prompt, call, validate, render.

The alert bridge and the modules call ``analyze_text``; nothing here acts on code or the cluster.
"""

from __future__ import annotations

import dataclasses
import os
import time

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import excerpt as excerpts
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import providers, report
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.categories import CATEGORIES
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.prompts import TEMPLATE_CHOICES
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.redact import merge_counts, redact, redact_obj
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput

MAX_LOG_BYTES = 512 * 1024 * 1024


def read_logs(logs=None, log_path=None):
    """The text to analyse, from ``logs`` or a file; exactly one of them."""
    if (logs is None) == (log_path is None):
        raise InvalidInput("give exactly one of logs (text) or log_path (a file)")
    if log_path is not None:
        if not os.path.isfile(log_path):
            raise InvalidInput("log_path %s is not a readable file" % log_path)
        if os.path.getsize(log_path) > MAX_LOG_BYTES:
            raise InvalidInput("log_path %s is larger than %d MiB" % (log_path, MAX_LOG_BYTES // 2**20))
        with open(log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    return logs


@dataclasses.dataclass(frozen=True)
class Analysis:
    """How to analyse a text; the fields carry the names of mlops.hybrid.llm_analyze's options."""

    context: dict | None = None
    kind: str = "auto"
    template: str = "auto"
    max_context_tokens: int = excerpts.DEFAULT_MAX_TOKENS
    redact: bool = True
    provider: str = "gemini"
    model: str | None = None
    api_key: str | None = None
    api_base_url: str | None = None
    timeout: float = providers.DEFAULT_TIMEOUT
    max_retries: int = providers.DEFAULT_RETRIES
    max_retry_delay: float = providers.DEFAULT_MAX_RETRY_DELAY
    fallback_to_offline: bool = True

    def __post_init__(self):
        if self.kind not in ("auto", *CATEGORIES):
            raise InvalidInput("kind must be auto or one of %s, got %r" % (", ".join(CATEGORIES), self.kind))
        if self.template not in TEMPLATE_CHOICES:
            raise InvalidInput("template must be one of %s, got %r" % (", ".join(TEMPLATE_CHOICES), self.template))
        if not isinstance(self.max_context_tokens, int) or self.max_context_tokens < 100:
            raise InvalidInput(
                "max_context_tokens must be an integer of at least 100, got %r" % (self.max_context_tokens,)
            )
        if self.context is not None and not isinstance(self.context, dict):
            raise InvalidInput("context must be a dict")
        if self.max_retries < 0 or self.timeout <= 0 or self.max_retry_delay < 0:
            raise InvalidInput("timeout must be positive, max_retries and max_retry_delay not negative")


# The context's names that say what ran, most specific first: the failing step, its job, the workflow.
HINT_KEYS = ("step", "job", "workflow", "workflow_file")


def context_hints(context):
    """The names of the context (``HINT_KEYS``) that the classifier reads beside the log."""
    ctx = context or {}
    return tuple(str(ctx[k]) for k in HINT_KEYS if isinstance(ctx.get(k), (str, int)) and str(ctx[k]).strip())


def analyze_text(text, options=None, *, sleep=time.sleep):
    """Return the result dict of mlops.hybrid.llm_analyze for ``text`` analysed as ``options`` (an Analysis) say."""
    opts = options or Analysis()
    ext = excerpts.extract(
        text or "", max_tokens=opts.max_context_tokens, kind=opts.kind, hints=context_hints(opts.context)
    )
    excerpt, evidence, ctx = ext["excerpt"], ext["evidence"], dict(opts.context or {})
    counts = {}
    known = [v for v in (opts.api_key,) if v]
    if opts.redact:
        excerpt, c_excerpt = redact(excerpt, known)
        evidence = [redact(e, known)[0] for e in evidence]
        ctx, c_ctx = redact_obj(ctx, extra=known)
        counts = merge_counts(c_excerpt, c_ctx)
    res = providers.analyze(
        ext["category"],
        excerpt,
        evidence,
        ctx,
        provider=opts.provider,
        endpoint=providers.Endpoint(
            model=opts.model,
            api_key=opts.api_key,
            base_url=opts.api_base_url,
            timeout=opts.timeout,
            retries=opts.max_retries,
            max_retry_delay=opts.max_retry_delay,
        ),
        template=opts.template,
        fallback=opts.fallback_to_offline,
        sleep=sleep,
    )
    rep = res["report"]
    if opts.redact:  # the model may echo what it was given or invent lookalikes
        rep, c_out = redact_obj(rep, extra=known)
        if c_out:
            counts = merge_counts(counts, {"in_model_output_" + k: v for k, v in c_out.items()})
    error = res["provider_error"]
    if error:
        error = redact(error, known)[0]
    fp = report.fingerprint(ext["category"], evidence, key=ctx.get("fingerprint_key"))
    markdown = report.render_markdown(
        rep, ext["category"], evidence, provider=res["provider_used"], fallback=res["fallback"], fingerprint=fp
    )
    return {
        "category": ext["category"],
        "category_basis": ext["category_basis"],
        "scores": ext["scores"],
        "excerpt": excerpt,
        "evidence": evidence,
        "report": rep,
        "report_markdown": markdown,
        "redactions": counts,
        "redaction_count": sum(counts.values()),
        "provider_requested": res["provider_requested"],
        "provider_used": res["provider_used"],
        "fallback": res["fallback"],
        "provider_error": error,
        "model": res["model"],
        "attempts": res["attempts"],
        "template": res["template"],
        "template_version": res["template_version"],
        "fingerprint": fp,
        "lines_total": ext["lines_total"],
        "excerpt_tokens": excerpts.estimate_tokens(excerpt),
    }
