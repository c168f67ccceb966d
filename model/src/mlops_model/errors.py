"""Typed errors of the model package; each knows the exit status or HTTP status it maps to."""

from __future__ import annotations

__all__ = ["ArtifactError", "GateFailed", "InvalidInput", "MissingValues", "ModelError"]


class ModelError(Exception):
    """Base class: something the caller can act on, with a message saying what and how."""

    exit_code = 1
    http_status = 500


class InvalidInput(ModelError):
    """A request or argument the caller got wrong (HTTP 400, exit status 2)."""

    exit_code = 2
    http_status = 400


class MissingValues(InvalidInput):
    """A request refused because instances lack values (absent, null or not finite).

    ``per_feature`` counts the instances missing each feature, ``instances`` those missing any: the
    monitor keeps both, so the share of missing values reaches the drift analysis.
    """

    def __init__(self, message: str, per_feature: list[int], instances: int):
        super().__init__(message)
        self.per_feature = per_feature
        self.instances = instances


class ArtifactError(ModelError):
    """A model directory or MLflow URI that does not hold what the package wrote there."""

    exit_code = 3


class GateFailed(ModelError):
    """A quality metric below its threshold: the pipeline must stop here."""

    exit_code = 4
