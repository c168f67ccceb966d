"""Where a trained model lives and how to get it back: a local directory or an MLflow URI.

A model directory holds ``model.joblib`` (the fitted scikit-learn pipeline), ``reference.json``
(the training reference for drift), ``metrics.json``, ``feature_importances.json`` and
``metadata.json`` (data hash, seed, feature and class names, revision). Training logs the same
files to MLflow under the artifact path ``training/`` next to the MLflow model ``model/``.
A directory fetched from the registry (``mlops_model.bundle``) also holds ``bundle.json``: the
registered name, version and URI it came from, which is then the version the server reports.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib

from mlops_model.errors import ArtifactError, InvalidInput
from mlops_model.reference import Reference

__all__ = [
    "BUNDLE_FILE",
    "ENV_REVISION",
    "ENV_TRACKING_URI",
    "MLFLOW_ARTIFACT_PATH",
    "MLFLOW_MODEL_NAME",
    "MODEL_FILE",
    "LoadedModel",
    "load",
    "model_version",
    "read_json",
    "revision",
    "write_json",
]

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
BUNDLE_FILE = "bundle.json"
MLFLOW_ARTIFACT_PATH = "training"
MLFLOW_MODEL_NAME = "model"
ENV_TRACKING_URI = "MLFLOW_TRACKING_URI"
ENV_REVISION = "MODEL_REVISION"


@dataclass
class LoadedModel:
    estimator: Any
    reference: Reference
    metadata: dict
    version: str
    source: str


def revision() -> str:
    """The source revision the model is built from: MODEL_REVISION, else GITHUB_SHA, else unknown."""
    return os.environ.get(ENV_REVISION) or os.environ.get("GITHUB_SHA") or "unknown"


def write_json(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return path


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as e:
        raise ArtifactError(f"{path} is missing: is this a directory written by mlops-model-train?") from e
    except ValueError as e:
        raise ArtifactError(f"{path} is not valid JSON ({e})") from e


def load(source: str) -> LoadedModel:
    """Load from a local model directory or an MLflow URI (``models:/<name>@<alias>``, ``runs:/...``)."""
    if "://" in source or source.startswith(("models:/", "runs:/")):
        return _load_mlflow(source)
    return _load_directory(Path(source))


def _load_directory(directory: Path) -> LoadedModel:
    if not directory.is_dir():
        raise InvalidInput(f"model directory {directory} does not exist: pass the --output-dir of the training run")
    path = directory / MODEL_FILE
    try:
        estimator = joblib.load(path)
    except FileNotFoundError as e:
        raise ArtifactError(f"{path} is missing: is {directory} a directory written by mlops-model-train?") from e
    metadata = read_json(directory / METADATA_FILE)
    bundle = directory / BUNDLE_FILE
    return LoadedModel(
        estimator=estimator,
        reference=Reference.load(directory),
        metadata=metadata,
        version=str(read_json(bundle)["version"]) if bundle.is_file() else "local",
        source=str(directory),
    )


def _load_mlflow(uri: str) -> LoadedModel:
    try:
        import mlflow  # noqa: PLC0415 (heavy, and only needed for MLflow URIs)
        import mlflow.sklearn  # noqa: PLC0415
        from mlflow.exceptions import MlflowException  # noqa: PLC0415
    except ImportError as e:
        raise ArtifactError("loading from an MLflow URI needs the mlflow (or mlflow-skinny) package") from e
    try:
        info = mlflow.models.get_model_info(uri)
        estimator = mlflow.sklearn.load_model(uri)
        version = _registry_version(mlflow, uri)
        with tempfile.TemporaryDirectory(prefix="mlops-model-") as tmp:
            local = mlflow.artifacts.download_artifacts(
                run_id=info.run_id, artifact_path=MLFLOW_ARTIFACT_PATH, dst_path=tmp
            )
            loaded = LoadedModel(
                estimator=estimator,
                reference=Reference.load(Path(local)),
                metadata=read_json(Path(local) / METADATA_FILE),
                version=version,
                source=uri,
            )
    except MlflowException as e:
        raise ArtifactError(f"cannot load {uri} from MLflow: {e.message}") from e
    return loaded


def model_version(client: Any, uri: str) -> Any:
    """The registry's ModelVersion behind ``models:/<name>/<version>`` or ``models:/<name>@<alias>``."""
    ref = uri.removeprefix("models:/")
    name, _, version = ref.partition("/")
    if "@" in ref:
        name, alias = ref.split("@", 1)
        if uri.startswith("models:/") and name and alias:
            return client.get_model_version_by_alias(name, alias)
    elif uri.startswith("models:/") and name and version.isdigit():
        return client.get_model_version(name, version)
    raise InvalidInput(f"{uri!r} names no registered version: use models:/<name>/<version> or models:/<name>@<alias>")


def _registry_version(mlflow: Any, uri: str) -> str:
    """The registry version behind ``models:/name@alias`` or ``models:/name/3``; else the run's URI."""
    if not uri.startswith("models:/"):
        return "run"
    _, _, version = uri.removeprefix("models:/").partition("/")
    if "@" not in uri and not version.isdigit():
        return version or "latest"  # a stage (models:/name/Production) or the latest version
    return str(model_version(mlflow.MlflowClient(), uri).version)
