"""Server-side apply field ownership of argocd_bootstrap, derived from the role's own tasks.

The role runs through Ansible with each ``kubernetes.core.k8s`` task of its task files replaced by
one that writes down what the task would send, evaluated by Ansible with the task's own loop,
``when`` and ``vars``: the field manager, ``force_conflicts``, the namespace and the objects (the
rendered definition, or the ``src`` file). ``k8s_info`` waits are left out; everything else (the
checks, render.yml, the download of the vendored release manifest and its reading) runs as it is.

Each object's field set per manager follows server-side apply's rules, read from the Kubernetes
and CRD schemas (``x-kubernetes-list-type: map`` lists merged by their keys, so containers by name;
``x-kubernetes-map-type: atomic`` and ``list-type: atomic`` fields such as ``nodeSelector`` and
``tolerations`` owned whole). The role fails when one manager applies the same object twice with
different field sets (the second apply removes what only the first set), when two managers' sets
for one object overlap (with ``force_conflicts`` the later one takes the field over silently), or
when the end state loses what the release sets, argocd-cm's ``app.kubernetes.io/part-of: argocd``
label and data keys first: ArgoCD only reads a ConfigMap with that label.
"""

from __future__ import annotations

import copy
import functools
import json
import shutil
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.utils import parse_quantity

from sandbox.ansible_run import AnsibleHarness
from sandbox.k8s_schema import DEFINITIONS_URI, SchemaValidator
from sandbox.paths import REPO, UPSTREAM

ROLE = REPO / "roles" / "argocd_bootstrap"
RELEASE = UPSTREAM / "argocd-v3.5.1" / "install.yaml"
FORK_URL = "https://github.com/a-fork/mlops-hybrid.git"
SECRET = "ghp_0123456789abcdefOWNERSHIPTESTVALUE"
CAPTURE_VAR = "argocd_bootstrap_capture"
RECORDS = "argocd_bootstrap_captured"
IDENTITY = {("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace")}
WORKLOAD_KINDS = ("Deployment", "StatefulSet")

Path_ = tuple  # a field path: map keys (str) and list-map entries ("k", (key, value), ...)


def load_all(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if d]


@functools.cache
def _release() -> tuple[dict[str, Any], ...]:
    return tuple(load_all(RELEASE.read_text()))


def release_objects() -> list[dict[str, Any]]:
    """The vendored release manifest's objects (copies)."""
    return copy.deepcopy(list(_release()))


# --- the role's tasks, recorded instead of applied ---------------------------------------------


def _recording(tasks: list[dict[str, Any]], counter: list[int], names: dict[int, str]) -> list[dict[str, Any]]:
    out = []
    for original in tasks:
        task = dict(original)
        for section in ("block", "rescue", "always"):
            if section in task:
                task[section] = _recording(task[section], counter, names)
        if "kubernetes.core.k8s_info" in task:
            continue
        if "kubernetes.core.k8s" in task:
            counter[0] += 1
            names[counter[0]] = task.get("name", "")
            task["vars"] = {**task.get("vars", {}), CAPTURE_VAR: task.pop("kubernetes.core.k8s")}
            # the arguments as Ansible evaluates them, appended to a list (out of the logs: it is big)
            task["no_log"] = True
            task["ansible.builtin.set_fact"] = {
                RECORDS: "{{ %s | default([]) + [{'task': %d, 'args': %s}] }}" % (RECORDS, counter[0], CAPTURE_VAR)
            }
        out.append(task)
    return out


def recording_copy(role: Path, dest: Path) -> tuple[Path, dict[int, str]]:
    """A copy of ``role`` whose k8s tasks record their arguments instead; the task names by number."""
    shutil.copytree(role, dest)
    counter, names = [0], {}
    for path in sorted((dest / "tasks").glob("*.yml")):
        tasks = yaml.safe_load(path.read_text()) or []
        path.write_text(yaml.safe_dump(_recording(tasks, counter, names), sort_keys=False))
    assert names, "no kubernetes.core.k8s task in %s" % role
    return dest, names


