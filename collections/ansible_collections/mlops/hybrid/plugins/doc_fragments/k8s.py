# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Kubernetes API options (kubernetes.core's names and variables); the argument spec is K8S_ARG_SPEC in
    # module_utils/args.py.
    DOCUMENTATION = r"""
options:
  host:
    description:
      - URL of the Kubernetes API server. With O(api_key), used instead of a kubeconfig. Falls back to E(K8S_AUTH_HOST).
    type: str
  api_key:
    description: Bearer token for O(host). Falls back to E(K8S_AUTH_API_KEY).
    type: str
  kubeconfig:
    description:
      - Path of a kubeconfig. Falls back to E(K8S_AUTH_KUBECONFIG). Without it and without O(host), the in-cluster
        ServiceAccount is used, else C(~/.kube/config).
    type: path
  context:
    description: Context of the kubeconfig. Falls back to E(K8S_AUTH_CONTEXT).
    type: str
  validate_certs:
    description: Verify the API server's certificate.
    type: bool
    default: true
  ca_cert:
    description: CA bundle of the API server, with O(host).
    type: path
"""
