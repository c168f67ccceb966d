# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by every GCP module: GCP_ARG_SPEC in module_utils/args.py.
    DOCUMENTATION = r"""
options:
  project:
    description:
      - The GCP project id.
      - Falls back to the E(GCP_PROJECT) environment variable.
    type: str
    required: true
  auth_kind:
    description:
      - V(application) uses Application Default Credentials (C(gcloud auth application-default login),
        E(GOOGLE_APPLICATION_CREDENTIALS) or the VM's metadata server).
      - V(serviceaccount) uses O(service_account_file) or O(service_account_contents).
      - Falls back to the E(GCP_AUTH_KIND) environment variable.
    type: str
    choices: [serviceaccount, application]
    default: application
  service_account_file:
    description:
      - Path to a service account JSON key file, with O(auth_kind=serviceaccount).
      - Falls back to the E(GCP_SERVICE_ACCOUNT_FILE) environment variable.
    type: path
  service_account_contents:
    description:
      - The content of a service account JSON key, with O(auth_kind=serviceaccount). Never logged.
      - Falls back to the E(GCP_SERVICE_ACCOUNT_CONTENTS) environment variable.
    type: jsonarg
  api_endpoint:
    description:
      - The Compute API endpoint, such as C(https://compute.googleapis.com) or a private endpoint.
        Default is the public endpoint.
      - Falls back to the E(GCP_COMPUTE_ENDPOINT) environment variable.
    type: str
  operation_timeout:
    description: Seconds to wait for each long-running operation (and for a VM between states).
    type: int
    default: 300
  poll_interval:
    description:
      - Seconds between two polls of an operation; also the first delay of the retry backoff, which
        doubles at each retry up to 30 seconds.
    type: float
    default: 2.0
  retries:
    description: How many times a call answered with HTTP 429 or 5xx is retried before the module fails.
    type: int
    default: 5
requirements:
  - google-cloud-compute
  - google-auth
notes:
  - The credentials need roles/compute.instanceAdmin.v1 (instances), roles/compute.securityAdmin
    (firewall rules) and roles/compute.viewer (listing), or an equivalent custom role.
"""