@dataclass(frozen=True)
class Apply:
    task: str
    manager: str | None  # None: not server-side apply
    force: bool
    key: tuple[str, str, str]  # kind, namespace, name
    obj: dict[str, Any]


@dataclass
class RoleRun:
    applies: list[Apply]
    rendered: list[dict[str, Any]]
    stdout: str


def object_key(obj: dict[str, Any], namespace: str | None) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace") or namespace or "", meta["name"]


def run_recorded(harness: AnsibleHarness, role: Path, work: Path, extravars: dict[str, Any] | None = None) -> RoleRun:
    copy_dir, names = recording_copy(role, work / "role" / "argocd_bootstrap")
    capture = work / "capture.json"
    play = [
        {
            "name": "argocd_bootstrap, recorded",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Run the role with its applies recorded",
                    "ansible.builtin.include_role": {"name": str(copy_dir)},
                    "vars": {
                        "argocd_bootstrap_repo_url": FORK_URL,
                        "argocd_bootstrap_repo_password": SECRET,
                        "argocd_bootstrap_manifest_url": RELEASE.as_uri(),
                        "argocd_bootstrap_cache_dir": str(work / "cache"),
                    },
                },
                {
                    "name": "Keep the records and the rendered objects",
                    "ansible.builtin.copy": {
                        "content": "{{ {'records': %s | default([]), 'rendered': argocd_bootstrap_objects} | to_json }}"
                        % RECORDS,
                        "dest": str(capture),
                        "mode": "0600",
                    },
                },
            ],
        }
    ]
    path = work / "play.json"
    path.write_text(json.dumps(play))
    run = harness.playbook(path, extravars=extravars)
    assert run.ok, run.stdout[-4000:]
    applies = []
    kept = json.loads(capture.read_text())
    for record in kept["records"]:
        args, task = record["args"], names[record["task"]]
        if args.get("definition") is not None:
            objs = args["definition"] if isinstance(args["definition"], list) else [args["definition"]]
        elif args.get("src"):
            objs = load_all(Path(args["src"]).read_text())
        else:  # api_version/kind/name arguments
            objs = [{"apiVersion": args["api_version"], "kind": args["kind"], "metadata": {"name": args["name"]}}]
        ssa = args.get("server_side_apply") if args.get("apply") else None
        for obj in objs:
            applies.append(
                Apply(
                    task=task,
                    manager=ssa["field_manager"] if ssa else None,
                    force=bool(ssa and ssa.get("force_conflicts")),
                    key=object_key(obj, args.get("namespace")),
                    obj=obj,
                )
            )
    return RoleRun(applies, kept["rendered"], run.stdout)


# --- server-side apply's field sets, from the schemas -----------------------------------------


