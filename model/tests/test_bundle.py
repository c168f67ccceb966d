"""The model bundle: a registered version fetched from a real MLflow server into the directory the
image carries, and the checks that refuse a missing, incomplete or different bundle."""

from __future__ import annotations

import json
import shutil

import pytest

from mlops_model import artifacts
from mlops_model.bundle import BundleInfo, build_args, fetch, main, verify
from mlops_model.errors import ArtifactError, InvalidInput
from mlops_model.train import main as train_main
from sandbox.model_server import breast_cancer_rows


def test_a_training_directory_is_an_unregistered_bundle(model_dir, capsys):
    loaded, info = verify(model_dir)
    assert (loaded.version, info) == ("local", None)
    assert build_args(loaded, info) == ["--build-arg=BUNDLE_VERSION=local"]
    assert main(["verify", str(model_dir), "--version", "local"]) == 0
    assert "loads: unregistered (version local)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("remove", "message"),
    [
        (None, "does not exist"),
        ("model.joblib", "model.joblib is missing"),
        ("reference.json", "reference.json"),
        ("metadata.json", "metadata.json is missing"),
    ],
)
def test_a_missing_or_incomplete_bundle_says_what_to_run(model_dir, tmp_path, capsys, remove, message):
    bundle = tmp_path / "bundle"
    if remove:
        shutil.copytree(model_dir, bundle)
        (bundle / remove).unlink()
    with pytest.raises(ArtifactError, match=message):
        verify(bundle)
    assert main(["verify", str(bundle), "--build-args"]) == ArtifactError.exit_code
    err = capsys.readouterr().err
    assert message in err and "make model-bundle MODEL_URI=models:/<name>/<version>" in err


def test_verify_refuses_a_bundle_that_is_not_the_named_version(model_dir):
    with pytest.raises(ArtifactError, match="holds version local, not 3"):
        verify(model_dir, version="3")
    with pytest.raises(ArtifactError, match=r"has no bundle\.json: it was not fetched"):
        verify(model_dir, name="breast-cancer")


def test_fetch_needs_a_tracking_server_and_a_version(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv(artifacts.ENV_TRACKING_URI, raising=False)
    assert main(["fetch", "models:/breast-cancer/1", "--output", str(tmp_path / "b")]) == InvalidInput.exit_code
    assert "MLFLOW_TRACKING_URI is not set" in capsys.readouterr().err
    monkeypatch.setenv(artifacts.ENV_TRACKING_URI, "http://127.0.0.1:9")
    for uri in ("models:/breast-cancer", "models:/breast-cancer/latest", "runs:/abc/model", "models:/@champion"):
        with pytest.raises(InvalidInput, match="names no registered version"):
            fetch(uri, tmp_path / "b")
    assert not (tmp_path / "b").exists()


@pytest.fixture
def registered(mlflow_tracking, tmp_path, capsys):
    """A model trained and logged to the bench's MLflow server, registered as version 1 and @champion."""
    import mlflow  # noqa: PLC0415

    assert train_main(["--output-dir", str(tmp_path / "trained"), "--experiment", mlflow_tracking.unique()]) == 0
    run_id = capsys.readouterr().out.split("mlflow run ")[1].split()[0]
    name = mlflow_tracking.unique("model")
    version = mlflow.register_model(f"runs:/{run_id}/model", name)
    mlflow_tracking.client().set_registered_model_alias(name, "champion", version.version)
    return name, version.version, run_id


@pytest.mark.services
@pytest.mark.slow
def test_fetch_writes_the_registered_version_and_replaces_the_old_bundle(registered, tmp_path, capsys):
    name, version, run_id = registered
    output = tmp_path / "bundle"
    output.mkdir()
    (output / "stale.txt").write_text("from an earlier fetch")

    assert main(["fetch", f"models:/{name}/{version}", "--output", str(output)]) == 0
    assert f"models:/{name}/{version} (run {run_id}) in {output}" in capsys.readouterr().out
    assert not (output / "stale.txt").exists()
    assert not [p for p in output.parent.iterdir() if p.name.startswith(".bundle-")]  # staging removed
    assert json.loads((output / artifacts.BUNDLE_FILE).read_text()) == {
        "name": name, "version": version, "uri": f"models:/{name}/{version}", "run_id": run_id,
        "requested": f"models:/{name}/{version}",
    }  # fmt: skip
    loaded, info = verify(output, name=name, version=version, uri=f"models:/{name}/{version}")
    assert loaded.version == version  # what the server reports in model_info
    rows, _ = breast_cancer_rows()
    registry = artifacts.load(f"models:/{name}/{version}")
    assert loaded.estimator.predict(rows).tolist() == registry.estimator.predict(rows).tolist()
    assert build_args(loaded, info) == [
        f"--build-arg=BUNDLE_NAME={name}", f"--build-arg=BUNDLE_URI=models:/{name}/{version}",
        f"--build-arg=BUNDLE_VERSION={version}",
    ]  # fmt: skip
    for wrong, message in (({"name": "other"}, "not 'other'"), ({"version": "9"}, "not 9"),
                           ({"uri": "models:/other/1"}, "not models:/other/1")):  # fmt: skip
        with pytest.raises(ArtifactError, match=message):
            verify(output, **wrong)


@pytest.mark.services
@pytest.mark.slow
def test_fetch_by_alias_records_the_version_it_pointed_at(registered, tmp_path):
    name, version, _ = registered
    info = fetch(f"models:/{name}@champion", tmp_path / "bundle")
    assert (info.version, info.uri) == (version, f"models:/{name}/{version}")
    assert info.requested == f"models:/{name}@champion"
    assert BundleInfo.read(tmp_path / "bundle") == info
    verify(tmp_path / "bundle", uri=f"models:/{name}@champion")


@pytest.mark.services
@pytest.mark.slow
def test_a_failed_fetch_leaves_the_bundle_as_it_was(registered, tmp_path):
    name, version, _ = registered
    output = tmp_path / "bundle"
    fetch(f"models:/{name}/{version}", output)
    before = sorted(p.name for p in output.iterdir())
    with pytest.raises(ArtifactError, match=f"cannot resolve models:/{name}/99"):
        fetch(f"models:/{name}/99", output)
    assert sorted(p.name for p in output.iterdir()) == before
    assert verify(output)[0].version == version
