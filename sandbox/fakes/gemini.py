"""A wire-level fake of the Gemini API's generateContent (v1beta), on 127.0.0.1.

Follows https://ai.google.dev/api/generate-content: ``POST /v1beta/models/{model}:generateContent``
with the key in ``x-goog-api-key``; answers ``candidates[0].content.parts[0].text``. Errors use
Google's JSON error body: 400 INVALID_ARGUMENT for a bad key, 404 NOT_FOUND for an unknown model,
429 RESOURCE_EXHAUSTED with ``google.rpc.RetryInfo.retryDelay``, 500 INTERNAL, 503 UNAVAILABLE.

Tests script answers with ``queue_*``; with nothing queued the fake answers ``default_answer``
(a valid report) as JSON text. The real google-genai client is pointed here with
``http_options={'base_url': fake.url}``. Every request is recorded.
"""

from __future__ import annotations

import json
from typing import Any

from .http_base import RecordingServer

__all__ = ["FakeGemini"]

DEFAULT_ANSWER = {
    "summary": "Answer from the Gemini test server.",
    "root_causes": [
        {
            "cause": "The cause named by the test server.",
            "evidence": "the evidence line",
            "remediation": "The remediation named by the test server.",
            "confidence": 0.7,
        }
    ],
    "urgency": "P1",
    "false_positive": False,
}


def error_body(code: int, status: str, message: str, details: list | None = None) -> dict:
    err: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        err["details"] = details
    return {"error": err}


class FakeGemini(RecordingServer):
    def __init__(self, api_key: str = "test-gemini-key", models: tuple[str, ...] = ("gemini-2.5-flash",)):
        super().__init__()
        self.api_key = api_key
        self.models = set(models)
        self.default_answer: Any = DEFAULT_ANSWER
        self._queue: list[tuple[int, Any]] = []
        self.add_route("POST", r"/(v1beta|v1)/models/([^/:]+):generateContent", self._generate)

    # -- scripting -----------------------------------------------------------------------------
    def queue_answer(self, answer: Any) -> None:
        """Answer with this object (as JSON text) or this string (as raw text)."""
        self._queue.append((200, answer))

    def queue_rate_limit(self, retry_delay: str = "1s") -> None:
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests"}
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay},
        ]
        self._queue.append((429, error_body(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.", details)))

    def queue_error(self, code: int = 500) -> None:
        status = {500: "INTERNAL", 503: "UNAVAILABLE", 400: "INVALID_ARGUMENT"}.get(code, "UNKNOWN")
        self._queue.append((code, error_body(code, status, "An internal error has occurred. Please retry.")))

    @property
    def generate_calls(self):
        return self.calls("POST", r":generateContent$")

    # -- API -----------------------------------------------------------------------------------
    def _generate(self, match, _query, body, headers):
        if headers.get("x-goog-api-key") != self.api_key:
            return 400, error_body(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
            )
        model = match.group(2)
        if model not in self.models:
            return 404, error_body(404, "NOT_FOUND", "models/%s is not found for API version v1beta" % model)
        if not isinstance(body, dict) or not body.get("contents"):
            return 400, error_body(
                400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified"
            )
        status, answer = self._queue.pop(0) if self._queue else (200, self.default_answer)
        if status != 200:
            return status, answer
        text = answer if isinstance(answer, str) else json.dumps(answer)
        return 200, {
            "candidates": [
                {"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 50, "totalTokenCount": 150},
            "modelVersion": model,
        }
