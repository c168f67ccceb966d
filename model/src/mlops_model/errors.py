"""Typed errors of the model package; each knows the exit status or HTTP status it maps to."""

from __future__ import annotations

__all__ = ["ArtifactError", "GateFailed", "InvalidInput", "ModelError"]


class ModelError(Exception):
    """Base class: something the caller can act on, with a message saying what and how."""

    exit_code = 1
    http_status = 500


class InvalidInput(ModelError):
    """A request or argument the caller got wrong (HTTP 400, exit status 2)."""

    exit_code = 2
    http_status = 400


class ArtifactError(ModelError):
    """A model directory or MLflow URI that does not hold what the package wrote there."""

    exit_code = 3


class GateFailed(ModelError):
    """A quality metric below its threshold: the pipeline must stop here."""

    exit_code = 4
