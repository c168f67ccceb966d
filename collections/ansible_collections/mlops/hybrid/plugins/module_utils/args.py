# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every shared option family in one place: each ``*_ARG_SPEC`` is documented by the doc fragment named above it.

A family's options are what ``module_defaults`` sets once per play through the action group of
the same name in ``meta/runtime.yml`` (``group/mlops.hybrid.github`` and so on); environment
fallbacks are here, so playbooks need not read the environment themselves. A module builds its
spec with :func:`spec`, which copies the families (no module mutates another's spec) and refuses
an option defined twice::

    argument_spec = spec(GITHUB_ARG_SPEC, LLM_ARG_SPEC, run_id=dict(type="int", required=True))

Only modules import this file: the logic in module_utils takes plain values and never needs Ansible.
"""

from __future__ import annotations

import copy

from ansible.module_utils.basic import env_fallback

GITHUB_API_URL = "https://api.github.com"
LLM_PROVIDERS = ["gemini", "openai_compatible", "offline"]

# The environment variables the MLflow client reads on every request, by option.
MLFLOW_ENV = dict(
    tracking_uri="MLFLOW_TRACKING_URI",
    username="MLFLOW_TRACKING_USERNAME",
    password="MLFLOW_TRACKING_PASSWORD",  # noqa: S106 - the name of a variable, not a password
    token="MLFLOW_TRACKING_TOKEN",  # noqa: S106
    ca_path="MLFLOW_TRACKING_SERVER_CERT_PATH",
)

# doc fragment: mlops.hybrid.github (action group github)
GITHUB_ARG_SPEC = dict(
    github_token=dict(type="str", no_log=True, fallback=(env_fallback, ["GITHUB_TOKEN"])),
    github_api_url=dict(type="str", default=GITHUB_API_URL, fallback=(env_fallback, ["GITHUB_API_URL"])),
    repository=dict(type="str", fallback=(env_fallback, ["GITHUB_REPOSITORY"])),
)

# doc fragment: mlops.hybrid.llm_provider (action group llm)
LLM_ARG_SPEC = dict(
    provider=dict(type="str", default="gemini", choices=LLM_PROVIDERS),
    model=dict(type="str"),
    api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["GEMINI_API_KEY", "GOOGLE_API_KEY"])),
    api_base_url=dict(type="str"),
    timeout=dict(type="int", default=60),
    max_retries=dict(type="int", default=3),
    max_retry_delay=dict(type="float", default=30.0),
    fallback_to_offline=dict(type="bool", default=True),
)

# doc fragment: mlops.hybrid.gcp (action group gcp)
GCP_ARG_SPEC = dict(
    project=dict(type="str", required=True, fallback=(env_fallback, ["GCP_PROJECT"])),
    auth_kind=dict(
        type="str",
        choices=["serviceaccount", "application"],
        default="application",
        fallback=(env_fallback, ["GCP_AUTH_KIND"]),
    ),
    service_account_file=dict(type="path", fallback=(env_fallback, ["GCP_SERVICE_ACCOUNT_FILE"])),
    service_account_contents=dict(
        type="jsonarg", no_log=True, fallback=(env_fallback, ["GCP_SERVICE_ACCOUNT_CONTENTS"])
    ),
    api_endpoint=dict(type="str", fallback=(env_fallback, ["GCP_COMPUTE_ENDPOINT"])),
    operation_timeout=dict(type="int", default=300),
    poll_interval=dict(type="float", default=2.0),
    retries=dict(type="int", default=5),
)

# doc fragment: mlops.hybrid.mlflow (action group mlflow)
MLFLOW_ARG_SPEC = dict(
    tracking_uri=dict(type="str", required=True, fallback=(env_fallback, [MLFLOW_ENV["tracking_uri"]])),
    username=dict(type="str", fallback=(env_fallback, [MLFLOW_ENV["username"]])),
    password=dict(type="str", no_log=True, fallback=(env_fallback, [MLFLOW_ENV["password"]])),
    token=dict(type="str", no_log=True, fallback=(env_fallback, [MLFLOW_ENV["token"]])),
    ca_path=dict(type="path", fallback=(env_fallback, [MLFLOW_ENV["ca_path"]])),
    validate_certs=dict(type="bool", default=True),
    request_timeout=dict(type="int", default=10),
    request_retries=dict(type="int", default=1),
)

# doc fragment: mlops.hybrid.k8s (action group k8s); the names and variables of kubernetes.core's.
K8S_ARG_SPEC = dict(
    host=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_HOST"])),
    api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["K8S_AUTH_API_KEY"])),
    kubeconfig=dict(type="path", fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG"])),
    context=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_CONTEXT"])),
    validate_certs=dict(type="bool", default=True),
    ca_cert=dict(type="path"),
)


def spec(*families, **own):
    """One argument spec from option families and a module's own options; an option defined twice is an error."""
    out = {}
    for part in (*families, own):
        for name, option in part.items():
            if name in out:
                raise KeyError("option %s is defined twice in the argument spec" % name)
            out[name] = copy.deepcopy(option)
    return out
