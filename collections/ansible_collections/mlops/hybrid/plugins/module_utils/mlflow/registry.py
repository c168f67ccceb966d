# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Register a run's model in the MLflow Model Registry, gate it on a metric, move an alias, audit the move.

Resource flow: resolve the model's source (a run's logged model, ``runs:/``, ``models:/<model id>``
or a storage URI) -> gate on a run metric -> fetch the registered model, the version already
registered from that source and the alias -> compare with what is wanted -> create the model,
create the version, set lineage tags, move the alias -> return the registry as it now is.

Aliases only: the deprecated stages are never read or written. Every alias move appends one
record to the registered model's tags, key ``mlops.alias_history.<alias>.<000001>`` and value a
JSON object ``{alias, version, previous_version, run_id, source, actor, reason, at, ...lineage}``.
Tags live in the registry's database with the model, so the history survives and is returned by
every call: "which version served when" is the list read in order.
"""

from __future__ import annotations

import json
import re
import time
from collections import namedtuple
from dataclasses import dataclass, field

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import (
    GateFailed,
    InvalidInput,
    RemoteError,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.mlflow.client import MlflowException, Registry, short

__all__ = [
    "HISTORY_PREFIX",
    "Registration",
    "gate",
    "history",
    "register",
    "validate",
]

HISTORY_PREFIX = "mlops.alias_history."
ALIAS_RE = re.compile(r"^[\w-]+$")
RESERVED_ALIAS_RE = re.compile(r"^(?:[vV]\d+|latest)$", re.IGNORECASE)

# What a version is registered from: its run (or None), the source URI, the logged model's id (or None).
Source = namedtuple("Source", ["run_id", "uri", "model_id"], defaults=[None])


@dataclass(frozen=True)
class Registration:
    """What :func:`register` is asked for; a module builds it from its params by name (``runner.options``)."""

    name: str
    run_id: str | None = None
    model_uri: str | None = None
    artifact_path: str = "model"
    alias: str | None = "champion"
    tags: dict = field(default_factory=dict)
    description: str | None = None
    metric: str | None = None
    min_value: float | None = None
    actor: str = "unknown"
    reason: str = ""
    wait_timeout: int = 60
    check_mode: bool = False


def validate(reg: Registration) -> None:
    if not reg.name or not reg.name.strip():
        raise InvalidInput("name is empty: give the registered model's name")
    if bool(reg.run_id) == bool(reg.model_uri):
        raise InvalidInput("give exactly one of run_id and model_uri")
    if reg.alias is not None and (not ALIAS_RE.match(reg.alias) or RESERVED_ALIAS_RE.match(reg.alias)):
        raise InvalidInput(
            "alias %r is not allowed: letters, digits, '_' and '-', and not 'latest' or v<number>" % reg.alias
        )
    if (reg.metric is None) != (reg.min_value is None):
        raise InvalidInput("metric and min_value go together: give both to gate, or neither")
    bad = [k for k, v in reg.tags.items() if v is None or not str(k).strip()]
    if bad:
        raise InvalidInput("tags %s have an empty key or a null value" % bad)


def resolve_source(reg: Registration, registry: Registry):
    """(run_id, source, model_id) of the model to register."""
    run_id, artifact_path = reg.run_id, reg.artifact_path
    uri = reg.model_uri
    if uri and uri.startswith("models:/"):
        ref = uri[len("models:/") :]
        if not ref.startswith("m-") or "/" in ref or "@" in ref:
            raise InvalidInput(
                "model_uri %s names a registered model; give a run (run_id or runs:/<run>/<path>) or a logged "
                "model (models:/m-<id>)" % uri
            )
        logged = registry.call("get the logged model %s" % ref, registry.client.get_logged_model, ref, missing_ok=True)
        if logged is None:
            raise InvalidInput("logged model %s does not exist on %s" % (ref, registry.uri))
        return logged.source_run_id, uri, ref
    if uri and uri.startswith("runs:/"):
        run_id, _sep, artifact_path = uri[len("runs:/") :].partition("/")
        if not run_id or not artifact_path:
            raise InvalidInput("model_uri %s is not runs:/<run id>/<artifact path>" % uri)
    elif uri:
        return None, uri, None
    run = get_run(registry, run_id)
    models = registry.call(
        "search the logged models of run %s" % run_id,
        registry.client.search_logged_models,
        experiment_ids=[run.info.experiment_id],
        filter_string="name = '%s'" % artifact_path.replace("'", ""),
    )
    mine = sorted((m for m in models if m.source_run_id == run_id), key=lambda m: m.creation_timestamp or 0)
    if mine:
        return run_id, "models:/%s" % mine[-1].model_id, mine[-1].model_id
    files = registry.call(
        "list the artifacts of run %s" % run_id, registry.client.list_artifacts, run_id, artifact_path
    )
    if any(f.path.rsplit("/", 1)[-1] == "MLmodel" for f in files):
        return run_id, "%s/%s" % (run.info.artifact_uri.rstrip("/"), artifact_path), None
    raise InvalidInput(
        "run %s has no model named %r (log one with mlflow.<flavor>.log_model(name=%r) or set artifact_path)"
        % (run_id, artifact_path, artifact_path)
    )


def get_run(registry: Registry, run_id: str):
    run = registry.call("get run %s" % run_id, registry.client.get_run, run_id, missing_ok=True)
    if run is None:
        raise InvalidInput("run %s does not exist on %s" % (run_id, registry.uri))
    return run


def gate(reg: Registration, registry: Registry, run_id: str | None):
    if reg.metric is None:
        return None
    if not run_id:
        raise InvalidInput(
            "the gate needs a run: model_uri %s has no run to read metric %s from" % (reg.model_uri, reg.metric)
        )
    metrics = get_run(registry, run_id).data.metrics
    if reg.metric not in metrics:
        raise InvalidInput(
            "run %s has no metric %r; it logged: %s" % (run_id, reg.metric, ", ".join(sorted(metrics)) or "none")
        )
    value = float(metrics[reg.metric])
    result = {"name": reg.metric, "value": value, "min_value": float(reg.min_value), "passed": value >= reg.min_value}
    if value < reg.min_value:
        raise GateFailed(
            "gate failed: %s %.4f of run %s is below the threshold %.4f; nothing was registered"
            % (reg.metric, value, run_id, reg.min_value),
            {"gate": result, "run_id": run_id},
        )
    return result


def find_version(registry: Registry, name: str, run_id, source):
    """The lowest version of ``name`` registered from ``source`` (and ``run_id``), or None."""
    query = "name = '%s'" % name.replace("'", "\\'")
    if run_id:
        query += " and run_id = '%s'" % run_id
    versions = registry.call("search the versions of %s" % name, registry.client.search_model_versions, query)
    same = [v for v in versions if v.source == source]
    return min(same, key=lambda v: int(v.version)) if same else None


def history(model, alias=None) -> list:
    """The alias moves recorded on ``model`` (a RegisteredModel), oldest first."""
    tags = getattr(model, "tags", None) or {}
    records = []
    for key, value in tags.items():
        if not key.startswith(HISTORY_PREFIX):
            continue
        rest = key[len(HISTORY_PREFIX) :]
        tag_alias, _sep, seq = rest.rpartition(".")
        if alias is not None and tag_alias != alias:
            continue
        try:
            record = json.loads(value)
        except ValueError:
            record = {"alias": tag_alias, "unreadable": value}
        record["seq"] = int(seq) if seq.isdigit() else 0
        records.append(record)
    return sorted(records, key=lambda r: (r.get("at", ""), r.get("alias", ""), r["seq"]))


def _iso(ts: float) -> str:
    """UTC with milliseconds, so that records sort in the order they were written."""
    return "%s.%03dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)), int(ts * 1000) % 1000)


def register(reg: Registration, client, tracking_uri: str, now=time.time) -> dict:
    """Bring the registry to the wanted state; the module's result (``changed``, ``diff``, ``history``...)."""
    validate(reg)
    registry = Registry(client, tracking_uri)
    run_id, source, model_id = resolve_source(reg, registry)
    gate_result = gate(reg, registry, run_id)
    tags = {str(k): str(v) for k, v in reg.tags.items()}

    model = registry.call("get registered model %s" % reg.name, client.get_registered_model, reg.name, missing_ok=True)
    version = find_version(registry, reg.name, run_id, source) if model else None
    current = None
    if model and reg.alias:
        current = registry.call(
            "read alias %s of %s" % (reg.alias, reg.name),
            client.get_model_version_by_alias,
            reg.name,
            reg.alias,
            missing_ok=True,
        )
    existing_tags = dict(version.tags) if version else {}
    tags_to_set = {k: v for k, v in tags.items() if existing_tags.get(k) != v}
    new_description = reg.description is not None and version is not None and version.description != reg.description
    current_version = current.version if current else None

    actions = []
    if model is None:
        actions.append("create registered model %s" % reg.name)
    if version is None:
        actions.append("create a version from %s" % source)
    if tags_to_set:
        actions.append("set version tags %s" % ", ".join(sorted(tags_to_set)))
    if new_description:
        actions.append("update the version's description")
    target = version.version if version else None
    moves = bool(reg.alias) and (version is None or current_version != target)
    if moves:
        actions.append(
            "move alias %s from %s to %s" % (reg.alias, current_version or "(none)", target or "the new version")
        )

    before = {
        "registered_model": reg.name if model else None,
        "version": target,
        "aliases": {reg.alias: current_version} if reg.alias else {},
        "version_tags": {k: existing_tags[k] for k in tags if k in existing_tags},
    }
    changed = bool(actions)
    if changed and not reg.check_mode:
        model, version = _apply(
            reg,
            registry,
            model=model,
            version=version,
            source=Source(run_id, source, model_id),
            tags=tags,
            tags_to_set=tags_to_set,
            new_description=new_description,
        )
        target = version.version
        if moves:
            _move_alias(
                reg,
                registry,
                target=target,
                previous=current_version,
                source=Source(run_id, source),
                tags=tags,
                now=now,
            )
            model = registry.call("get registered model %s" % reg.name, client.get_registered_model, reg.name)
    after = {
        "registered_model": reg.name,
        "version": target,
        "aliases": {reg.alias: target} if reg.alias else {},
        "version_tags": dict(tags),
    }
    return {
        "changed": changed,
        "name": reg.name,
        "version": target,
        "model_uri": "models:/%s/%s" % (reg.name, target) if target else None,
        "alias": reg.alias,
        "alias_uri": "models:/%s@%s" % (reg.name, reg.alias) if reg.alias else None,
        "previous_version": current_version,
        "run_id": run_id,
        "source": source,
        "gate": gate_result,
        "tags": {**existing_tags, **tags},
        "actions": actions,
        "history": history(model) if model else [],
        "diff": {"before": before, "after": after},
    }


