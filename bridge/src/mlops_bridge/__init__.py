"""The alert bridge: Alertmanager webhooks in, context gathered and redacted, GitHub repository_dispatch out."""

from __future__ import annotations

__all__ = ["__version__"]
__version__ = "0.1.0"
