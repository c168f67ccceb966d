# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Context of an ArgoCD Application from an alert's labels (namespace, name), read-only.

    api = pod.core_v1_api(host=..., token=...)            # or any kubernetes.client.CoreV1Api
    target = argocd.application_of(alert_labels)          # ("argocd", "alert-bridge") or None
    ctx = argocd.collect_application_context(api, *target)

Reads the Application (``argoproj.io/v1alpha1``, through the same API client) and returns its sync and
health status, its conditions (``SyncError``, ``ComparisonError``...), its last operation (phase,
message, and the result of every resource: ``SyncFailed`` with the API server's message), the
resources that failed to sync or are ``Degraded``/``Missing``, the events of the Application (what
the application controller reported) and of each of those resources, and ``text``: all of it as an
``argocd app get``-like text for the analysis. Everything returned is redacted. Only GET requests are
made.
"""

from __future__ import annotations

from ansible_collections.mlops.hybrid.plugins.module_utils.collectors.common import positive, redacted
from ansible_collections.mlops.hybrid.plugins.module_utils.collectors.pod import api_error, event_lines, object_events
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput, MissingDependency, MlopsError

try:
    from kubernetes import client as k8s_client
    from kubernetes.client.rest import ApiException

    HAS_KUBERNETES = True
except ImportError:
    HAS_KUBERNETES = False
    ApiException = Exception

GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "applications"
DEFAULT_NAMESPACE = "argocd"
# ResultCode of gitops-engine (pkg/sync/common/types.go) and the hook phases that mean a failure.
FAILED_RESULTS = ("SyncFailed",)
FAILED_HOOK_PHASES = ("Failed", "Error")
UNHEALTHY = ("Degraded", "Missing")
DEFAULT_MAX_RESOURCES = 10
DEFAULT_MAX_EVENTS = 20
NEEDS = "get on applications.argoproj.io in the Application's namespace, list on events"


def application_of(labels):
    """``(namespace, name)`` of the Application an alert is about (ArgoCD's metrics label it with
    ``name`` and ``project``; ``namespace`` is the Application's), or None for another alert."""
    labels = labels or {}
    if not labels.get("name") or not labels.get("project"):
        return None
    return labels.get("exported_namespace") or labels.get("namespace") or DEFAULT_NAMESPACE, labels["name"]


def _key(r):
    return (r.get("kind") or "", r.get("namespace") or "", r.get("name") or "")


def _resource(r, health=None):
    out = {k: r.get(k) or "" for k in ("group", "kind", "namespace", "name")}
    out.update(
        status=r.get("status") or "",
        message=r.get("message") or "",
        hook_phase=r.get("hookPhase") or "",
        sync_phase=r.get("syncPhase") or "",
        health=health or "",
    )
    return out


def _sources(spec):
    out = []
    for src in spec.get("sources") or ([spec["source"]] if spec.get("source") else []):
        where = src.get("chart") or src.get("path") or ("$" + src["ref"] if src.get("ref") else "")
        out.append("%s %s @ %s" % (src.get("repoURL", "?"), where, src.get("targetRevision", "HEAD")))
    return out


def troubled_resources(status, *, limit=DEFAULT_MAX_RESOURCES):
    """The resources the last sync failed on, then those whose health is Degraded or Missing."""
    result = ((status.get("operationState") or {}).get("syncResult") or {}).get("resources") or []
    health = {_key(r): (r.get("health") or {}).get("status") for r in status.get("resources") or []}
    out, seen = [], set()
    for r in result:
        if r.get("status") in FAILED_RESULTS or r.get("hookPhase") in FAILED_HOOK_PHASES:
            out.append(_resource(r, health.get(_key(r))))
            seen.add(_key(r))
    for r in status.get("resources") or []:
        if health.get(_key(r)) in UNHEALTHY and _key(r) not in seen:
            out.append(_resource(r, health[_key(r)]))
            seen.add(_key(r))
    return out[:limit]


def describe(ctx):
    """An ``argocd app get``-like text of a collected context (what llm_analyze reads)."""
    op = ctx["operation"]
    lines = [
        "Name:               %s/%s" % (ctx["namespace"], ctx["application"]),
        "Project:            %s" % ctx["project"],
        *("Source:             %s" % s for s in ctx["sources"]),
        "Destination:        %s %s" % (ctx["destination"].get("server", ""), ctx["destination"].get("namespace", "")),
        "Sync Status:        %s (%s)" % (ctx["sync_status"], ctx["sync_revision"] or "no revision"),
        "Health Status:      %s%s"
        % (ctx["health_status"], (" (%s)" % ctx["health_message"]) if ctx["health_message"] else ""),
    ]
    # The failing resources first: the line that names what failed and why leads the excerpt.
    if ctx["troubled_resources"]:
        lines += ["", "Failing resources (GROUP KIND NAMESPACE NAME STATUS HEALTH HOOK MESSAGE):"]
        lines += [
            "  %s %s %s %s %s %s %s %s"
            % (r["group"] or "core", r["kind"], r["namespace"], r["name"], r["status"] or "-", r["health"] or "-",
               r["hook_phase"] or "-", r["message"])
            for r in ctx["troubled_resources"]
        ]  # fmt: skip
    if op:
        lines += [
            "",
            "Operation:          Sync (%s)" % op["initiated_by"],
            "Sync Revision:      %s" % op["revision"],
            "Phase:              %s" % op["phase"],
            "Start:              %s" % op["started_at"],
            "Finished:           %s" % op["finished_at"],
            "Retries:            %s" % op["retry_count"],
            "Message:            %s" % op["message"],
        ]
    if ctx["conditions"]:
        lines += ["", "Conditions:"]
        lines += ["  %s  %s  (%s)" % (c["type"], c["message"], c["last_transition"]) for c in ctx["conditions"]]
    for ev in ctx["events"]:
        if ev["events"]:
            lines += ["", "Events of %s:" % ev["object"], *event_lines(ev["events"])]
    return "\n".join(lines) + "\n"


def _read_application(core_v1, namespace, name, timeout):
    if not HAS_KUBERNETES:
        raise MissingDependency("kubernetes")
    custom = k8s_client.CustomObjectsApi(core_v1.api_client)
    try:
        return custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, _request_timeout=timeout)
    except ApiException as e:
        if e.status == 404:
            raise InvalidInput(
                "Application %s/%s not found: check the alert's labels name and namespace, or list the "
                "Applications (kubectl -n %s get applications.argoproj.io)" % (namespace, name, namespace),
                {"status": 404},
            ) from e
        raise api_error(e, "reading Application %s/%s" % (namespace, name), NEEDS) from e


def collect_application_context(
    core_v1,
    namespace,
    name,
    *,
    max_resources=DEFAULT_MAX_RESOURCES,
    max_events=DEFAULT_MAX_EVENTS,
    timeout=30,
    secrets=(),
):
    """Everything an analyst needs about one Application and the resources its last sync failed on."""
    if not namespace or not name:
        raise InvalidInput("namespace and name of the Application are required (the alert's labels)")
    positive("max_resources", max_resources)
    positive("max_events", max_events, 0)
    app = _read_application(core_v1, namespace, name, timeout)
    spec, status = app.get("spec") or {}, app.get("status") or {}
    destination = spec.get("destination") or {}
    state = status.get("operationState") or {}
    operation = {}
    if state:
        initiated = (state.get("operation") or {}).get("initiatedBy") or {}
        operation = {
            "phase": state.get("phase") or "",
            "message": state.get("message") or "",
            "started_at": state.get("startedAt") or "",
            "finished_at": state.get("finishedAt") or "",
            "retry_count": state.get("retryCount") or 0,
            "revision": (state.get("syncResult") or {}).get("revision")
            or ((state.get("operation") or {}).get("sync") or {}).get("revision")
            or "",
            "initiated_by": "automated" if initiated.get("automated") else (initiated.get("username") or "unknown"),
        }
    troubled = troubled_resources(status, limit=max_resources)
    events = []
    if max_events:
        targets = [("Application", namespace, name)]
        targets += [
            (r["kind"], r["namespace"] or destination.get("namespace") or namespace, r["name"]) for r in troubled
        ]
        for kind, ns, obj in targets:
            try:
                found, _api, _more = object_events(core_v1, ns, obj, kind=kind, max_events=max_events, timeout=timeout)
            except MlopsError as e:  # an unreadable namespace is a note, not a lost context
                found = [{"type": "Note", "reason": "NotRead", "message": str(e)[:300], "count": 1, "source": ""}]
            events.append({"object": "%s %s/%s" % (kind, ns, obj), "events": found})
    health = status.get("health") or {}
    ctx = {
        "application": name,
        "namespace": namespace,
        "project": spec.get("project") or "",
        "sources": _sources(spec),
        "destination": {k: destination.get(k, "") for k in ("server", "name", "namespace")},
        "sync_status": (status.get("sync") or {}).get("status") or "Unknown",
        "sync_revision": (status.get("sync") or {}).get("revision") or "",
        "health_status": health.get("status") or "Unknown",
        "health_message": health.get("message") or "",
        "operation": operation,
        "conditions": [
            {
                "type": c.get("type", ""),
                "message": c.get("message", ""),
                "last_transition": c.get("lastTransitionTime", ""),
            }
            for c in status.get("conditions") or []
        ],
        "troubled_resources": troubled,
        "events": events,
    }
    ctx["text"] = describe(ctx)
    return redacted(ctx, secrets)
