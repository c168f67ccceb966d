"""A wire-level fake of an OpenAI-compatible chat-completions endpoint (Ollama, vLLM, LiteLLM), on 127.0.0.1.

``POST /v1/chat/completions`` with ``model``, ``messages`` and ``response_format``; answers
``choices[0].message.content``. Errors in OpenAI's shape: 401 ``invalid_api_key`` without the
expected bearer token (when one is set), 404 ``model_not_found``, 429 with ``Retry-After``, 500.
Tests script answers with ``queue_*``; every request is recorded.
"""

from __future__ import annotations

import json
from typing import Any

from .gemini import DEFAULT_ANSWER
from .http_base import RecordingServer

__all__ = ["FakeOpenAICompatible"]


def error(code: str, message: str, type_: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": type_, "code": code}}


class FakeOpenAICompatible(RecordingServer):
    def __init__(self, api_key: str | None = None, models: tuple[str, ...] = ("llama3.1",)):
        super().__init__()
        self.api_key = api_key
        self.models = set(models)
        self.default_answer: Any = DEFAULT_ANSWER
        self._queue: list[tuple[int, Any, dict]] = []
        self.add_route("POST", r"/v1/chat/completions", self._complete)

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def queue_answer(self, answer: Any) -> None:
        self._queue.append((200, answer, {}))

    def queue_rate_limit(self, retry_after: str = "1") -> None:
        self._queue.append(
            (429, error("rate_limit_exceeded", "Rate limit reached", "requests"), {"Retry-After": retry_after})
        )

    def queue_error(self, code: int = 500) -> None:
        self._queue.append((code, error("server_error", "The server had an error", "server_error"), {}))

    def _complete(self, _m, _q, body, headers):
        if self.api_key and headers.get("authorization") != "Bearer %s" % self.api_key:
            return 401, error("invalid_api_key", "Incorrect API key provided")
        if not isinstance(body, dict) or not body.get("messages"):
            return 400, error("invalid_request", "'messages' is a required property")
        if body.get("model") not in self.models:
            return 404, error("model_not_found", "The model `%s` does not exist" % body.get("model"))
        status, answer, extra = self._queue.pop(0) if self._queue else (200, self.default_answer, {})
        if status != 200:
            return status, answer, extra
        content = answer if isinstance(answer, str) else json.dumps(answer)
        return 200, {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
        }