class Structure:
    """How server-side apply splits an object into fields: the schemas' x-kubernetes-* markers."""

    def __init__(self):
        validator = SchemaValidator()
        self.defs = validator.registry[DEFINITIONS_URI].contents["$defs"]
        self.roots: dict[tuple[str, str], dict[str, Any]] = dict(validator.custom)
        for name, definition in self.defs.items():
            for gvk in definition.get("x-kubernetes-group-version-kind", []):
                api = "%s/%s" % (gvk["group"], gvk["version"]) if gvk["group"] else gvk["version"]
                self.roots.setdefault((api, gvk["kind"]), {"$ref": "#/$defs/" + name})

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node or len(node.get("allOf", [])) == 1:
            ref = node["$ref"] if "$ref" in node else node["allOf"][0]["$ref"]
            merged = {k: v for k, v in node.items() if k not in ("$ref", "allOf")}
            node = {**self.defs[ref.split("#/$defs/")[1]], **merged}
        return node

    def fields(self, obj: dict[str, Any]) -> dict[Path_, tuple[str, Any]]:
        """path -> (what, value): what is "value", "atomic", "empty" or "key" (a list-map key field)."""
        root = self.roots.get((obj["apiVersion"], obj["kind"]))
        if root is None:
            raise KeyError("no schema for %s %s" % (obj["apiVersion"], obj["kind"]))
        out: dict[Path_, tuple[str, Any]] = {}
        self._walk(obj, root, (), out)
        return {p: v for p, v in out.items() if p not in IDENTITY}

    def _walk(self, value: Any, schema: dict[str, Any], path: Path_, out: dict) -> None:
        schema = self.resolve(schema)
        if isinstance(value, dict):
            if not value:
                out[path] = ("empty", value)
            elif schema.get("x-kubernetes-map-type") == "atomic":
                out[path] = ("atomic", value)
            else:
                props, extra = schema.get("properties", {}), schema.get("additionalProperties")
                for k, v in value.items():
                    self._walk(v, props.get(k, extra if isinstance(extra, dict) else {}), (*path, k), out)
        elif isinstance(value, list):
            items = schema.get("items", {})
            if schema.get("x-kubernetes-list-type") == "map":
                keys = schema["x-kubernetes-list-map-keys"]
                for element in value:
                    entry = (*path, ("k", *((k, element.get(k)) for k in keys)))
                    out.update({(*entry, k): ("key", element.get(k)) for k in keys if k in element})
                    rest = {k: v for k, v in element.items() if k not in keys}
                    if rest:
                        self._walk(rest, items, entry, out)
            elif schema.get("x-kubernetes-list-type") == "set":
                out.update({(*path, ("v", json.dumps(e, sort_keys=True))): ("value", e) for e in value})
            else:  # atomic, as server-side apply treats a list without a list type
                out[path] = ("atomic", value)
        else:
            out[path] = ("value", value)


def overlap(a: dict[Path_, tuple], b: dict[Path_, tuple]) -> list[Path_]:
    """Fields both sets own: the same path (list-map keys aside), or one inside an atomic field of the other."""
    found = []
    for pa, (what_a, _) in a.items():
        for pb, (what_b, _) in b.items():
            if "key" in (what_a, what_b):
                continue
            if pa == pb:
                found.append(pa)
            elif len(pa) < len(pb) and pb[: len(pa)] == pa and what_a == "atomic":
                found.append(pa)
            elif len(pb) < len(pa) and pa[: len(pb)] == pb and what_b == "atomic":
                found.append(pb)
    return sorted(set(found), key=str)


def show(path: Path_) -> str:
    parts = []
    for p in path:
        parts.append(p if isinstance(p, str) else "[%s]" % ",".join("%s=%s" % kv for kv in p[1:]))
    return ".".join(parts)


def ownership_problems(run: RoleRun, structure: Structure) -> list[str]:
    problems = []
    per_object: dict[tuple, list[tuple[Apply, dict]]] = defaultdict(list)
    for a in run.applies:
        if a.manager is not None:
            per_object[a.key].append((a, structure.fields(a.obj)))
    for key, applies in per_object.items():
        what = "%s %s/%s" % key
        by_manager: dict[str, list[tuple[Apply, dict]]] = defaultdict(list)
        for a, fields in applies:
            by_manager[a.manager].append((a, fields))
        for manager, mine in by_manager.items():
            first_apply, first = mine[0]
            for later_apply, later in mine[1:]:
                if later.keys() != first.keys():
                    lost = sorted(set(first) - set(later), key=str)
                    problems.append(
                        "%s: manager %s applies it twice with different fields (%r, then %r): the second "
                        "apply removes %s"
                        % (what, manager, first_apply.task, later_apply.task, ", ".join(map(show, lost)) or "nothing")
                    )
        managers = list(by_manager)
        for i, m1 in enumerate(managers):
            for m2 in managers[i + 1 :]:
                f1 = {p: v for _, fields in by_manager[m1] for p, v in fields.items()}
                f2 = {p: v for _, fields in by_manager[m2] for p, v in fields.items()}
                shared = overlap(f1, f2)
                if shared:
                    forced = any(a.force for a, _ in by_manager[m2])
                    problems.append(
                        "%s: managers %s and %s both set %s%s"
                        % (
                            what,
                            m1,
                            m2,
                            ", ".join(map(show, shared)),
                            " with force_conflicts: the later one takes them over silently"
                            if forced
                            else ": the later apply fails with a conflict",
                        )
                    )
    return problems


