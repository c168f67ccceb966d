# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # LLM provider options; the argument spec is LLM_ARG_SPEC in module_utils/args.py.
    DOCUMENTATION = r"""
options:
  provider:
    description:
      - V(gemini) calls Google's Gemini API with the google-genai library.
      - V(openai_compatible) calls a chat-completions endpoint (Ollama, vLLM, LiteLLM) at O(api_base_url),
        for data that must stay on site.
      - V(offline) uses deterministic rules only and needs nothing else.
      - A remote provider without a key or that fails falls back to V(offline) unless
        O(fallback_to_offline=false); the result says so.
    type: str
    choices: [gemini, openai_compatible, offline]
    default: gemini
  model:
    description:
      - Model name. Defaults to C(gemini-2.5-flash) for V(gemini) and C(llama3.1) for V(openai_compatible).
    type: str
  api_key:
    description:
      - API key of the provider. Read from E(GEMINI_API_KEY) or E(GOOGLE_API_KEY) when not set.
    type: str
  api_base_url:
    description:
      - Base URL of the provider's API. Required for V(openai_compatible) (such as C(http://127.0.0.1:11434/v1));
        for V(gemini) it replaces Google's endpoint (a proxy or a local test server).
    type: str
  timeout:
    description: Seconds to wait for one answer of the provider.
    type: int
    default: 60
  max_retries:
    description:
      - Retries after HTTP 429 or 5xx answers. The wait honours the server's retry delay
        (Gemini's C(RetryInfo.retryDelay), C(Retry-After)), else grows exponentially.
    type: int
    default: 3
  max_retry_delay:
    description: Upper bound in seconds of one wait between retries.
    type: float
    default: 30.0
  fallback_to_offline:
    description: When the remote provider fails, answer with the offline rules (flagged) instead of failing.
    type: bool
    default: true
"""
