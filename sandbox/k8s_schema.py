"""Offline validation of Kubernetes objects: core kinds against the Kubernetes JSON schemas shipped by
the ``kubernetes-validate`` package (strict variant: unknown fields are errors), custom resources
against the ``openAPIV3Schema`` of their CRDs (vendored under ``tests/upstream/``, plus those the charts
install).

    validator = SchemaValidator()
    errors = validator.errors(obj)          # [] when valid; else "spec.replicas: 'two' is not ..."
    validator.check(obj)                    # raises SchemaError with every error

CRD schemas are made strict the way the API server's structural pruning behaves, turned into an
error: an object schema that lists ``properties`` rejects any other field, unless it carries
``x-kubernetes-preserve-unknown-fields: true`` or its own ``additionalProperties``. ``metadata`` of
a custom resource is checked against the core ``ObjectMeta``.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource

from .paths import REPO, UPSTREAM

__all__ = [
    "KUBERNETES_VERSION",
    "RESOURCE_NAMES_SCHEMA",
    "SchemaError",
    "SchemaValidator",
    "core_definition",
    "strict_crd_schema",
]


def _pinned_minor() -> str:
    """``X.Y.0`` of the k3s release the roles install (``k3s_server_version``): its schemas are used."""
    defaults = yaml.safe_load((REPO / "roles" / "k3s_server" / "defaults" / "main.yml").read_text())
    major, minor = re.match(r"v(\d+)\.(\d+)\.", defaults["k3s_server_version"]).groups()
    return "%s.%s.0" % (major, minor)


KUBERNETES_VERSION = _pinned_minor()
DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"
OBJECT_META = DEFINITIONS_URI + "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


class SchemaError(ValueError):
    """An object that does not validate; ``errors`` lists every problem found."""

    def __init__(self, what: str, errors: list[str]):
        super().__init__("%s is invalid:\n  %s" % (what, "\n  ".join(errors)))
        self.errors = errors


def _schema_dir(version: str) -> Path:
    import kubernetes_validate  # noqa: PLC0415 - a test dependency, imported where used

    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    path = root / ("v%s-local-strict" % version)
    if not path.is_dir():
        have = sorted(p.name for p in root.iterdir() if p.name.endswith("-strict"))
        raise FileNotFoundError("no strict schemas for Kubernetes %s in %s (have %s)" % (version, root, have))
    return path


@functools.cache
def definitions(version: str = KUBERNETES_VERSION) -> dict[str, Any]:
    """The OpenAPI definitions of that Kubernetes version (``{"$defs": {name: schema}}``)."""
    return json.loads((_schema_dir(version) / "_definitions.json").read_text())


def core_definition(name: str, version: str = KUBERNETES_VERSION) -> dict[str, Any]:
    """A schema that ``$ref``s one core definition, e.g. ``io.k8s.api.core.v1.ResourceRequirements``."""
    if name not in definitions(version)["$defs"]:
        raise KeyError("no Kubernetes definition %r" % name)
    return {"$ref": "%s#/$defs/%s" % (DEFINITIONS_URI, name)}


def _no_unknown_fields(node: Any) -> Any:
    """A copy where each object schema listing ``properties`` rejects others (unless it preserves them)."""
    if isinstance(node, dict):
        node = {k: _no_unknown_fields(v) for k, v in node.items()}
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_no_unknown_fields(v) for v in node]
    return copy.deepcopy(node)


def strict_crd_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of a CRD ``openAPIV3Schema`` in which unknown fields are errors (see module doc)."""

    strict = _no_unknown_fields(schema)
    strict.setdefault("properties", {})["metadata"] = {"$ref": OBJECT_META}
    strict["additionalProperties"] = False
    return strict


class YamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loading, plus the ``=`` scalar (``tag:yaml.org,2002:value``) some manifests contain."""


YamlLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def _crd_documents(root: Path) -> Iterator[dict[str, Any]]:
    for path in sorted(root.rglob("*.yaml")):
        for doc in yaml.load_all(path.read_text(), Loader=YamlLoader):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                yield doc


class SchemaValidator:
    """Validates objects by ``apiVersion``/``kind``; a kind without a known schema is an error too."""

    def __init__(self, version: str = KUBERNETES_VERSION, crd_root: Path = UPSTREAM, extra_crds: Iterable = ()):
        self.version = version
        self.dir = _schema_dir(version)
        self.registry = Registry().with_resource(DEFINITIONS_URI, Resource.from_contents(definitions(version)))
        self.custom: dict[tuple[str, str], dict[str, Any]] = {}
        if not crd_root.is_dir():
            raise FileNotFoundError("the pinned upstream CRDs are missing: %s" % crd_root)
        for crd in [*_crd_documents(crd_root), *extra_crds]:
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for v in crd["spec"]["versions"]:
                schema = strict_crd_schema(v["schema"]["openAPIV3Schema"])
                schema["properties"]["apiVersion"] = {"enum": ["%s/%s" % (group, v["name"])]}
                schema["properties"]["kind"] = {"enum": [kind]}
                schema.setdefault("required", [])
                schema["required"] = sorted({*schema["required"], "apiVersion", "kind", "metadata"})
                self.custom[("%s/%s" % (group, v["name"]), kind)] = schema

    def known(self, api_version: str, kind: str) -> bool:
        return (api_version, kind) in self.custom or self._core_path(api_version, kind).is_file()

    def _core_path(self, api_version: str, kind: str) -> Path:
        group, _, version = api_version.rpartition("/")
        suffix = "%s-%s" % (group.split(".")[0], version) if group else version
        return self.dir / ("%s-%s.json" % (kind.lower(), suffix))

    @functools.cache  # noqa: B019 - one validator per schema, for the validator's lifetime
    def _validator(self, api_version: str, kind: str) -> jsonschema.protocols.Validator:
        schema = self.custom.get((api_version, kind))
        if schema is None:
            path = self._core_path(api_version, kind)
            if not path.is_file():
                raise KeyError(
                    "no schema for %s %s (Kubernetes %s or the pinned CRDs)" % (api_version, kind, self.version)
                )
            schema = json.loads(path.read_text())
        return jsonschema.Draft202012Validator(schema, registry=self.registry)

    def schema_validator(self, schema: dict[str, Any]) -> jsonschema.protocols.Validator:
        """A validator for any schema that may ``$ref`` the core definitions (``core_definition``)."""
        return jsonschema.Draft202012Validator(schema, registry=self.registry)

    def errors(self, obj: Any) -> list[str]:
        if not isinstance(obj, dict) or not obj.get("apiVersion") or not obj.get("kind"):
            return ["not a Kubernetes object (apiVersion and kind are required): %r" % (obj,)[:200]]
        try:
            validator = self._validator(obj["apiVersion"], obj["kind"])
        except KeyError as e:
            return [str(e.args[0])]
        return format_errors(validator.iter_errors(obj)) + resource_name_errors(obj)

    def check(self, obj: dict[str, Any]) -> None:
        errors = self.errors(obj)
        if errors:
            raise SchemaError(describe(obj), errors)


# What the API server accepts as a resource name in requests/limits (the JSON schema allows any key).
RESOURCE_NAME = r"^(cpu|memory|ephemeral-storage|storage|hugepages-[0-9]+[KMG]i?|[a-z0-9.-]+\.[a-z]+/[A-Za-z0-9._-]+)$"
RESOURCE_NAMES_SCHEMA = {
    "type": "object",
    "properties": {
        key: {"type": "object", "propertyNames": {"pattern": RESOURCE_NAME}} for key in ("requests", "limits")
    },
}


def resource_name_errors(obj: Any, path: str = "") -> list[str]:
    """Unknown resource names (``memroy``) under any ``resources.requests`` / ``resources.limits``."""
    errors = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            where = "%s.%s" % (path, key) if path else str(key)
            if key == "resources" and isinstance(value, dict):
                errors.extend(
                    "%s: %s" % (where, e.message)
                    for e in jsonschema.Draft202012Validator(RESOURCE_NAMES_SCHEMA).iter_errors(value)
                )
            errors.extend(resource_name_errors(value, where))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            errors.extend(resource_name_errors(value, "%s.%d" % (path, i)))
    return errors


def format_errors(errors: Iterable[jsonschema.ValidationError]) -> list[str]:
    """``path: message`` lines, the most specific error of each ``anyOf``/``oneOf`` branch first."""
    out = []
    for error in sorted(errors, key=lambda e: list(e.absolute_path).__repr__()):
        best = jsonschema.exceptions.best_match([error, *error.context]) if error.context else error
        path = ".".join(str(p) for p in best.absolute_path) or "(root)"
        out.append("%s: %s" % (path, best.message[:300]))
    return out


def describe(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    name = meta.get("name", "?")
    if meta.get("namespace"):
        name = "%s/%s" % (meta["namespace"], name)
    return "%s %s" % (obj.get("kind", "?"), name)
