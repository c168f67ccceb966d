"""A wire-level fake of a Slack incoming webhook, on 127.0.0.1.

Follows https://api.slack.com/messaging/webhooks: ``POST /services/T.../B.../XXXX`` with a JSON body
holding ``text``; answers 200 ``ok``; errors as Slack words them: 400 ``invalid_payload`` or
``no_text``, 403 ``action_prohibited``, 404 ``no_service`` (unknown webhook), 410
``channel_is_archived``. Every request is recorded; ``messages`` holds what was posted.
"""

from __future__ import annotations

from .http_base import RecordingServer

__all__ = ["FakeSlack"]


class FakeSlack(RecordingServer):
    def __init__(self, path: str = "/services/T0FAKE000/B0FAKE000/fakeWebhookSecret0123456789"):
        super().__init__()
        self.path = path
        self.messages: list[dict] = []
        self.fail_next: list[tuple[int, str]] = []
        self.add_route("POST", r"/services/[^/]+/[^/]+/[^/]+", self._post)

    @property
    def webhook_url(self) -> str:
        return self.url + self.path

    def _post(self, match, _query, body, _headers):
        if match.group(0) != self.path:
            return 404, "no_service"
        if self.fail_next:
            return self.fail_next.pop(0)
        if not isinstance(body, dict):
            return 400, "invalid_payload"
        if not body.get("text") and not body.get("blocks"):
            return 400, "no_text"
        self.messages.append(body)
        return 200, "ok"
