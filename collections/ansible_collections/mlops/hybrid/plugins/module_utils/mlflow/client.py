# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MLflow, guarded: the environment its client reads, the client, and MLflow's errors turned into typed ones.

    uri = client.configure_environment(tracking_uri="http://mlflow:5000", username="ci", password="...")
    mlflow = client.client_for(uri)
    registry = client.Registry(mlflow, uri)
    model = registry.call("get registered model bc", mlflow.get_registered_model, "bc", missing_ok=True)
    run = client.read("run %s" % run_id, mlflow.get_run, run_id)

Credentials, TLS and bounded waits are the variables the MLflow client reads on every request
(MLFLOW_TRACKING_USERNAME / _PASSWORD or _TOKEN, MLFLOW_HTTP_REQUEST_TIMEOUT, ...), so the module,
the drift collector and the alert bridge build the same client. ``mlflow-skinny`` is enough.
"""

from __future__ import annotations

import os

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput, MissingDependency, RemoteError
from ansible_collections.mlops.hybrid.plugins.module_utils.text import shorten

try:
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    HAS_MLFLOW = True
    MLFLOW_IMPORT_ERROR = None
except ImportError as e:  # pragma: no cover - reported by the module with missing_required_lib
    HAS_MLFLOW = False
    MLFLOW_IMPORT_ERROR = e

    class MlflowException(Exception):
        """Placeholder so that ``except MlflowException`` works without mlflow."""


__all__ = [
    "HAS_MLFLOW",
    "MLFLOW_IMPORT_ERROR",
    "MlflowException",
    "Registry",
    "client_for",
    "configure_environment",
    "configure_from_params",
    "read",
]

LIBRARY = "mlflow"
CONNECTION_MARKERS = ("Max retries exceeded", "Connection refused", "Failed to establish", "timed out", "Read timed")
NOT_FOUND_CODES = ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND")
MESSAGE_LIMIT = 400

# Option name -> environment variable read by the MLflow client on every request.
ENV_TRACKING_URI = "MLFLOW_TRACKING_URI"
ENV_USERNAME = "MLFLOW_TRACKING_USERNAME"
ENV_PASSWORD = "MLFLOW_TRACKING_PASSWORD"  # noqa: S105 - the name of a variable, not a password
ENV_TOKEN = "MLFLOW_TRACKING_TOKEN"  # noqa: S105
ENV_CA = "MLFLOW_TRACKING_SERVER_CERT_PATH"
ENV_INSECURE = "MLFLOW_TRACKING_INSECURE_TLS"
ENV_TIMEOUT = "MLFLOW_HTTP_REQUEST_TIMEOUT"
ENV_RETRIES = "MLFLOW_HTTP_REQUEST_MAX_RETRIES"
ENV_BACKOFF = "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"


def configure_environment(
    *,
    tracking_uri,
    username=None,
    password=None,
    token=None,
    ca_path=None,
    validate_certs=True,
    timeout=10,
    retries=1,
    environ=None,
):
    """Set the variables the MLflow client reads for credentials, TLS and bounded waits; returns the URI."""
    env = os.environ if environ is None else environ
    if not tracking_uri:
        raise InvalidInput("tracking_uri is not set: give it or set MLFLOW_TRACKING_URI")
    if timeout is not None and timeout < 1:
        raise InvalidInput("request_timeout must be at least 1 second, got %s" % timeout)
    if retries is not None and retries < 0:
        raise InvalidInput("request_retries must be 0 or more, got %s" % retries)
    if bool(username) != bool(password):
        raise InvalidInput("username and password go together: give both (or MLFLOW_TRACKING_USERNAME/PASSWORD)")
    if username and token:
        raise InvalidInput("give username and password or a token, not both")
    if ca_path and not os.path.isfile(ca_path):
        raise InvalidInput("ca_path %s does not exist: give the PEM file of the server's CA" % ca_path)
    values = {
        ENV_TRACKING_URI: tracking_uri,
        ENV_USERNAME: username,
        ENV_PASSWORD: password,
        ENV_TOKEN: token,
        ENV_CA: ca_path,
        ENV_INSECURE: None if validate_certs else "true",
        ENV_TIMEOUT: str(timeout),
        ENV_RETRIES: str(retries),
        ENV_BACKOFF: "1",
    }
    for key, value in values.items():
        if value:
            env[key] = value
    return tracking_uri


def configure_from_params(params, environ=None):
    """:func:`configure_environment` from the options of MLFLOW_ARG_SPEC (module_utils/args.py), by name."""
    return configure_environment(
        tracking_uri=params["tracking_uri"],
        username=params["username"],
        password=params["password"],
        token=params["token"],
        ca_path=params["ca_path"],
        validate_certs=params["validate_certs"],
        timeout=params["request_timeout"],
        retries=params["request_retries"],
        environ=environ,
    )


def client_for(tracking_uri):
    """An MLflow client of ``tracking_uri`` (tracking and registry)."""
    if not HAS_MLFLOW:
        raise MissingDependency(LIBRARY)
    if not tracking_uri:
        raise InvalidInput("no MLflow tracking URI given (MLFLOW_TRACKING_URI)")
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def not_found(e) -> bool:
    return getattr(e, "error_code", "") in NOT_FOUND_CODES


def message(e) -> str:
    return str(getattr(e, "message", e))


def read(what, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` reading ``what``: a missing object is InvalidInput, any other refusal RemoteError."""
    try:
        return fn(*args, **kwargs)
    except MlflowException as e:
        code = getattr(e, "error_code", "")
        if code in NOT_FOUND_CODES:
            raise InvalidInput("MLflow has no %s: %s" % (what, message(e)), {"error_code": code}) from e
        raise RemoteError("MLflow failed to read %s: %s" % (what, message(e)[:MESSAGE_LIMIT])) from e


class Registry:
    """The registry calls of one tracking server, each turning MLflow's errors into typed ones."""

    def __init__(self, client, uri):
        self.client = client
        self.uri = uri

    def call(self, what, fn, *args, missing_ok=False, **kwargs):
        try:
            return fn(*args, **kwargs)
        except MlflowException as e:
            if missing_ok and not_found(e):
                return None
            text = message(e)
            if any(marker in text for marker in CONNECTION_MARKERS):
                raise RemoteError(
                    "cannot reach the MLflow tracking server at %s (%s, timeout %ss, %s retries): %s. Check "
                    "tracking_uri / MLFLOW_TRACKING_URI and that the server is running."
                    % (
                        self.uri,
                        what,
                        os.environ.get(ENV_TIMEOUT, "?"),
                        os.environ.get(ENV_RETRIES, "?"),
                        short(text),
                    ),
                    {"tracking_uri": self.uri},
                ) from e
            raise RemoteError(
                "MLflow at %s refused to %s: %s" % (self.uri, what, short(text)), {"tracking_uri": self.uri}
            ) from e


def short(text) -> str:
    """MLflow's message on one line (white space folded): its first MESSAGE_LIMIT characters, then "..."."""
    return shorten(text, MESSAGE_LIMIT + len("..."))
