# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Providers: gemini (google-genai), openai_compatible (requests) and offline (rules).

Every provider returns the same validated report. A remote provider that fails (no key, HTTP
errors after bounded retries, a timeout, output that breaks the schema) is replaced by the
offline rules, and the result says so (``fallback`` and ``provider_error``).
"""

from __future__ import annotations

import dataclasses
import json
import re
import time

from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import categories, prompts, report
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import (
    InvalidInput,
    MissingDependency,
    OperationTimeout,
    RemoteError,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.retry import (
    RETRY_STATUSES,
    retry_after,
    retry_delay,
    seconds,
)

PROVIDERS = ("gemini", "openai_compatible", "offline")
DEFAULT_MODELS = {"gemini": "gemini-2.5-flash", "openai_compatible": "llama3.1", "offline": "rules-v1"}
DEFAULT_TIMEOUT = 60
DEFAULT_RETRIES = 3
DEFAULT_MAX_RETRY_DELAY = 30.0
RETRY_BASE = 0.5


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where and how to ask a remote provider: model (None for the provider's default), key, URL and bounds."""

    model: str | None = None
    api_key: str | None = None
    base_url: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    max_retry_delay: float = DEFAULT_MAX_RETRY_DELAY


def offline_report(category, evidence):
    """Deterministic report from the category and the decisive lines (no network)."""
    row = categories.category(category)
    urgency, cause, remediation = row.urgency, row.cause, row.remediation
    ev = [e for e in evidence if e.strip()]
    first = ev[0] if ev else "(no decisive line found)"
    summary = "%s Decisive line: %s" % (cause, first[:300])
    causes = [{"cause": cause, "evidence": first[:500], "remediation": remediation, "confidence": 0.6 if ev else 0.3}]
    if len(ev) > 1:
        causes.append(
            {
                "cause": "Further findings of the same kind (%d decisive lines in all)." % len(ev),
                "evidence": ev[1][:500],
                "remediation": remediation,
                "confidence": 0.4,
            }
        )
    return report.validate({"summary": summary, "root_causes": causes, "urgency": urgency, "false_positive": False})


def retry_info(details):
    """Seconds of the RetryInfo.retryDelay ('7s', '1.5s') in a Google error body, or None."""
    delay = None
    try:
        for d in (details or {}).get("error", {}).get("details", []) or []:
            if str(d.get("@type", "")).endswith("google.rpc.RetryInfo") and d.get("retryDelay"):
                delay = seconds(d["retryDelay"])
    except (AttributeError, TypeError):
        return None
    return delay


def _parse_json(text):
    text = (text or "").strip()
    if text.startswith("```"):
        text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text)
    try:
        return json.loads(text)
    except ValueError as e:
        raise report.ReportInvalid("the model did not answer with JSON: %s" % e) from e


def call_gemini(prompt, endpoint, sleep=time.sleep):
    """generateContent with a JSON schema; retries 429/5xx honouring RetryInfo; returns (report, attempts)."""
    try:
        # Imported on use: a provider's library loads only when that provider is chosen.
        from google import genai  # noqa: PLC0415
        from google.genai import errors as genai_errors  # noqa: PLC0415
        from google.genai import types  # noqa: PLC0415
    except ImportError as e:
        raise MissingDependency("google-genai", {"provider": "gemini"}) from e
    http = {"timeout": int(endpoint.timeout * 1000)}
    if endpoint.base_url:
        http["base_url"] = endpoint.base_url
        http["api_version"] = "v1beta"
    client = genai.Client(api_key=endpoint.api_key, http_options=types.HttpOptions(**http))
    config = types.GenerateContentConfig(
        system_instruction=prompt["system"],
        response_mime_type="application/json",
        response_json_schema=report.RESPONSE_SCHEMA,
        temperature=0.2,
    )
    attempt = 0
    while True:
        attempt += 1
        try:
            resp = client.models.generate_content(model=endpoint.model, contents=prompt["user"], config=config)
            return report.validate(_parse_json(resp.text)), attempt
        except genai_errors.APIError as e:
            if e.code in RETRY_STATUSES and attempt <= endpoint.retries:
                sleep(retry_delay(attempt, base=RETRY_BASE, cap=endpoint.max_retry_delay, hint=retry_info(e.details)))
                continue
            raise RemoteError("Gemini answered %s %s: %s" % (e.code, e.status, e.message), {"attempts": attempt}) from e
        except Exception as e:  # httpx timeouts and connection errors come through untyped
            if "timeout" in type(e).__name__.lower() or "timed out" in str(e).lower():
                msg = "Gemini did not answer within %ss" % endpoint.timeout
                raise OperationTimeout(msg, {"attempts": attempt}) from e
            if isinstance(e, report.ReportInvalid):
                raise
            raise RemoteError("Gemini request failed: %s: %s" % (type(e).__name__, e), {"attempts": attempt}) from e


