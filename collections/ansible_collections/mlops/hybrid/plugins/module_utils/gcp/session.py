# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every GCP module shares: connection options, credentials, clients, retries, operations, errors.

``Connection`` holds the options of the ``mlops.hybrid.gcp`` family by name; ``GcpSession`` builds the
google-cloud-compute clients once (REST transport, optional ``api_endpoint`` for a private or
test endpoint), calls them with retries on 429/5xx and exponential backoff (a mutating call with one
``requestId`` across its retries, so a request applied whose answer was lost is not applied twice), waits for zone and
global operations by polling them with a bounded timeout, and turns Google's error bodies into
one message that says what is wrong and what to do. Plain Python: no AnsibleModule in here.
"""

from __future__ import annotations

import json
import time
import traceback
import uuid
from dataclasses import dataclass

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import (
    InvalidInput,
    MissingDependency,
    OperationTimeout,
    RemoteError,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.retry import RETRY_STATUSES, backoff_delay

try:
    import google.auth
    from google.api_core import exceptions as gexc
    from google.auth.exceptions import DefaultCredentialsError, GoogleAuthError
    from google.cloud import compute_v1
    from google.oauth2 import service_account

    HAS_GCP = True
    GCP_IMPORT_ERROR = None
except ImportError:
    HAS_GCP = False
    GCP_IMPORT_ERROR = traceback.format_exc()

__all__ = [
    "GCP_IMPORT_ERROR",
    "HAS_GCP",
    "Connection",
    "GcpSession",
    "explain_error",
    "short_name",
]

COMPUTE_SCOPE = "https://www.googleapis.com/auth/compute"
MAX_BACKOFF_SECONDS = 30.0

# What to do, by the reason Google gives in error.errors[].reason (HTTP) or .code (operation).
_ADVICE = {
    "quotaexceeded": "request a higher quota (IAM & Admin > Quotas) or use a smaller machine type or another region",
    "forbidden": "grant the credentials roles/compute.instanceAdmin.v1 and roles/compute.securityAdmin on the "
    "project (or check that the project id is right)",
    "alreadyexists": "the name is in use in this project: choose another name, or manage the existing resource",
    "invalid": "check the value named in the message (zones: gcloud compute zones list; machine types: "
    "gcloud compute machine-types list --zones ZONE)",
    "notfound": "check the project, zone and name",
    "conditionnotmet": "the resource changed while this ran: run again",
    "required": "the credentials were not accepted: check the service account file or run "
    "gcloud auth application-default login",
    "ratelimitexceeded": "the API kept refusing for rate limits: wait a minute and run again, or raise retries",
    "backenderror": "the API kept failing: see https://status.cloud.google.com and run again",
}


def short_name(url):
    """The last path element of a resource URL: ``.../machineTypes/e2-small`` -> ``e2-small``."""
    return (url or "").rstrip("/").rsplit("/", 1)[-1]


def _advice(reason, code):
    key = (reason or "").replace("_", "").lower()
    if key in _ADVICE:
        return _ADVICE[key]
    by_code = {400: "invalid", 401: "required", 403: "forbidden", 404: "notfound", 409: "alreadyexists"}
    if code in by_code:
        return _ADVICE[by_code[code]]
    if code in RETRY_STATUSES:
        return _ADVICE["backenderror"]
    return ""


def explain_error(e, action):
    """One sentence from a google.api_core error: ``<action> failed: HTTP 409 alreadyExists: <message>; <advice>``."""
    code = getattr(e, "code", None)
    errors = getattr(e, "errors", None) or []
    reason = ""
    if errors and isinstance(errors[0], dict):
        reason = errors[0].get("reason", "")
    message = getattr(e, "message", None) or str(e)
    text = "%s failed: HTTP %s%s: %s" % (action, code, " " + reason if reason else "", message)
    advice = _advice(reason, code)
    return text + ("; " + advice if advice else "")


@dataclass(frozen=True)
class Connection:
    """The options of the ``mlops.hybrid.gcp`` family (doc fragment and ``args.GCP_ARG_SPEC``), by name."""

    project: str
    auth_kind: str = "application"
    service_account_file: str | None = None
    service_account_contents: str | dict | None = None
    api_endpoint: str | None = None
    operation_timeout: int = 300
    poll_interval: float = 2.0
    retries: int = 5


class GcpSession:
    """Clients and calling conventions for one project, built from a :class:`Connection`."""

    def __init__(self, connection, sleep=time.sleep, clock=time.monotonic):
        if not HAS_GCP:
            raise MissingDependency(
                "google-cloud-compute",
                {"exception": GCP_IMPORT_ERROR},
            )
        c = connection
        self.project = c.project
        self.timeout = int(c.operation_timeout)
        self.poll_interval = float(c.poll_interval)
        self.retries = int(c.retries)
        if self.timeout <= 0 or self.poll_interval < 0 or self.retries < 0:
            raise InvalidInput(
                "operation_timeout must be > 0, poll_interval and retries >= 0 (got %s, %s, %s)"
                % (self.timeout, self.poll_interval, self.retries)
            )
        self.sleep = sleep
        self.clock = clock
        self.api_calls = 0
        self.retried = 0
        self.credentials = self._credentials(c)
        self.client_options = {"api_endpoint": c.api_endpoint} if c.api_endpoint else None
        self._clients = {}

    # -- credentials and clients ---------------------------------------------------------------
    @staticmethod
    def _credentials(c):
        kind = c.auth_kind or "application"
        try:
            if kind == "serviceaccount":
                contents = c.service_account_contents
                path = c.service_account_file
                if contents:
                    info = json.loads(contents) if isinstance(contents, str) else contents
                    return service_account.Credentials.from_service_account_info(info, scopes=[COMPUTE_SCOPE])
                if path:
                    return service_account.Credentials.from_service_account_file(path, scopes=[COMPUTE_SCOPE])
                raise InvalidInput(
                    "auth_kind=serviceaccount needs service_account_file or service_account_contents "
                    "(or GCP_SERVICE_ACCOUNT_FILE in the environment)"
                )
            creds, _project = google.auth.default(scopes=[COMPUTE_SCOPE])
            return creds
        except DefaultCredentialsError as e:
            raise InvalidInput(
                "no Application Default Credentials found: run 'gcloud auth application-default login', set "
                "GOOGLE_APPLICATION_CREDENTIALS, or use auth_kind=serviceaccount (%s)" % e
            ) from e
        except (ValueError, OSError, GoogleAuthError) as e:
            # The message of a broken key file can quote it: name the problem, never the content.
            raise InvalidInput(
                "the service account credentials could not be loaded (%s): use the JSON key file downloaded "
                "from IAM & Admin > Service accounts" % type(e).__name__
            ) from e

    def client(self, name):
        """A compute_v1 client by class name (``InstancesClient``), built once."""
        if name not in self._clients:
            cls = getattr(compute_v1, name)
            self._clients[name] = cls(credentials=self.credentials, client_options=self.client_options)
        return self._clients[name]

    # -- calls ---------------------------------------------------------------------------------
    def call(self, action, fn, **request):
        """Call ``fn(**request)``, retrying 429/5xx with exponential backoff; errors -> RemoteError.

        The wait before retry ``n`` is ``poll_interval * 2**(n-1)``, at most ``MAX_BACKOFF_SECONDS``.
        """
        retries = 0
        while True:
            self.api_calls += 1
            try:
                return fn(**request)
            except gexc.GoogleAPICallError as e:
                code = getattr(e, "code", None)
                if code in RETRY_STATUSES and retries < self.retries:
                    retries += 1
                    self.retried += 1
                    self.sleep(backoff_delay(retries, base=self.poll_interval, cap=MAX_BACKOFF_SECONDS))
                    continue
                suffix = " (after %d attempts)" % (retries + 1) if retries else ""
                raise RemoteError(explain_error(e, action) + suffix, {"status": code}) from e
            except GoogleAuthError as e:
                raise RemoteError("%s failed: the credentials were refused (%s)" % (action, e)) from e

    def mutate(self, action, fn, **request):
        """A call that changes a resource, with one ``requestId`` (a UUID) kept across its retries.

        Compute Engine applies a request once per id: when an insert was applied but its answer was lost
        (a 503 after the fact), the retry with the same id returns the first request's operation instead
        of a 409 alreadyExists.
        """
        # request_id is a field of the request message, not a keyword of the client's flattened call.
        return self.call(action, fn, request={**request, "request_id": str(uuid.uuid4())})

    def get_or_none(self, action, fn, **request):
        """Fetch a resource; ``None`` when the API answers 404."""
        try:
            return self.call(action, fn, **request)
        except RemoteError as e:
            if e.result.get("status") == 404:
                return None
            raise

    def wait(self, action, operation, zone=None):
        """Poll a zone (``zone`` given) or global operation until DONE; its errors -> RemoteError."""
        if zone:
            client, where = self.client("ZoneOperationsClient"), {"zone": zone}
        else:
            client, where = self.client("GlobalOperationsClient"), {}
        name = operation.name
        deadline = self.clock() + self.timeout
        op = operation
        while op.status != compute_v1.Operation.Status.DONE:
            if self.clock() >= deadline:
                raise OperationTimeout(
                    "%s: operation %s was still %s after %ds; it may yet finish: look at it with "
                    "gcloud compute operations describe %s, then run again (or raise operation_timeout)"
                    % (action, name, compute_v1.Operation.Status(op.status).name, self.timeout, name),
                    {"operation": name},
                )
            self.sleep(self.poll_interval)
            op = self.call(action, client.get, project=self.project, operation=name, **where)
        if op.error and op.error.errors:
            first = op.error.errors[0]
            more = "; ".join(err.message for err in op.error.errors[1:])
            raise RemoteError(
                "%s failed: %s: %s%s; %s"
                % (action, first.code, first.message, (" (" + more + ")") if more else "", _advice(first.code, None)),
                {"operation": name},
            )
        return op
