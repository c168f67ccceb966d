# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # GitHub connection options; the argument spec is GITHUB_ARG_SPEC in module_utils/args.py.
    DOCUMENTATION = r"""
options:
  github_token:
    description:
      - Token for the GitHub REST API (a workflow's C(GITHUB_TOKEN) or a fine-grained token).
      - Read from the E(GITHUB_TOKEN) environment variable when not set.
    type: str
  github_api_url:
    description:
      - Base URL of the GitHub REST API; GitHub Enterprise Server uses C(https://HOST/api/v3).
      - Read from the E(GITHUB_API_URL) environment variable when not set.
    type: str
    default: https://api.github.com
  repository:
    description:
      - The repository as C(owner/name).
      - Read from the E(GITHUB_REPOSITORY) environment variable when not set.
    type: str
"""