def end_state(run: RoleRun, structure: Structure, key: tuple[str, str, str]) -> dict[Path_, tuple]:
    """What the object holds after the run: the fields of each manager's last apply."""
    last: dict[str, dict] = {}
    for a in run.applies:
        if a.manager is not None and a.key == key:
            last[a.manager] = structure.fields(a.obj)
    state: dict[Path_, tuple] = {}
    for fields in last.values():
        state.update(fields)
    return state


def build(state: dict[Path_, tuple]) -> dict[str, Any]:
    """The object a field set describes (list-map entries in the order they were first applied)."""
    root: dict[str, Any] = {}
    for path, (_what, value) in state.items():
        node: Any = root
        for i, seg in enumerate(path):
            last = i == len(path) - 1
            if isinstance(seg, str):
                if last:
                    node[seg] = copy.deepcopy(value)
                else:
                    node = node.setdefault(seg, [] if isinstance(path[i + 1], tuple) else {})
            elif seg[0] == "v":
                node.append(copy.deepcopy(value))
            else:
                keys = dict(seg[1:])
                element = next((e for e in node if all(e.get(k) == v for k, v in keys.items())), None)
                if element is None:
                    element = {}
                    node.append(element)
                node = element
    return root


def merged(run: RoleRun, structure: Structure, key: tuple[str, str, str]) -> dict[str, Any]:
    """The object as the run leaves it: its end state, with its identity."""
    (first, *_) = [a.obj for a in run.applies if a.key == key]
    obj = build(end_state(run, structure, key))
    obj.update(apiVersion=first["apiVersion"], kind=first["kind"])
    obj.setdefault("metadata", {}).update(name=key[2], namespace=key[1])
    return obj


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def structure() -> Structure:
    return Structure()


@pytest.fixture(scope="module")
def role_run(tmp_path_factory) -> RoleRun:
    work = tmp_path_factory.mktemp("ownership")
    return run_recorded(AnsibleHarness(work / "ansible"), ROLE, work)


@pytest.fixture(scope="module")
def control_plane_taint(tmp_path_factory) -> dict[str, str]:
    """The taint k3s_server puts on the server, from its real config.yaml data evaluated by Ansible."""
    work = tmp_path_factory.mktemp("taint")
    out = work / "taint.json"
    play = [
        {
            "name": "k3s_server's node-taint",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": [
                str(REPO / "roles/k3s_server/defaults/main.yml"),
                str(REPO / "roles/k3s_server/vars/main.yml"),
            ],
            "tasks": [
                {
                    "name": "Write it",
                    "ansible.builtin.copy": {
                        "content": "{{ k3s_server_config['node-taint'] | to_json }}",
                        "dest": str(out),
                        "mode": "0600",
                    },
                }
            ],
        }
    ]
    (work / "play.json").write_text(json.dumps(play))
    run = AnsibleHarness(work / "ansible").playbook(work / "play.json")
    assert run.ok, run.stdout[-3000:]
    (taint,) = json.loads(out.read_text())
    key_value, effect = taint.rsplit(":", 1)
    key, _, value = key_value.partition("=")
    return {"key": key, "value": value, "effect": effect}


# --- the role as it is ----------------------------------------------------------------------------


def test_no_manager_removes_or_takes_over_another_ones_fields(role_run, structure):
    assert ownership_problems(role_run, structure) == []
    managers = {a.manager for a in role_run.applies}
    assert len(managers) == 5, managers  # release, placement, settings, credentials, bootstrap


def test_the_whole_release_and_every_rendered_object_are_applied(role_run):
    applied = {a.key for a in role_run.applies}
    namespace = role_run.rendered[0]["metadata"]["namespace"]
    release = {object_key(o, namespace) for o in release_objects()}
    assert release - applied == set()
    assert {object_key(o, None) for o in role_run.rendered} - applied == set()
    # each rendered object is applied once, by the manager it names
    for obj in role_run.rendered:
        named = obj["metadata"]["annotations"]["mlops.hybrid/field-manager"]
        assert [a.manager for a in role_run.applies if a.obj == obj] == [named], object_key(obj, None)


