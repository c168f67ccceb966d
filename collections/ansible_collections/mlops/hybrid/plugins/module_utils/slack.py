# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Post to a Slack incoming webhook."""

from __future__ import annotations

from ansible_collections.mlops.hybrid.plugins.module_utils import rest
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import (
    InvalidInput,
    RemoteError,
)

# What Slack answers, and what to do about it.
_HINTS = {
    "invalid_payload": "the message is not valid JSON for Slack",
    "no_text": "the message has no text",
    "no_service": "the webhook was removed or the URL is wrong: create a new incoming webhook",
    "action_prohibited": "an admin restricted posting to this channel",
    "channel_is_archived": "the channel is archived",
    "channel_not_found": "the channel no longer exists",
}


def check_webhook_url(url):
    if not url or not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise InvalidInput(
            "the Slack webhook URL must be an https:// URL (such as https://hooks.slack.com/services/...)"
        )
    return url


def post_webhook(url, text, timeout=30):
    """POST {"text": ...}; Slack answers 200 "ok" or an error code in the body."""
    requests = rest.require()
    check_webhook_url(url)
    with rest.translated(timed_out="Slack did not answer within %ss" % timeout, failed="posting to Slack failed: %s"):
        r = requests.post(url, json={"text": text, "unfurl_links": False, "unfurl_media": False}, timeout=timeout)
    if r.status_code != 200:
        code = r.text.strip()[:80]
        raise RemoteError(
            "Slack answered %s %s: %s" % (r.status_code, code, _HINTS.get(code, "see Slack's webhook errors")),
            {"status": r.status_code},
        )
    return True
