"""The model bundle: one registered model version as a local model directory, for the image.

    mlops-model-bundle fetch models:/breast-cancer/3 [--output model/bundle]
    mlops-model-bundle verify model/bundle [--name N] [--version V] [--uri U] [--build-args]
    python -m mlops_model.bundle ...

``fetch`` resolves the version (``models:/<name>/<version>``, or ``models:/<name>@<alias>`` as it
points now) with the MLflow client, which reads MLFLOW_TRACKING_URI and the MLFLOW_TRACKING_*
credentials from the environment; downloads the model directory its training run logged under
``training/`` (see mlops_model.artifacts); writes ``bundle.json`` (name, version, canonical URI,
run id); loads the result as the server would, and only then replaces the output directory.

``verify`` loads a directory the same way and, given ``--name``/``--version``/``--uri``, checks
that the bundle is that version (the image build passes its label values). ``--build-args`` prints
``--build-arg=BUNDLE_<KEY>=<value>`` lines, one per known value, for the image's model labels.
Exit status 3 for a missing or incomplete bundle, 2 for bad arguments, with a message saying what
to run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from mlops_model import artifacts
from mlops_model.errors import ArtifactError, InvalidInput, ModelError

__all__ = ["DEFAULT_OUTPUT", "BundleInfo", "fetch", "main", "verify"]

DEFAULT_OUTPUT = Path("model/bundle")
FETCH_HINT = (
    "fetch it with `make model-bundle MODEL_URI=models:/<name>/<version>` (MLFLOW_TRACKING_URI set), "
    "or build from a trained model directory with `make model-image MODEL_BUNDLE=<dir>`"
)


@dataclass(frozen=True)
class BundleInfo:
    """What ``bundle.json`` records: the registered version a bundle holds."""

    name: str
    version: str
    uri: str  # models:/<name>/<version>
    run_id: str
    requested: str  # the URI fetch was given (an alias URI says what it pointed at then)

    @classmethod
    def read(cls, directory: Path) -> BundleInfo | None:
        path = directory / artifacts.BUNDLE_FILE
        if not path.is_file():
            return None
        doc = artifacts.read_json(path)
        try:
            return cls(**{key: str(doc[key]) for key in cls.__dataclass_fields__})
        except KeyError as e:
            raise ArtifactError(f"{path} has no {e.args[0]!r}: {FETCH_HINT}") from e


def fetch(uri: str, output: Path) -> BundleInfo:
    """Download the registered version ``uri`` into ``output`` (replaced once the new one loads)."""
    if not os.environ.get(artifacts.ENV_TRACKING_URI):
        raise InvalidInput(f"{artifacts.ENV_TRACKING_URI} is not set: point it at the MLflow server that holds {uri}")
    try:
        import mlflow  # noqa: PLC0415 (heavy, and only needed to fetch)
        from mlflow.exceptions import MlflowException  # noqa: PLC0415
    except ImportError as e:
        raise ArtifactError("fetching a bundle needs the mlflow (or mlflow-skinny) package") from e
    client = mlflow.MlflowClient()
    try:
        version = artifacts.model_version(client, uri)
    except MlflowException as e:
        raise ArtifactError(f"cannot resolve {uri} in the registry at {mlflow.get_tracking_uri()}: {e.message}") from e
    if not version.run_id:
        raise ArtifactError(f"{uri} (version {version.version}) has no training run to take the model directory from")
    info = BundleInfo(
        name=version.name,
        version=str(version.version),
        uri=f"models:/{version.name}/{version.version}",
        run_id=version.run_id,
        requested=uri,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}-", dir=output.parent))
    try:
        (staging / "new").mkdir()
        try:
            local = Path(
                mlflow.artifacts.download_artifacts(
                    run_id=info.run_id, artifact_path=artifacts.MLFLOW_ARTIFACT_PATH, dst_path=str(staging / "new")
                )
            )
        except MlflowException as e:
            raise ArtifactError(f"cannot download {uri} (run {info.run_id}): {e.message}") from e
        artifacts.write_json(local / artifacts.BUNDLE_FILE, asdict(info))
        verify(local)
        if output.exists():
            output.rename(staging / "old")
        local.rename(output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return info


def verify(
    directory: Path, name: str = "", version: str = "", uri: str = ""
) -> tuple[artifacts.LoadedModel, BundleInfo | None]:
    """Load ``directory`` as the server does; check it is the given version (empty: not checked)."""
    if not directory.is_dir():
        raise ArtifactError(f"model bundle {directory} does not exist: {FETCH_HINT}")
    try:
        loaded = artifacts.load(str(directory))
    except ModelError as e:
        raise ArtifactError(f"model bundle {directory} is incomplete ({e}): {FETCH_HINT}") from e
    info = BundleInfo.read(directory)
    if version and version != loaded.version:
        raise ArtifactError(f"model bundle {directory} holds version {loaded.version}, not {version}")
    if (name or uri) and info is None:
        raise ArtifactError(f"model bundle {directory} has no {artifacts.BUNDLE_FILE}: it was not fetched")
    if name and name != info.name:
        raise ArtifactError(f"model bundle {directory} holds model {info.name!r}, not {name!r}")
    if uri and uri not in (info.uri, info.requested):
        raise ArtifactError(f"model bundle {directory} was fetched from {info.requested} ({info.uri}), not {uri}")
    return loaded, info


def build_args(loaded: artifacts.LoadedModel, info: BundleInfo | None) -> list[str]:
    """The image build arguments behind its model labels (Dockerfile: BUNDLE_NAME, BUNDLE_VERSION, BUNDLE_URI)."""
    values = {"BUNDLE_VERSION": loaded.version}
    if info is not None:
        values.update(BUNDLE_NAME=info.name, BUNDLE_URI=info.uri)
    return [f"--build-arg={key}={value}" for key, value in sorted(values.items())]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mlops-model-bundle", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fetch", help="download a registered version into a directory")
    f.add_argument("uri", help="models:/<name>/<version> or models:/<name>@<alias>")
    f.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="bundle directory (default %(default)s)")
    v = sub.add_parser("verify", help="check that a directory loads (and is the given version)")
    v.add_argument("directory", type=Path)
    v.add_argument("--name", default="", help="registered model name it must hold")
    v.add_argument("--version", default="", help="version it must hold ('local' for an unregistered directory)")
    v.add_argument("--uri", default="", help="URI it must have been fetched from")
    v.add_argument("--build-args", action="store_true", help="print the image's --build-arg lines")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "fetch":
            info = fetch(args.uri, args.output)
            print(f"mlops-model-bundle: {info.uri} (run {info.run_id}) in {args.output}")
            return 0
        loaded, info = verify(args.directory, args.name, args.version, args.uri)
    except ModelError as e:
        print(f"mlops-model-bundle: {e}", file=sys.stderr)
        return e.exit_code
    if args.build_args:
        print("\n".join(build_args(loaded, info)))
    else:
        what = info.uri if info else "unregistered"
        print(f"mlops-model-bundle: {args.directory} loads: {what} (version {loaded.version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