def test_argocd_cm_keeps_its_label_and_every_release_key(role_run, structure):
    (upstream,) = [o for o in release_objects() if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "argocd-cm"]
    namespace = role_run.rendered[0]["metadata"]["namespace"]
    state = end_state(role_run, structure, ("ConfigMap", namespace, "argocd-cm"))
    assert state[("metadata", "labels", "app.kubernetes.io/part-of")] == ("value", "argocd")
    for key, value in upstream["data"].items():
        assert state.get(("data", key)) == ("value", value), key
    health = state[("data", "resource.customizations.health.argoproj.io_Application")][1]
    assert "hs.status = obj.status.health.status" in health


def test_the_release_is_applied_as_published_but_for_the_placement_fields(role_run):
    by_key = {a.key: a.obj for a in role_run.applies if a.task.startswith("Apply the pinned ArgoCD release")}
    namespace = role_run.rendered[0]["metadata"]["namespace"]
    for published in release_objects():
        expected = copy.deepcopy(published)
        if published["kind"] in WORKLOAD_KINDS:
            pod = expected["spec"]["template"]["spec"]
            assert pod.get("nodeSelector") == {"kubernetes.io/os": "linux"}, published["metadata"]["name"]
            for field in ("nodeSelector", "tolerations"):
                pod.pop(field, None)
        assert by_key[object_key(published, namespace)] == expected


# --- placement and sizing, on the merged objects ---------------------------------------------------


def workloads(run: RoleRun, structure: Structure) -> dict[str, dict[str, Any]]:
    namespace = run.rendered[0]["metadata"]["namespace"]
    return {
        o["metadata"]["name"]: merged(run, structure, object_key(o, namespace))
        for o in release_objects()
        if o["kind"] in WORKLOAD_KINDS
    }


def test_every_argocd_pod_runs_on_the_control_plane_with_requests(role_run, structure, control_plane_taint):
    validator = SchemaValidator()
    found = workloads(role_run, structure)
    assert len(found) == 7
    for name, obj in found.items():
        validator.check(obj)
        pod = obj["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"kubernetes.io/os": "linux", "node-role.kubernetes.io/control-plane": "true"}
        assert any(
            t["key"] == control_plane_taint["key"]
            and t.get("effect") in (None, control_plane_taint["effect"])
            and (t.get("operator") == "Exists" or t.get("value") == control_plane_taint["value"])
            for t in pod["tolerations"]
        ), (name, pod["tolerations"])
        for container in pod["containers"] + pod.get("initContainers", []):
            resources = container.get("resources", {})
            where = "%s container %s" % (name, container["name"])
            assert {"cpu", "memory"} <= set(resources.get("requests", {})), where
            limit = Decimal(parse_quantity(resources["limits"]["memory"]))
            assert limit >= Decimal(parse_quantity(resources["requests"]["memory"])), where


def test_only_what_the_platform_uses_runs(role_run, structure):
    replicas = {name: int(obj["spec"].get("replicas", 1)) for name, obj in workloads(role_run, structure).items()}
    assert {name for name, n in replicas.items() if n > 0} == {
        "argocd-application-controller",
        "argocd-repo-server",
        "argocd-server",
        "argocd-redis",
    }
    assert replicas["argocd-application-controller"] == 1  # the release's own, not the patch's


def test_what_is_scaled_to_zero_is_not_used_by_the_platform(role_run, structure):
    tree = "\n".join(p.read_text() for p in (REPO / "gitops").rglob("*.yaml"))
    assert "kind: ApplicationSet" not in tree  # argocd-applicationset-controller
    assert "notifications.argoproj.io" not in tree  # argocd-notifications-controller
    namespace = role_run.rendered[0]["metadata"]["namespace"]
    cm = merged(role_run, structure, ("ConfigMap", namespace, "argocd-cm"))
    assert not {"dex.config", "oidc.config"} & set(cm.get("data", {}))  # argocd-dex-server: no SSO


# --- the checks can fail ---------------------------------------------------------------------------


def with_controller_replicas(replicas: int) -> dict[str, Any]:
    components = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())["argocd_bootstrap_components"]
    components["argocd-application-controller"]["replicas"] = replicas
    return components


