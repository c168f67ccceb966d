"""A stateful, wire-level fake of the Compute Engine REST API v1 on 127.0.0.1.

It follows the public API closely enough for the real ``google-cloud-compute`` client (REST
transport) and ``google-auth`` to talk to it:

- authentication: every API call must carry ``Authorization: Bearer`` with either a
  self-signed JWT of a service account whose public key the test registered with
  ``trust_key`` (what google-auth sends for a service-account file), or a token from
  ``POST /token``, the OAuth 2.0 endpoint a credentials file names in ``token_uri``; otherwise
  401 as Google answers it.
- instances: get, insert, delete, stop, start, setMachineType, setLabels, setMetadata, setTags
  (fingerprints checked: 412 conditionNotMet on a stale one), and ``aggregated/instances``;
  ``aggregated/disks`` and ``aggregated/addresses`` for "what is still billing". A boot disk is
  created with its instance and deleted with it (autoDelete).
- firewalls: get, insert, patch, delete.
- zone and global operations: get and wait. An operation reports RUNNING for ``op_polls``
  polls, then DONE; the resource moves through its transitional status meanwhile
  (PROVISIONING, STOPPING, ...), and a deleted resource disappears when its operation is DONE.
- errors in Google's JSON format: 404 notFound, 409 alreadyExists, 403 forbidden (a project
  listed in ``forbidden_projects``), 403 quotaExceeded (more vCPUs than ``cpu_quota``), 400
  invalid (unknown zone or machine type), 412 conditionNotMet; and injected failures:
  ``inject(method, path_regex, status, times=1)`` answers the next matching requests with 429 or
  5xx bodies before the request is served normally; with ``applied=True`` the request is applied
  first and its answer replaced by the error (the answer lost on the way back). A mutating request
  that carries ``requestId`` is applied once per id (per project and scope), as Compute Engine does:
  a repeat returns the first request's operation, whatever the state now. With ``quota_mode = "operation"`` an
  exceeded quota is reported as the API also does: the insert is accepted and its operation ends
  DONE with error code QUOTA_EXCEEDED.

Every request is recorded in ``requests`` (sandbox/fakes/http_base.py: method, path, query,
headers, body). The fake keeps state only; tests assert what the code under test did.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .http_base import Recorded, RecordingServer

__all__ = ["KNOWN_ZONES", "MACHINE_TYPES", "FakeCompute", "error_body"]

BASE = "https://www.googleapis.com/compute/v1"
KNOWN_ZONES = {
    "us-west1-a",
    "us-west1-b",
    "us-west1-c",
    "us-central1-a",
    "us-central1-b",
    "us-central1-c",
    "europe-west1-b",
    "europe-west1-c",
}
# vCPUs per machine type, counted against the project's CPU quota.
MACHINE_TYPES = {"e2-micro": 2, "e2-small": 2, "e2-medium": 2, "e2-standard-2": 2, "e2-standard-4": 4}

STATUS_REASON = {
    400: "invalid",
    401: "authError",
    403: "forbidden",
    404: "notFound",
    409: "alreadyExists",
    412: "conditionNotMet",
    429: "rateLimitExceeded",
    500: "backendError",
    503: "backendError",
}
STATUS_TEXT = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def error_body(code: int, message: str, reason: str | None = None, domain: str = "global") -> dict[str, Any]:
    """An error body as the Compute API returns it."""
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason or STATUS_REASON.get(code, "error")}],
        }
    }


class ApiError(Exception):
    def __init__(self, code: int, message: str, reason: str | None = None, domain: str = "global"):
        super().__init__(message)
        self.code = code
        self.body = error_body(code, message, reason, domain)


@dataclass
class _Op:
    data: dict[str, Any]
    polls_left: int
    on_done: Any = None
    error: dict[str, Any] | None = None


class FakeCompute(RecordingServer):
    """Use as a context manager; ``endpoint`` is what ``client_options["api_endpoint"]`` takes."""

    def __init__(self, op_polls: int = 2, cpu_quota: int = 24, require_auth: bool = True):
        super().__init__()
        self.op_polls = op_polls
        self.cpu_quota = cpu_quota
        # How an exceeded CPU quota is reported: "http" (403 quotaExceeded on the insert) or
        # "operation" (the insert is accepted and its operation ends DONE with QUOTA_EXCEEDED).
        self.quota_mode = "http"
        self.require_auth = require_auth
        self.forbidden_projects: set[str] = set()
        self.instances: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.disks: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.addresses: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.firewalls: dict[tuple[str, str], dict[str, Any]] = {}
        self.operations: dict[tuple[str, str, str], _Op] = {}
        # (project, scope, requestId) -> the key of the operation the first request with that id started
        self.requests_applied: dict[tuple[str, str, str], tuple[str, str, str]] = {}
        self.tokens: set[str] = set()
        self.public_keys: list[Any] = []
        self.principals: set[str] = set()
        self._injected: list[list[Any]] = []
        self._ids = itertools.count(1000000000000000001)
        self._ips = itertools.count(10)
        self.add_route("POST", "/token", self._token)
        for method, pattern, name in self.ROUTES:
            self.add_route(method, pattern, self._api(method, getattr(self, "_" + name), name))

    @property
    def endpoint(self) -> str:
        return self.url

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    # -- test controls --------------------------------------------------------------------------
    def inject(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int = 1,
        body: dict | None = None,
        applied: bool = False,
    ) -> None:
        """Answer the next ``times`` requests matching method and path with ``status``: before serving them,
        or (``applied``) after applying them."""
        msg = {429: "Rate Limit Exceeded", 500: "Internal error.", 503: "The service is currently unavailable."}
        self._injected.append(
            [
                method.upper(),
                re.compile(path_regex),
                status,
                times,
                body or error_body(status, msg.get(status, "error")),
                applied,
            ]
        )

    def add_address(self, project: str, region: str, name: str, labels: dict[str, str] | None = None) -> None:
        """A reserved static address (it bills while it exists), as a console user would leave one."""
        with self.lock:
            self.addresses[(project, region, name)] = {
                "kind": "compute#address",
                "id": str(next(self._ids)),
                "name": name,
                "address": "203.0.113.%d" % next(self._ips),
                "status": "RESERVED",
                "region": "%s/projects/%s/regions/%s" % (BASE, project, region),
                "labels": dict(labels or {}),
                "selfLink": "%s/projects/%s/regions/%s/addresses/%s" % (BASE, project, region, name),
            }

    def mutations(self) -> list[Recorded]:
        """Requests that change resources (not reads, polls or token requests)."""
        with self.lock:
            return [
                r
                for r in self.requests
                if r.method in ("POST", "PATCH", "DELETE", "PUT")
                and "/operations/" not in r.path
                and r.path != "/token"
            ]

    # -- routing --------------------------------------------------------------------------------
    ROUTES: tuple[tuple[str, str, str], ...] = (
        ("GET", r"/compute/v1/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/instances/(?P<n>[^/]+)", "instance_get"),
        ("DELETE", r"/compute/v1/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/instances/(?P<n>[^/]+)", "instance_delete"),
        ("POST", r"/compute/v1/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/instances", "instance_insert"),
        (
            "POST",
            r"/compute/v1/projects/(?P<p>[^/]+)/zones/(?P<z>[^/]+)/instances/(?P<n>[^/]+)/(?P<verb>stop|start|"
            r"setMachineType|setLabels|setMetadata|setTags)",
            "instance_action",
        ),
        ("GET", r"/compute/v1/projects/(?P<p>[^/]+)/aggregated/(?P<kind>instances|disks|addresses)", "aggregated"),
        ("GET", r"/compute/v1/projects/(?P<p>[^/]+)/global/firewalls/(?P<n>[^/]+)", "firewall_get"),
        ("POST", r"/compute/v1/projects/(?P<p>[^/]+)/global/firewalls", "firewall_insert"),
        ("PATCH", r"/compute/v1/projects/(?P<p>[^/]+)/global/firewalls/(?P<n>[^/]+)", "firewall_patch"),
        ("DELETE", r"/compute/v1/projects/(?P<p>[^/]+)/global/firewalls/(?P<n>[^/]+)", "firewall_delete"),
        (
            "GET",
            r"/compute/v1/projects/(?P<p>[^/]+)/(?P<scope>zones/[^/]+|global)/operations/(?P<n>[^/]+)",
            "operation_get",
        ),
        (
            "POST",
            r"/compute/v1/projects/(?P<p>[^/]+)/(?P<scope>zones/[^/]+|global)/operations/(?P<n>[^/]+)/wait",
            "operation_get",
        ),
    )

    def not_found(self, method: str, path: str) -> tuple:
        return 404, error_body(404, "The requested URL %s was not found on this server." % path, "notFound")

    def authorize(self, headers: dict[str, str], path: str) -> tuple | None:
        if path == "/token" or not self.require_auth:
            return None
        authorization = headers.get("authorization", "")
        token = authorization[len("Bearer ") :] if authorization.startswith("Bearer ") else ""
        if token in self.tokens or self._jwt_ok(token):
            return None
        return 401, error_body(
            401,
            "Request is missing required authentication credential. Expected OAuth 2 access token, login "
            "cookie or other valid authentication credential.",
            "required",
        )

    def _api(self, method: str, handler, name: str):
        def serve(match, query, body, headers):
            path = match.string
            injected = next(
                (inj for inj in self._injected if inj[0] == method and inj[1].search(path) and inj[3] > 0), None
            )
            if injected is not None:
                injected[3] -= 1
                if not injected[5]:
                    return injected[2], injected[4]
            status, answer = apply(match, query, body)
            return (injected[2], injected[4]) if injected is not None else (status, answer)

        def apply(match, query, body):
            args = match.groupdict()
            request_id = (query.get("requestId") or [None])[0] if method != "GET" else None
            # Operations are per project and scope: the zone of the path, or global.
            key = (args["p"], "zones/%s" % args["z"] if args.get("z") else "global", request_id)
            if request_id is not None and key in self.requests_applied:
                return 200, copy.deepcopy(self.operations[self.requests_applied[key]].data)
            try:
                if args["p"] in self.forbidden_projects:
                    raise ApiError(
                        403,
                        "Required 'compute.%s' permission for 'projects/%s'"
                        % (name.split("_", maxsplit=1)[0], args["p"]),
                        "forbidden",
                    )
                if body is not None and not isinstance(body, dict):
                    raise ApiError(400, "Invalid JSON payload received.", "parseError")
                answer = handler(body=body, query=query, **args)
            except ApiError as e:
                return e.code, e.body
            if request_id is not None and answer.get("kind") == "compute#operation":
                self.requests_applied[key] = (args["p"], key[1], answer["name"])
            return 200, answer

        return serve

    def _token(self, match, query, body, headers) -> tuple:
        form = parse_qs(body if isinstance(body, str) else "")
        grant = (form.get("grant_type") or [""])[0]
        if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" or not form.get("assertion"):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT bearer grant."}
        token = "ya29.fake-%d" % next(self._ids)
        self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def trust_key(self, public_key_pem: bytes | str) -> None:
        """Accept self-signed JWTs (what google-auth sends for a service account) signed by this key."""
        pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
        self.public_keys.append(load_pem_public_key(pem))

    def _jwt_ok(self, token: str) -> bool:
        parts = token.split(".")
        if len(parts) != 3:
            return False
        try:
            signature = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except ValueError:
            return False
        if float(claims.get("exp", 0)) < time.time():
            return False
        for key in self.public_keys:
            try:
                key.verify(signature, (parts[0] + "." + parts[1]).encode(), padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                continue
            self.principals.add(claims.get("iss", ""))
            return True
        return False

    # -- helpers --------------------------------------------------------------------------------
    @staticmethod
    def _zone(zone: str) -> None:
        if zone not in KNOWN_ZONES:
            raise ApiError(400, "Invalid value for field 'zone': '%s'. Unknown zone." % zone, "invalid")

    @staticmethod
    def _fingerprint(value: Any) -> str:
        digest = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).digest()[:8]
        return base64.b64encode(digest).decode()

    def _operation(self, project: str, scope: str, op_type: str, target: str, on_done=None) -> dict:
        name = "operation-%d-%s" % (
            int(time.time() * 1000),
            hashlib.sha256(str(next(self._ids)).encode()).hexdigest()[:12],
        )
        data = {
            "kind": "compute#operation",
            "id": str(next(self._ids)),
            "name": name,
            "operationType": op_type,
            "targetLink": target,
            "status": "RUNNING",
            "progress": 0,
            "insertTime": time.strftime("%Y-%m-%dT%H:%M:%S.000-00:00", time.gmtime()),
            "user": "ansible@example.iam.gserviceaccount.com",
            "selfLink": "%s/projects/%s/%s/operations/%s" % (BASE, project, scope, name),
        }
        if scope.startswith("zones/"):
            data["zone"] = "%s/projects/%s/%s" % (BASE, project, scope)
        op = _Op(data, self.op_polls, on_done)
        self.operations[(project, scope, name)] = op
        if op.polls_left <= 0:
            self._finish(op)
        return copy.deepcopy(data)

    def _finish(self, op: _Op) -> None:
        op.data["status"] = "DONE"
        op.data["progress"] = 100
        op.data["endTime"] = time.strftime("%Y-%m-%dT%H:%M:%S.000-00:00", time.gmtime())
        if op.error:
            op.data["error"] = {"errors": [op.error]}
            op.data["httpErrorStatusCode"] = 403
            op.data["httpErrorMessage"] = "FORBIDDEN"
        if op.on_done:
            op.on_done()
            op.on_done = None

    def _operation_get(self, p, scope, n, body, query):
        op = self.operations.get((p, scope, n))
        if op is None:
            raise ApiError(404, "The resource 'projects/%s/%s/operations/%s' was not found" % (p, scope, n))
        if op.data["status"] != "DONE":
            op.polls_left -= 1
            if op.polls_left <= 0:
                self._finish(op)
            else:
                op.data["progress"] = min(90, op.data["progress"] + 30)
        return copy.deepcopy(op.data)

    # -- instances ------------------------------------------------------------------------------
    def _instance(self, p, z, n) -> dict[str, Any]:
        self._zone(z)
        inst = self.instances.get((p, z, n))
        if inst is None:
            raise ApiError(404, "The resource 'projects/%s/zones/%s/instances/%s' was not found" % (p, z, n))
        return inst

    def _instance_get(self, p, z, n, body, query):
        return copy.deepcopy(self._instance(p, z, n))

    def _used_cpus(self, project: str) -> int:
        return sum(
            MACHINE_TYPES.get(i["machineType"].rsplit("/", 1)[-1], 2)
            for (pp, _z, _n), i in self.instances.items()
            if pp == project and i["status"] not in ("TERMINATED", "STOPPING")
        )

    def _machine_type(self, p, z, value: str) -> str:
        short = (value or "").rsplit("/", 1)[-1]
        if short not in MACHINE_TYPES:
            raise ApiError(
                400,
                "Invalid value for field 'resource.machineType': '%s'. Machine type with name '%s' does not exist in "
                "zone '%s'." % (value, short, z),
                "invalid",
            )
        return "%s/projects/%s/zones/%s/machineTypes/%s" % (BASE, p, z, short)

    def _instance_insert(self, p, z, body, query):
        self._zone(z)
        body = body or {}
        name = body.get("name", "")
        if not re.fullmatch(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?", name):
            raise ApiError(400, "Invalid value for field 'resource.name': '%s'. Must be a match of regex "
                           "'(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'" % name, "invalid")  # fmt: skip
        mt = self._machine_type(p, z, body.get("machineType", ""))
        if (p, z, name) in self.instances:
            raise ApiError(409, "The resource 'projects/%s/zones/%s/instances/%s' already exists" % (p, z, name))
        cpus = MACHINE_TYPES[mt.rsplit("/", 1)[-1]]
        self_link = "%s/projects/%s/zones/%s/instances/%s" % (BASE, p, z, name)
        if self._used_cpus(p) + cpus > self.cpu_quota:
            message = "Quota 'CPUS' exceeded.  Limit: %.1f in region %s." % (self.cpu_quota, z.rsplit("-", 1)[0])
            if self.quota_mode == "operation":
                op = self._operation(p, "zones/" + z, "insert", self_link)
                self.operations[(p, "zones/" + z, op["name"])].error = {"code": "QUOTA_EXCEEDED", "message": message}
                return op
            raise ApiError(403, message, "quotaExceeded", "usageLimits")
        boot = next((d for d in body.get("disks", []) if d.get("boot")), None) or {}
        params = boot.get("initializeParams", {})
        disk_name = params.get("diskName") or name
        disk_link = "%s/projects/%s/zones/%s/disks/%s" % (BASE, p, z, disk_name)
        nics = []
        for i, nic in enumerate(body.get("networkInterfaces") or [{}]):
            out = {
                "kind": "compute#networkInterface",
                "name": "nic%d" % i,
                "network": "%s/projects/%s/global/networks/%s"
                % (BASE, p, (nic.get("network") or "default").rsplit("/", 1)[-1]),
                "networkIP": "10.138.0.%d" % next(self._ips),
                "stackType": "IPV4_ONLY",
            }
            if nic.get("subnetwork"):
                out["subnetwork"] = nic["subnetwork"]
            acs = []
            for ac in nic.get("accessConfigs", []):
                acs.append(
                    {
                        "kind": "compute#accessConfig",
                        "type": ac.get("type", "ONE_TO_ONE_NAT"),
                        "name": ac.get("name", "External NAT"),
                        "natIP": "",
                        "networkTier": ac.get("networkTier", "PREMIUM"),
                    }
                )
            out["accessConfigs"] = acs
            nics.append(out)
        metadata_items = (body.get("metadata") or {}).get("items", [])
        tags = (body.get("tags") or {}).get("items", [])
        labels = body.get("labels") or {}
        inst = {
            "kind": "compute#instance",
            "id": str(next(self._ids)),
            "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000-07:00", time.gmtime()),
            "name": name,
            "machineType": mt,
            "status": "PROVISIONING",
            "zone": "%s/projects/%s/zones/%s" % (BASE, p, z),
            "networkInterfaces": nics,
            "disks": [
                {
                    "kind": "compute#attachedDisk",
                    "type": "PERSISTENT",
                    "mode": "READ_WRITE",
                    "source": disk_link,
                    "deviceName": boot.get("deviceName", "persistent-disk-0"),
                    "index": 0,
                    "boot": True,
                    "autoDelete": boot.get("autoDelete", True),
                    "diskSizeGb": str(params.get("diskSizeGb", "10")),
                }
            ],
            "metadata": {"kind": "compute#metadata", "items": metadata_items},
            "tags": {"items": tags},
            "labels": labels,
            "serviceAccounts": body.get("serviceAccounts", []),
            "scheduling": body.get("scheduling", {"automaticRestart": True, "onHostMaintenance": "MIGRATE"}),
            "selfLink": self_link,
        }
        inst["metadata"]["fingerprint"] = self._fingerprint(metadata_items)
        inst["tags"]["fingerprint"] = self._fingerprint(tags)
        inst["labelFingerprint"] = self._fingerprint(labels)
        self.instances[(p, z, name)] = inst
        self.disks[(p, z, disk_name)] = {
            "kind": "compute#disk",
            "id": str(next(self._ids)),
            "name": disk_name,
            "sizeGb": str(params.get("diskSizeGb", "10")),
            "type": "%s/projects/%s/zones/%s/diskTypes/%s"
            % (BASE, p, z, (params.get("diskType") or "pd-standard").rsplit("/", 1)[-1]),
            "sourceImage": params.get("sourceImage", ""),
            "labels": dict(params.get("labels") or {}),
            "status": "READY",
            "zone": "%s/projects/%s/zones/%s" % (BASE, p, z),
            "users": [self_link],
            "selfLink": disk_link,
        }

        def running():
            inst["status"] = "RUNNING"
            self._assign_nat(inst)

        return self._operation(p, "zones/" + z, "insert", self_link, running)

    def _assign_nat(self, inst) -> None:
        for nic in inst["networkInterfaces"]:
            for ac in nic.get("accessConfigs", []):
                ac["natIP"] = "34.82.%d.%d" % (next(self._ips) % 250, next(self._ips) % 250)

    def _clear_nat(self, inst) -> None:
        for nic in inst["networkInterfaces"]:
            for ac in nic.get("accessConfigs", []):
                ac["natIP"] = ""

    def _instance_delete(self, p, z, n, body, query):
        inst = self._instance(p, z, n)
        inst["status"] = "STOPPING"

        def gone():
            self.instances.pop((p, z, n), None)
            for d in inst["disks"]:
                key = (p, z, d["source"].rsplit("/", 1)[-1])
                if d.get("autoDelete") and key in self.disks:
                    del self.disks[key]

        return self._operation(p, "zones/" + z, "delete", inst["selfLink"], gone)

    def _instance_action(self, p, z, n, verb, body, query):
        inst = self._instance(p, z, n)
        body = body or {}
        link = inst["selfLink"]
        if verb == "stop":
            if inst["status"] == "RUNNING":
                inst["status"] = "STOPPING"

            def stopped():
                inst["status"] = "TERMINATED"
                self._clear_nat(inst)

            return self._operation(p, "zones/" + z, "stop", link, stopped)
        if verb == "start":
            if inst["status"] == "TERMINATED":
                inst["status"] = "STAGING"

            def started():
                inst["status"] = "RUNNING"
                if not any(ac.get("natIP") for nic in inst["networkInterfaces"] for ac in nic["accessConfigs"]):
                    self._assign_nat(inst)

            return self._operation(p, "zones/" + z, "start", link, started)
        if verb == "setMachineType":
            if inst["status"] != "TERMINATED":
                raise ApiError(
                    400,
                    "Invalid resource usage: 'Instance %s is in %s state; it must be stopped (TERMINATED) to "
                    "change its machine type.'." % (n, inst["status"]),
                    "invalidResourceUsage",
                )
            mt = self._machine_type(p, z, body.get("machineType", ""))

            def set_mt():
                inst["machineType"] = mt

            return self._operation(p, "zones/" + z, "setMachineType", link, set_mt)
        if verb == "setLabels":
            self._check_fp(body.get("labelFingerprint"), inst["labelFingerprint"], "labels")
            labels = body.get("labels") or {}
            inst["labels"] = labels
            inst["labelFingerprint"] = self._fingerprint(labels)
            return self._operation(p, "zones/" + z, "setLabels", link)
        if verb == "setMetadata":
            self._check_fp(body.get("fingerprint"), inst["metadata"]["fingerprint"], "metadata")
            items = body.get("items", [])
            inst["metadata"] = {"kind": "compute#metadata", "items": items, "fingerprint": self._fingerprint(items)}
            return self._operation(p, "zones/" + z, "setMetadata", link)
        # setTags
        self._check_fp(body.get("fingerprint"), inst["tags"].get("fingerprint"), "tags")
        items = body.get("items", [])
        inst["tags"] = {"items": items, "fingerprint": self._fingerprint(items)}
        return self._operation(p, "zones/" + z, "setTags", link)

    @staticmethod
    def _check_fp(given: str | None, current: str | None, what: str) -> None:
        if given != current:
            raise ApiError(
                412,
                "Supplied fingerprint does not match current %s fingerprint." % what
                if given
                else "Required field 'fingerprint' not specified",
                "conditionNotMet",
            )

    # -- aggregated lists -----------------------------------------------------------------------
    def _aggregated(self, p, kind, body, query):
        if kind == "instances":
            rows = [((z), i) for (pp, z, _n), i in self.instances.items() if pp == p]
            scope_key, kind_name = "zones/", "compute#instanceAggregatedList"
        elif kind == "disks":
            rows = [((z), d) for (pp, z, _n), d in self.disks.items() if pp == p]
            scope_key, kind_name = "zones/", "compute#diskAggregatedList"
        else:
            rows = [((r), a) for (pp, r, _n), a in self.addresses.items() if pp == p]
            scope_key, kind_name = "regions/", "compute#addressAggregatedList"
        rows.sort(key=lambda r: (r[0], r[1]["name"]))
        start = int((query.get("pageToken") or ["0"])[0])
        size = int((query.get("maxResults") or ["500"])[0])
        page = rows[start : start + size]
        items: dict[str, Any] = {}
        for scope, res in page:
            items.setdefault(scope_key + scope, {kind: []})[kind].append(copy.deepcopy(res))
        out: dict[str, Any] = {"kind": kind_name, "id": "projects/%s/aggregated/%s" % (p, kind), "items": items}
        if start + size < len(rows):
            out["nextPageToken"] = str(start + size)
        return out

    # -- firewalls ------------------------------------------------------------------------------
    def _firewall(self, p, n) -> dict[str, Any]:
        fw = self.firewalls.get((p, n))
        if fw is None:
            raise ApiError(404, "The resource 'projects/%s/global/firewalls/%s' was not found" % (p, n))
        return fw

    def _firewall_get(self, p, n, body, query):
        return copy.deepcopy(self._firewall(p, n))

    def _validate_firewall(self, body: dict[str, Any]) -> None:
        for rule in body.get("allowed", []) + body.get("denied", []):
            if rule.get("IPProtocol") not in ("tcp", "udp", "icmp", "esp", "ah", "sctp", "ipip", "all"):
                raise ApiError(
                    400,
                    "Invalid value for field 'resource.allowed[0].IPProtocol': '%s'. Invalid IP protocol "
                    "specification." % rule.get("IPProtocol"),
                )
        for cidr in body.get("sourceRanges", []):
            if not re.fullmatch(r"[0-9a-fA-F:.]+(/\d{1,3})?", cidr):
                raise ApiError(400, "Invalid value for field 'resource.sourceRanges[0]': '%s'. Must be a CIDR "
                               "address range that is contained in the network." % cidr)  # fmt: skip

    def _firewall_insert(self, p, body, query):
        body = body or {}
        name = body.get("name", "")
        if (p, name) in self.firewalls:
            raise ApiError(409, "The resource 'projects/%s/global/firewalls/%s' already exists" % (p, name))
        self._validate_firewall(body)
        link = "%s/projects/%s/global/firewalls/%s" % (BASE, p, name)
        fw = {
            "kind": "compute#firewall",
            "id": str(next(self._ids)),
            "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000-07:00", time.gmtime()),
            "name": name,
            "description": body.get("description", ""),
            "network": "%s/projects/%s/global/networks/%s"
            % (BASE, p, (body.get("network") or "default").rsplit("/", 1)[-1]),
            "priority": int(body.get("priority", 1000)),
            "direction": body.get("direction", "INGRESS"),
            "sourceRanges": body.get("sourceRanges", []),
            "targetTags": body.get("targetTags", []),
            "allowed": body.get("allowed", []),
            "disabled": bool(body.get("disabled", False)),
            "logConfig": {"enable": False},
            "selfLink": link,
        }
        self.firewalls[(p, name)] = fw
        return self._operation(p, "global", "insert", link)

    def _firewall_patch(self, p, n, body, query):
        fw = self._firewall(p, n)
        body = body or {}
        self._validate_firewall(body)
        for key in ("description", "priority", "sourceRanges", "targetTags", "allowed", "disabled"):
            if key in body:
                fw[key] = body[key]
        return self._operation(p, "global", "patch", fw["selfLink"])

    def _firewall_delete(self, p, n, body, query):
        fw = self._firewall(p, n)

        def gone():
            self.firewalls.pop((p, n), None)

        return self._operation(p, "global", "delete", fw["selfLink"], gone)
