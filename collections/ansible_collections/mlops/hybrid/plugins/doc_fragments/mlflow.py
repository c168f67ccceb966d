# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # MLflow connection options; the argument spec is MLFLOW_ARG_SPEC in module_utils/args.py.
    DOCUMENTATION = r"""
options:
  tracking_uri:
    description:
      - The tracking server (also the registry). Falls back to the environment variable E(MLFLOW_TRACKING_URI).
    type: str
    required: true
  username:
    description:
      - Basic-auth user, with O(password). Falls back to E(MLFLOW_TRACKING_USERNAME).
      - Empty values count as unset, so that a workflow can pass secrets that may not exist.
    type: str
  password:
    description: Basic-auth password. Falls back to E(MLFLOW_TRACKING_PASSWORD).
    type: str
  token:
    description: Bearer token, instead of O(username) and O(password). Falls back to E(MLFLOW_TRACKING_TOKEN).
    type: str
  ca_path:
    description: CA bundle to verify the server's certificate. Falls back to E(MLFLOW_TRACKING_SERVER_CERT_PATH).
    type: path
  validate_certs:
    description: Verify the server's TLS certificate.
    type: bool
    default: true
  request_timeout:
    description: Seconds to wait for each HTTP request (E(MLFLOW_HTTP_REQUEST_TIMEOUT)).
    type: int
    default: 10
  request_retries:
    description: Retries of a failed HTTP request (E(MLFLOW_HTTP_REQUEST_MAX_RETRIES)), one second apart, doubling.
    type: int
    default: 1
"""
