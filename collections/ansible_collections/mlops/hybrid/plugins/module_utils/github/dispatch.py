# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""workflow_dispatch and repository_dispatch, each answered with a DeliveryResult.

    repo = dispatch.connect(token=token, api_url=api_url, repository="owner/name")
    result = dispatch.repository_dispatch(repo, event_type="aiops-alert", client_payload={...})
    dispatch.dispatch_workflow(repo, workflow="model-pipeline.yml", ref="main", inputs={"force_retrain": "true"})

Both are one POST answered 204 (https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event,
https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event). The answer is
classified, not raised: delivered; to retry (unreachable, 429, 5xx, and 401/403/404 - a token or a
repository a person fixes - with the wait the server asked for, from ``retry.retry_after``); or
refused for good (any other 4xx). The alert bridge spools on that; a module calls :func:`check`.
This is plain ``requests``, not PyGithub, because the bridge needs the status of every answer.
"""

from __future__ import annotations

import dataclasses

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput, RemoteError
from ansible_collections.mlops.hybrid.plugins.module_utils.github.client import HINTS, check_repository, check_token
from ansible_collections.mlops.hybrid.plugins.module_utils.rest import RequestException, require
from ansible_collections.mlops.hybrid.plugins.module_utils.rest import session as http_session
from ansible_collections.mlops.hybrid.plugins.module_utils.retry import retry_after

API_VERSION = "2022-11-28"
DEFAULT_TIMEOUT = 10.0
USER_AGENT = "mlops-hybrid/0.1"


@dataclasses.dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    retry: bool  # False with delivered False: refused for good
    status: int | None
    message: str
    retry_after: float | None = None


class Target:
    """A repository's dispatch endpoints, a token and one HTTP session; ``close()`` when done."""

    def __init__(self, *, api_url, repository, token, timeout, user_agent, auth_hint):
        self.url = "%s/repos/%s" % (api_url.rstrip("/"), repository)
        self.repository = repository
        self.timeout = timeout
        self.auth_hint = auth_hint
        self.session = http_session()
        self.session.headers.update(
            {
                "Authorization": "Bearer %s" % token,
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": user_agent,
            }
        )

    def close(self):
        self.session.close()


def connect(*, token, api_url, repository, timeout=DEFAULT_TIMEOUT, user_agent=USER_AGENT, auth_hint=None):
    """The dispatch :class:`Target` of ``repository``; ``auth_hint`` replaces the hint of a 401/403/404."""
    require()
    return Target(
        api_url=api_url,
        repository=repository,
        token=token,
        timeout=timeout,
        user_agent=user_agent,
        auth_hint=auth_hint,
    )


def post(repo, path, body):
    """POST ``body`` (JSON) to ``path`` under the repository and classify the answer."""
    try:
        r = repo.session.post(repo.url + path, json=body, timeout=repo.timeout)
    except RequestException as e:
        return DeliveryResult(False, True, None, message="GitHub unreachable: %s" % type(e).__name__)
    if 200 <= r.status_code < 300:
        return DeliveryResult(True, False, r.status_code, message="delivered")
    detail = r.text[:300].replace("\n", " ")
    if r.status_code == 429 or r.status_code >= 500:
        message = "GitHub answered %d: %s" % (r.status_code, detail)
        return DeliveryResult(False, True, r.status_code, message=message, retry_after=retry_after(r.headers))
    if r.status_code in (401, 403, 404):
        # A wrong or expired token, or a repository the token cannot see: a person fixes it.
        hint = repo.auth_hint if repo.auth_hint is not None else HINTS[r.status_code]
        message = "GitHub answered %d%s: %s" % (r.status_code, hint, detail)
        return DeliveryResult(False, True, r.status_code, message=message, retry_after=retry_after(r.headers))
    message = "GitHub refused the dispatch (%d): %s" % (r.status_code, detail)
    return DeliveryResult(False, False, r.status_code, message=message)


def repository_dispatch(repo, *, event_type, client_payload):
    """Send a repository_dispatch event of ``event_type``."""
    return post(repo, "/dispatches", {"event_type": event_type, "client_payload": client_payload})


def workflow_inputs(inputs):
    """``inputs`` as GitHub takes them for a workflow_dispatch: every value a string (true -> "true", 3 -> "3")."""
    if not isinstance(inputs, dict):
        raise InvalidInput("inputs must be a dict of input names to values")
    out = {}
    for name, value in inputs.items():
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, (int, float, str)):
            out[name] = str(value)
        else:
            raise InvalidInput(
                "inputs.%s is a %s: a workflow_dispatch input is a string, number or boolean, and GitHub takes "
                "each as a string" % (name, type(value).__name__)
            )
    return out


def dispatch_workflow(repo, *, workflow, ref, inputs):
    """Run ``workflow`` (its file name or id) on ``ref`` with ``inputs`` (workflow_dispatch), sent as strings."""
    return post(repo, "/actions/workflows/%s/dispatches" % workflow, {"ref": ref, "inputs": workflow_inputs(inputs)})


def check(result, action):
    """``result`` when delivered, else a RemoteError saying which ``action`` failed and why."""
    if not result.delivered:
        raise RemoteError(
            "GitHub %s failed: %s" % (action, result.message),
            {"status": result.status, "retry_after": result.retry_after},
        )
    return result


@dataclasses.dataclass(frozen=True)
class DispatchOptions:
    """The options of mlops.hybrid.github_dispatch, by name: a ``workflow`` or an ``event_type``."""

    repository: str | None = None
    github_token: str | None = None
    github_api_url: str = "https://api.github.com"
    workflow: str | None = None
    ref: str | None = None
    inputs: dict = dataclasses.field(default_factory=dict)
    event_type: str | None = None
    client_payload: dict = dataclasses.field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT


def send_event(o, check_mode=False):
    """The whole of mlops.hybrid.github_dispatch: one dispatch (none in check mode); always changed."""
    check_repository(o.repository)
    if bool(o.workflow) == bool(o.event_type):
        raise InvalidInput("give either workflow (workflow_dispatch) or event_type (repository_dispatch)")
    if o.workflow and not o.ref:
        raise InvalidInput("a workflow_dispatch needs ref, the branch or tag the workflow runs on")
    if o.workflow:
        workflow_inputs(o.inputs)  # refused before anything is sent, in check mode too
    event = "workflow_dispatch" if o.workflow else "repository_dispatch"
    result = {"changed": True, "event": event, "status": None}
    if check_mode:
        return result
    check_token(o.github_token)
    repo = connect(token=o.github_token, api_url=o.github_api_url, repository=o.repository, timeout=o.timeout)
    try:
        if o.workflow:
            answer = dispatch_workflow(repo, workflow=o.workflow, ref=o.ref, inputs=o.inputs)
            action = "workflow_dispatch of %s on %s" % (o.workflow, o.ref)
        else:
            answer = repository_dispatch(repo, event_type=o.event_type, client_payload=o.client_payload)
            action = "repository_dispatch %s" % o.event_type
    finally:
        repo.close()
    check(answer, action)
    result["status"] = answer.status
    return result
