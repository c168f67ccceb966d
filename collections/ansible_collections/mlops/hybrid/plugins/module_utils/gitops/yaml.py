# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Round-trip edits of image references in GitOps manifests (ruamel.yaml: comments, order, quotes kept).

Supported documents: a kustomization's ``images:`` entries (``newTag`` / ``digest``), and the
container ``image`` fields of an InferenceService (predictor, transformer, explainer) or of a
Deployment, StatefulSet or DaemonSet (containers and initContainers). Other documents of a
multi-document file pass through untouched.

A file with none of these kinds (a Helm chart's values, say) is edited where it holds Helm-style
image maps: mappings with a ``repository`` (and optionally a ``registry`` in front of it), whose
``tag`` and ``digest`` are set. A file with neither is refused.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.gitops.image_ref import ImageRef, split_name

try:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.util import load_yaml_guess_indent

    HAS_RUAMEL = True
    RUAMEL_IMPORT_ERROR = None
except ImportError as e:  # pragma: no cover - reported by the module with missing_required_lib
    HAS_RUAMEL = False
    RUAMEL_IMPORT_ERROR = e

__all__ = [
    "HAS_RUAMEL",
    "WORKLOAD_KINDS",
    "Change",
    "FileEdit",
    "Target",
    "edit_text",
    "image_maps",
    "target_versions",
]

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
SUPPORTED_KINDS = ("Kustomization", "InferenceService", *WORKLOAD_KINDS)
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ISVC_COMPONENTS = ("predictor", "transformer", "explainer")


@dataclass
class Change:
    """One image field: where it is, what it held and what it holds after the edit."""

    path: str
    location: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def as_dict(self) -> dict:
        return {"path": self.path, "location": self.location, "before": self.before, "after": self.after}


@dataclass
class FileEdit:
    path: str
    before: str
    after: str
    matches: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class Target:
    """What one file is edited to: every reference to ``image`` in ``path`` at ``tag`` / ``digest``."""

    path: str
    image: str
    tag: str | None = None
    digest: str | None = None


def target_versions(old: ImageRef, tag: str | None, digest: str | None) -> ImageRef:
    """The new reference: a new tag drops a stale digest (kustomize and runtimes prefer the digest)."""
    if tag is None and digest is None:
        raise InvalidInput("give a tag, a digest or both")
    if tag is not None:
        return old.replace(tag, digest)
    return old.replace(old.tag, digest)


def _yaml(mapping: int, sequence: int, offset: int, explicit_start: bool):
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    y.explicit_start = explicit_start
    return y


def _dump(y, docs) -> str:
    out = io.StringIO()
    if len(docs) == 1:
        y.dump(docs[0], out)
    else:
        y.dump_all(docs, out)
    return out.getvalue()


def _styles(text: str):
    """Indentation styles to try, the guessed one first: (mapping, sequence, offset)."""
    try:
        _data, indent, block_seq_indent = load_yaml_guess_indent(text)
    except (YAMLError, ValueError):
        indent, block_seq_indent = 2, 0
    indent = indent or 2
    offset = block_seq_indent or 0
    seen = []
    guessed = [(2, indent, offset), (indent, indent, offset), (4, indent, offset)]
    grid = [(m, o + d, o) for m in (2, 4) for o in (0, 2, 4) for d in (2, 4)]
    for style in guessed + grid:
        if style not in seen and style[1] >= style[2] + 2:
            seen.append(style)
    return seen


def _load(text: str, path: str):
    """Parse ``text`` and find the dumper that reproduces it best (exactly, for well-formatted files)."""
    explicit_start = text.lstrip().startswith("---")
    best = None
    for style in _styles(text):
        y = _yaml(*style, explicit_start=explicit_start)
        try:
            docs = list(y.load_all(text))
        except YAMLError as e:
            raise InvalidInput("%s is not valid YAML: %s" % (path, str(e).replace("\n", " "))) from e
        docs = [d for d in docs if d is not None]
        reproduced = _dump(y, docs) if docs else ""
        score = sum(1 for a, b in zip(reproduced.splitlines(), text.splitlines(), strict=False) if a != b)
        score += abs(len(reproduced.splitlines()) - len(text.splitlines()))
        if best is None or score < best[0]:
            best = (score, y, docs)
        if score == 0:
            break
    return best[1], best[2]


def _kind(doc, path: str) -> str | None:
    if not hasattr(doc, "get"):
        return None
    kind = doc.get("kind")
    if kind is None and path.rsplit("/", 1)[-1] in KUSTOMIZATION_FILES and "images" in doc:
        return "Kustomization"
    return kind if kind in SUPPORTED_KINDS else None


def _same_type(old, new: str):
    """A new scalar quoted the way the old one was (``newTag: "0.1"`` stays double-quoted)."""
    cls = type(old)
    if isinstance(old, str) and cls is not str:
        return cls(new)
    return new


def _edit_kustomization(doc, target: Target, changes):
    for index, entry in enumerate(doc.get("images") or []):
        if not hasattr(entry, "get"):
            continue
        if (entry.get("newName") or entry.get("name")) != target.image:  # newName replaces name
            continue
        old = ImageRef(target.image, _opt_str(entry.get("newTag")), _opt_str(entry.get("digest")))
        new = target_versions(old, target.tag, target.digest)
        location = "images[%d] (name: %s)" % (index, entry.get("name"))
        changes.append(Change(target.path, location, old.version, new.version))
        if new.tag != old.tag:
            entry["newTag"] = _same_type(entry.get("newTag"), new.tag) if "newTag" in entry else new.tag
        if new.digest != old.digest:
            if new.digest is None:
                del entry["digest"]
            else:
                entry["digest"] = _same_type(entry.get("digest"), new.digest)


def _opt_str(value):
    """A tag or digest as text; an absent, null or empty one is None."""
    return None if value is None or value == "" else str(value)


def image_maps(node, where: str = ""):
    """Every Helm-style image map below ``node``: ``(location, name, mapping)``, depth first.

    An image map is a mapping whose ``repository`` is a string; its name is ``registry/repository``
    when it has a ``registry`` string too (the Bitnami layout), else the repository.
    """
    if hasattr(node, "items"):
        repository = node.get("repository")
        if isinstance(repository, str) and repository:
            registry = node.get("registry")
            name = "%s/%s" % (registry, repository) if isinstance(registry, str) and registry else repository
            yield where or "(top level)", name, node
        for key, value in node.items():
            yield from image_maps(value, "%s.%s" % (where, key) if where else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from image_maps(value, "%s[%d]" % (where, index))


def _set_scalar(mapping, key, value):
    """``mapping[key] = value``, quoted as the old value was; a missing key is appended."""
    mapping[key] = _same_type(mapping[key], value) if key in mapping else value


def _edit_image_maps(doc, target: Target, changes):
    for where, name, mapping in image_maps(doc):
        if name != target.image:
            continue
        old = ImageRef(target.image, _opt_str(mapping.get("tag")), _opt_str(mapping.get("digest")))
        new = target_versions(old, target.tag, target.digest)
        before = old.version if old.tag or old.digest else "none"
        location = "%s (repository: %s)" % (where, mapping["repository"])
        changes.append(Change(target.path, location, before, new.version))
        if new.tag != old.tag:
            _set_scalar(mapping, "tag", new.tag)
        if new.digest != old.digest:
            # Values keep their keys (a chart reads ``digest: ""`` as "not pinned"): clear, never delete.
            if new.digest is not None or "digest" in mapping:
                _set_scalar(mapping, "digest", new.digest or "")


def _containers(doc, kind):
    spec = doc.get("spec") or {}
    if kind == "InferenceService":
        for component in ISVC_COMPONENTS:
            part = spec.get(component) or {}
            for key in ("containers", "initContainers"):
                for i, c in enumerate(part.get(key) or []):
                    yield "spec.%s.%s[%d]" % (component, key, i), c
    else:
        pod = (spec.get("template") or {}).get("spec") or {}
        for key in ("initContainers", "containers"):
            for i, c in enumerate(pod.get(key) or []):
                yield "spec.template.spec.%s[%d]" % (key, i), c


def _edit_containers(doc, kind, target: Target, changes):
    for where, container in _containers(doc, kind):
        if not hasattr(container, "get") or not isinstance(container.get("image"), str):
            continue
        name, old_tag, old_digest = split_name(container["image"])
        if name != target.image:
            continue
        old = ImageRef(name, old_tag, old_digest)
        new = target_versions(old, target.tag, target.digest)
        location = "%s %s (container %s)" % (kind, where, container.get("name", "?"))
        changes.append(Change(target.path, location, old.version, new.version))
        if new != old:
            container["image"] = _same_type(container["image"], str(new))


def edit_text(text: str, path: str, *, image: str, tag: str | None = None, digest: str | None = None) -> FileEdit:
    """Point every reference to ``image`` in ``text`` (of the file ``path``) at ``tag`` / ``digest``."""
    target = Target(path=path, image=image, tag=tag, digest=digest)
    y, docs = _load(text, path)
    kinds = [_kind(d, path) for d in docs]
    changes: list[Change] = []
    if not any(kinds):
        if not any(True for d in docs for _m in image_maps(d)):
            found = sorted({str(d.get("kind")) for d in docs if hasattr(d, "get")}) or ["no YAML mapping"]
            raise InvalidInput(
                "%s is of an unknown kind (%s) and holds no image map (repository, tag, digest): gitops_bump "
                "edits a kustomization's images, an InferenceService, a Deployment, StatefulSet or DaemonSet, "
                "or the image maps of a Helm values file" % (path, ", ".join(found))
            )
        for doc in docs:
            _edit_image_maps(doc, target, changes)
    for doc, kind in zip(docs, kinds, strict=True):
        if kind == "Kustomization":
            _edit_kustomization(doc, target, changes)
        elif kind:
            _edit_containers(doc, kind, target, changes)
    after = _dump(y, docs) if any(c.changed for c in changes) else text
    return FileEdit(path, text, after, changes)