def call_openai_compatible(prompt, endpoint, sleep=time.sleep):
    """POST {base_url}/chat/completions (Ollama, vLLM, LiteLLM...) with a JSON schema response format."""
    if not endpoint.base_url:
        raise InvalidInput("provider openai_compatible needs api_base_url, such as http://127.0.0.1:11434/v1")
    try:
        import requests  # noqa: PLC0415
    except ImportError as e:
        raise MissingDependency("requests", {"provider": "openai_compatible"}) from e
    body = {
        "model": endpoint.model,
        "temperature": 0.2,
        "messages": [{"role": "system", "content": prompt["system"]}, {"role": "user", "content": prompt["user"]}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "incident_report", "schema": report.RESPONSE_SCHEMA},
        },
    }
    headers = {"Content-Type": "application/json"}
    if endpoint.api_key:
        headers["Authorization"] = "Bearer %s" % endpoint.api_key
    url = endpoint.base_url.rstrip("/") + "/chat/completions"
    timeout = endpoint.timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            r = requests.post(url, json=body, headers=headers, timeout=timeout)
        except requests.Timeout as e:
            raise OperationTimeout("%s did not answer within %ss" % (url, timeout), {"attempts": attempt}) from e
        except requests.RequestException as e:
            raise RemoteError("request to %s failed: %s" % (url, e), {"attempts": attempt}) from e
        if r.status_code in RETRY_STATUSES and attempt <= endpoint.retries:
            sleep(retry_delay(attempt, base=RETRY_BASE, cap=endpoint.max_retry_delay, hint=retry_after(r.headers)))
            continue
        if r.status_code != 200:
            raise RemoteError("%s answered %s: %s" % (url, r.status_code, r.text[:300]), {"attempts": attempt})
        try:
            content = r.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise RemoteError("%s answered without choices[0].message.content" % url, {"attempts": attempt}) from e
        return report.validate(_parse_json(content)), attempt


def analyze(
    category,
    excerpt,
    evidence,
    context=None,
    *,
    provider="gemini",
    endpoint=None,
    template="auto",
    fallback=True,
    sleep=time.sleep,
):
    """Build the prompt, call the provider, fall back to offline when a remote provider fails."""
    if provider not in PROVIDERS:
        raise InvalidInput("provider must be one of %s, got %r" % (", ".join(PROVIDERS), provider))
    prompt = prompts.build(category, excerpt, context, template)
    endpoint = endpoint or Endpoint()
    model = endpoint.model or DEFAULT_MODELS[provider]
    endpoint = dataclasses.replace(endpoint, model=model)
    result = {
        "provider_requested": provider,
        "provider_used": provider,
        "model": model,
        "fallback": False,
        "provider_error": None,
        "attempts": 0,
        "template": prompt["template"],
        "template_version": prompt["template_version"],
        "prompt": prompt,
    }
    error = None
    if provider == "offline":
        rep = offline_report(category, evidence)
    elif provider == "gemini" and not endpoint.api_key:
        error = "no API key for gemini (set api_key or GEMINI_API_KEY)"
    else:
        call = call_gemini if provider == "gemini" else call_openai_compatible
        try:
            rep, result["attempts"] = call(prompt, endpoint, sleep)
        except MissingDependency:
            raise
        except (RemoteError, OperationTimeout) as e:
            error = e.msg
            result["attempts"] = e.result.get("attempts", 0)
        except report.ReportInvalid as e:
            error = "the model's answer broke the schema: %s" % e
    if error is not None:
        if not fallback:
            raise RemoteError("provider %s failed: %s" % (provider, error), {"provider_error": error})
        rep = offline_report(category, evidence)
        result.update(provider_used="offline", fallback=True, provider_error=error, model=DEFAULT_MODELS["offline"])
    result["report"] = rep
    return result
