# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Option groups shared by modules: each ``*_ARG_SPEC`` matches a doc fragment in plugins/doc_fragments/.

Combine them in a module's argspec with ``copy.deepcopy`` so no module mutates another's spec::

    spec = copy.deepcopy(GITHUB_ARG_SPEC)
    spec.update(copy.deepcopy(LLM_PROVIDER_ARG_SPEC))
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

GITHUB_API_URL = "https://api.github.com"
LLM_PROVIDERS = ["gemini", "openai_compatible", "offline"]

# doc fragment: mlops.hybrid.github
GITHUB_ARG_SPEC = dict(
    github_token=dict(type="str", no_log=True, fallback=(env_fallback, ["GITHUB_TOKEN"])),
    github_api_url=dict(type="str", default=GITHUB_API_URL, fallback=(env_fallback, ["GITHUB_API_URL"])),
    repository=dict(type="str", fallback=(env_fallback, ["GITHUB_REPOSITORY"])),
)

# doc fragment: mlops.hybrid.llm_provider
LLM_PROVIDER_ARG_SPEC = dict(
    provider=dict(type="str", default="gemini", choices=LLM_PROVIDERS),
    model=dict(type="str"),
    api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["GEMINI_API_KEY", "GOOGLE_API_KEY"])),
    api_base_url=dict(type="str"),
    timeout=dict(type="int", default=60),
    max_retries=dict(type="int", default=3),
    max_retry_delay=dict(type="float", default=30.0),
    fallback_to_offline=dict(type="bool", default=True),
)