@pytest.mark.parametrize(
    ("planted", "expected"),
    [
        pytest.param(
            # the role before the managers were split: one for every artifact
            {"argocd_bootstrap_field_managers": dict.fromkeys(
                ("release", "placement", "settings", "credentials", "bootstrap"), "mlops-hybrid")},
            [
                "ConfigMap argocd/argocd-cm: manager mlops-hybrid applies it twice with different fields",
                "data.resource.exclusions",
                "metadata.labels.app.kubernetes.io/part-of",
                "Deployment argocd/argocd-server: manager mlops-hybrid applies it twice with different fields",
            ],
            id="one-manager-for-everything",
        ),
        pytest.param(
            {"argocd_bootstrap_placement_owned": []},
            [
                "Deployment argocd/argocd-server: managers mlops-hybrid and mlops-hybrid-placement both set "
                "spec.template.spec.nodeSelector with force_conflicts"
            ],
            id="release-keeps-its-atomic-nodeSelector",
        ),
        pytest.param(
            {"argocd_bootstrap_components": with_controller_replicas(1)},
            [
                "StatefulSet argocd/argocd-application-controller: managers mlops-hybrid and mlops-hybrid-placement "
                "both set spec.replicas with force_conflicts"
            ],
            id="patch-sets-replicas-the-release-sets",
        ),
    ],
)  # fmt: skip
def test_a_planted_regression_is_found(ansible, tmp_path, structure, planted, expected):
    run = run_recorded(ansible, ROLE, tmp_path / "planted", planted)
    problems = "\n".join(ownership_problems(run, structure))
    for text in expected:
        assert text in problems, problems
    if "argocd_bootstrap_field_managers" in planted:
        namespace = run.rendered[0]["metadata"]["namespace"]
        state = end_state(run, structure, ("ConfigMap", namespace, "argocd-cm"))
        assert ("metadata", "labels", "app.kubernetes.io/part-of") not in state


def test_field_sets_follow_the_schemas(structure):
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "n", "labels": {"a": "b"}},
        "spec": {
            "template": {
                "spec": {
                    "nodeSelector": {"x": "y"},
                    "containers": [
                        {"name": "c", "image": "i", "args": ["--a"], "resources": {"requests": {"cpu": "1m"}}}
                    ],
                    "volumes": [{"name": "v", "emptyDir": {}}],
                }
            }
        },
    }
    fields = structure.fields(deployment)
    container = ("k", ("name", "c"))
    pod = ("spec", "template", "spec")
    assert fields == {
        ("metadata", "labels", "a"): ("value", "b"),
        (*pod, "nodeSelector"): ("atomic", {"x": "y"}),
        (*pod, "containers", container, "name"): ("key", "c"),
        (*pod, "containers", container, "image"): ("value", "i"),
        (*pod, "containers", container, "args"): ("atomic", ["--a"]),
        (*pod, "containers", container, "resources", "requests", "cpu"): ("value", "1m"),
        (*pod, "volumes", ("k", ("name", "v")), "name"): ("key", "v"),
        (*pod, "volumes", ("k", ("name", "v")), "emptyDir"): ("empty", {}),
    }
    patch = {**deployment, "metadata": {"name": "d", "namespace": "n"}}
    patch["spec"] = {"template": {"spec": {"nodeSelector": {"z": "1"}, "containers": [{"name": "c", "image": "j"}]}}}
    assert [show(p) for p in overlap(fields, structure.fields(patch))] == [
        "spec.template.spec.containers.[name=c].image",
        "spec.template.spec.nodeSelector",
    ]