def _apply(reg, registry, *, model, version, source, tags, tags_to_set, new_description):
    client = registry.client
    if model is None:
        model = registry.call("create registered model %s" % reg.name, client.create_registered_model, reg.name)
    if version is None:
        version = registry.call(
            "create a version of %s" % reg.name,
            client.create_model_version,
            reg.name,
            source.uri,
            run_id=source.run_id,
            tags=tags or None,
            description=reg.description,
            await_creation_for=reg.wait_timeout,
            model_id=source.model_id,
        )
        if getattr(version, "status", "READY") != "READY":
            raise RemoteError(
                "version %s of %s is %s after %ss: the registry did not finish creating it"
                % (version.version, reg.name, version.status, reg.wait_timeout),
                {"version": version.version},
            )
        return model, version
    for key in sorted(tags_to_set):
        registry.call(
            "tag version %s" % version.version, client.set_model_version_tag, reg.name, version.version, key, tags[key]
        )
    if new_description:
        registry.call(
            "describe version %s" % version.version,
            client.update_model_version,
            reg.name,
            version.version,
            description=reg.description,
        )
    return model, version


def _move_alias(reg, registry, *, target, previous, source, tags, now):
    client = registry.client
    registry.call("set alias %s" % reg.alias, client.set_registered_model_alias, reg.name, reg.alias, target)
    model = registry.call("get registered model %s" % reg.name, client.get_registered_model, reg.name)
    seq = 1 + max([r["seq"] for r in history(model, reg.alias)] or [0])
    record = {
        "alias": reg.alias,
        "version": str(target),
        "previous_version": previous,
        "run_id": source.run_id,
        "source": source.uri,
        "actor": reg.actor,
        "reason": reg.reason,
        "at": _iso(now()),
        "lineage": tags,
    }
    key = "%s%s.%06d" % (HISTORY_PREFIX, reg.alias, seq)
    try:
        client.set_registered_model_tag(reg.name, key, json.dumps(record, sort_keys=True))
    except MlflowException as e:
        raise RemoteError(
            "alias %s now points to version %s, but recording the move failed: %s" % (reg.alias, target, short(str(e))),
            {"version": target},
        ) from e
