# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Container image references: parse, validate and format ``[registry/]path[:tag][@digest]``.

Follows the grammar of the distribution project's ``reference`` package (what Docker, podman,
containerd and kustomize accept): lower-case path components separated by ``/``, an optional
registry host with port, a tag of at most 128 word characters, dots and dashes that does not
start with either, and a digest ``algorithm:hex`` (sha256 has exactly 64 lower-case hex digits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput

__all__ = ["ImageRef", "parse", "short_digest", "split_name", "validate_digest", "validate_name", "validate_tag"]

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = r"%s(?:\.%s)*(?::[0-9]+)?" % (_DOMAIN_COMPONENT, _DOMAIN_COMPONENT)
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = r"(?:%s/)?%s(?:/%s)*" % (_DOMAIN, _PATH_COMPONENT, _PATH_COMPONENT)
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

NAME_RE = re.compile(r"^%s$" % _NAME)
TAG_RE = re.compile(r"^%s$" % _TAG)
DIGEST_RE = re.compile(r"^%s$" % _DIGEST)
SHA256_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class ImageRef:
    """A parsed reference; ``name`` is everything before the tag and digest."""

    name: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += ":" + self.tag
        if self.digest:
            text += "@" + self.digest
        return text

    @property
    def version(self) -> str:
        """What identifies the build in messages: the tag, the digest, both, or ``latest``."""
        if self.tag and self.digest:
            return "%s@%s" % (self.tag, short_digest(self.digest))
        return self.tag or (short_digest(self.digest) if self.digest else "latest")

    def replace(self, tag: str | None, digest: str | None) -> ImageRef:
        return ImageRef(self.name, tag, digest)


def short_digest(digest: str) -> str:
    algorithm, _sep, hexpart = digest.partition(":")
    return "%s:%s" % (algorithm, hexpart[:12])


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidInput("image name is empty: give a repository such as ghcr.io/owner/model")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput("image name %r is longer than %d characters" % (name[:40] + "...", MAX_NAME_LENGTH))
    if not NAME_RE.match(name):
        raise InvalidInput(
            "image name %r is malformed: path components are lower-case letters, digits and single "
            "separators (. _ __ -), optionally after a registry host[:port]/ (e.g. ghcr.io/owner/model)" % name
        )
    return name


def validate_tag(tag: str) -> str:
    if not isinstance(tag, str) or not TAG_RE.match(tag):
        raise InvalidInput(
            "image tag %r is malformed: 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
            % (tag,)
        )
    return tag


def validate_digest(digest: str) -> str:
    if not isinstance(digest, str) or not DIGEST_RE.match(digest):
        raise InvalidInput("image digest %r is malformed: expected algorithm:hex such as sha256:<64 hex>" % (digest,))
    if digest.startswith("sha256:") and not SHA256_RE.match(digest):
        raise InvalidInput(
            "image digest %r is malformed: sha256 digests have exactly 64 lower-case hex digits" % digest
        )
    return digest


def split_name(reference: str) -> tuple[str, str | None, str | None]:
    """Split without validating: (name, tag or None, digest or None)."""
    rest, _sep, digest = reference.partition("@")
    name, tag = rest, None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:  # a colon after the last slash is a tag, before it a registry port
        name, tag = rest[:colon], rest[colon + 1 :]
    return name, tag, (digest if "@" in reference else None)


def parse(reference: str) -> ImageRef:
    """Parse and validate ``reference``; :class:`InvalidInput` says which part is wrong."""
    if not isinstance(reference, str) or not reference.strip():
        raise InvalidInput("image reference is empty")
    if reference != reference.strip() or any(c.isspace() for c in reference):
        raise InvalidInput("image reference %r contains white space" % reference)
    name, tag, digest = split_name(reference)
    validate_name(name)
    if tag is not None:
        validate_tag(tag)
    if digest is not None:
        validate_digest(digest)
    return ImageRef(name, tag, digest)
