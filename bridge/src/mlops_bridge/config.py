"""Settings of the bridge: every option has a command-line flag and an environment variable."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ENV", "EVENT_TYPES", "ConfigError", "Settings", "parser", "settings_from_args"]

# Route (the webhook path's last part) -> repository_dispatch event type.
EVENT_TYPES = {"operational": "aiops-alert", "drift": "aiops-drift"}

ENV = {
    "host": "BRIDGE_HOST",
    "port": "BRIDGE_PORT",
    "token_file": "BRIDGE_TOKEN_FILE",
    "token": "BRIDGE_TOKEN",
    "spool_dir": "BRIDGE_SPOOL_DIR",
    "prometheus_url": "BRIDGE_PROMETHEUS_URL",
    "mlflow_uri": "MLFLOW_TRACKING_URI",
    "kubernetes": "BRIDGE_KUBERNETES",
    "kubeconfig": "BRIDGE_KUBECONFIG",
    "github_api_url": "GITHUB_API_URL",
    "github_repository": "GITHUB_REPOSITORY",
    "github_token": "GITHUB_TOKEN",
    "github_token_file": "GITHUB_TOKEN_FILE",
    "max_body_bytes": "BRIDGE_MAX_BODY_BYTES",
    "dedup_window": "BRIDGE_DEDUP_WINDOW_SECONDS",
    "rate_per_minute": "BRIDGE_RATE_PER_MINUTE",
    "rate_burst": "BRIDGE_RATE_BURST",
    "spool_max": "BRIDGE_SPOOL_MAX",
    "retry_base": "BRIDGE_RETRY_BASE_SECONDS",
    "retry_max": "BRIDGE_RETRY_MAX_SECONDS",
    "dispatch_resolved": "BRIDGE_DISPATCH_RESOLVED",
    "log_level": "BRIDGE_LOG_LEVEL",
}


class ConfigError(ValueError):
    """A setting is missing or wrong; the message says which and how to set it."""


@dataclass(frozen=True)
class Settings:
    spool_dir: Path
    token: str = field(repr=False)
    github_repository: str
    github_token: str = field(repr=False)
    host: str = "0.0.0.0"  # noqa: S104 - a container listens on its pod address
    port: int = 8080
    github_api_url: str = "https://api.github.com"
    prometheus_url: str | None = None
    mlflow_uri: str | None = None
    kubernetes: str = "auto"  # auto: in-cluster ServiceAccount or BRIDGE_KUBECONFIG; off: no pod context
    kubeconfig: str | None = None
    max_body_bytes: int = 256 * 1024
    max_alerts: int = 1000
    dedup_window: float = 600.0
    dedup_max_entries: int = 10000
    # Gemini's free tier allows about 15 requests a minute: one analysis per dispatch, well under it.
    rate_per_minute: float = 6.0
    rate_burst: int = 3
    spool_max: int = 5000
    retry_base: float = 1.0
    retry_max: float = 60.0
    dispatch_timeout: float = 10.0
    context_timeout: float = 10.0
    context_max_chars: int = 12000
    dispatch_resolved: bool = False


def _env(key: str, default: str | None = None) -> str | None:
    value = os.environ.get(ENV[key])
    return value if value not in (None, "") else default


def _switch(text: str) -> bool:
    value = str(text).strip().lower()
    if value in {"1", "true", "on", "yes"}:
        return True
    if value in {"0", "false", "off", "no"}:
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not on/off")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mlops-bridge",
        description="Alertmanager webhooks in, redacted context gathered, GitHub repository_dispatch out.",
    )
    a = p.add_argument
    a("--host", default=_env("host", "0.0.0.0"), help="address to bind [BRIDGE_HOST]")  # noqa: S104
    a("--port", type=int, default=int(_env("port", "8080")), help="HTTP port [BRIDGE_PORT]")
    a("--token-file", default=_env("token_file"), help="file holding the webhook bearer token [BRIDGE_TOKEN_FILE]")
    a("--spool-dir", default=_env("spool_dir"), help="durable spool directory [BRIDGE_SPOOL_DIR]")
    a("--prometheus-url", default=_env("prometheus_url"), help="Prometheus for context [BRIDGE_PROMETHEUS_URL]")
    a("--mlflow-uri", default=_env("mlflow_uri"), help="MLflow for drift context [MLFLOW_TRACKING_URI]")
    a("--kubernetes", choices=["auto", "off"], default=_env("kubernetes", "auto"), help="[BRIDGE_KUBERNETES]")
    a("--kubeconfig", default=_env("kubeconfig"), help="kubeconfig instead of in-cluster [BRIDGE_KUBECONFIG]")
    a("--github-api-url", default=_env("github_api_url", "https://api.github.com"), help="[GITHUB_API_URL]")
    a("--github-repository", default=_env("github_repository"), help="owner/name [GITHUB_REPOSITORY]")
    a("--github-token-file", default=_env("github_token_file"), help="instead of GITHUB_TOKEN [GITHUB_TOKEN_FILE]")
    a("--max-body-bytes", type=int, default=int(_env("max_body_bytes", str(256 * 1024))))
    a("--dedup-window", type=float, default=float(_env("dedup_window", "600")), help="seconds")
    a("--rate-per-minute", type=float, default=float(_env("rate_per_minute", "6")), help="dispatches a minute")
    a("--rate-burst", type=int, default=int(_env("rate_burst", "3")))
    a("--spool-max", type=int, default=int(_env("spool_max", "5000")), help="records before 503")
    a("--retry-base", type=float, default=float(_env("retry_base", "1")), help="first retry delay, seconds")
    a("--retry-max", type=float, default=float(_env("retry_max", "60")), help="longest retry delay, seconds")
    a("--dispatch-resolved", type=_switch, default=_switch(_env("dispatch_resolved", "off")))
    a("--log-level", default=_env("log_level", "INFO"))
    return p


def _read_secret(path: str | None, env_name: str, what: str) -> str:
    if path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ConfigError(f"cannot read the {what} from {path}: {e.strerror}") from e
        if not value:
            raise ConfigError(f"the {what} file {path} is empty")
        return value
    value = os.environ.get(env_name, "").strip()
    if not value:
        raise ConfigError(f"no {what}: set {env_name} or give its file")
    return value


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Validated settings; a :class:`ConfigError` names what is wrong."""
    if not args.spool_dir:
        raise ConfigError("no spool directory: set BRIDGE_SPOOL_DIR or --spool-dir (a persistent volume)")
    repo = args.github_repository or ""
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ConfigError(f"GITHUB_REPOSITORY must be owner/name, got {repo!r}")
    numbers = {
        "--port": (args.port, 1),
        "--max-body-bytes": (args.max_body_bytes, 1024),
        "--rate-burst": (args.rate_burst, 1),
        "--spool-max": (args.spool_max, 1),
    }
    for flag, (value, low) in numbers.items():
        if value < low:
            raise ConfigError(f"{flag} must be at least {low}, got {value}")
    if args.rate_per_minute <= 0 or args.dedup_window < 0 or args.retry_base <= 0 or args.retry_max < args.retry_base:
        raise ConfigError("rate-per-minute > 0, dedup-window >= 0 and 0 < retry-base <= retry-max are required")
    return Settings(
        spool_dir=Path(args.spool_dir),
        token=_read_secret(args.token_file, ENV["token"], "webhook bearer token"),
        github_repository=repo,
        github_token=_read_secret(args.github_token_file, ENV["github_token"], "GitHub token"),
        host=args.host,
        port=args.port,
        github_api_url=args.github_api_url.rstrip("/"),
        prometheus_url=args.prometheus_url.rstrip("/") if args.prometheus_url else None,
        mlflow_uri=args.mlflow_uri,
        kubernetes=args.kubernetes,
        kubeconfig=args.kubeconfig,
        max_body_bytes=args.max_body_bytes,
        dedup_window=args.dedup_window,
        rate_per_minute=args.rate_per_minute,
        rate_burst=args.rate_burst,
        spool_max=args.spool_max,
        retry_base=args.retry_base,
        retry_max=args.retry_max,
        dispatch_resolved=args.dispatch_resolved,
    )
