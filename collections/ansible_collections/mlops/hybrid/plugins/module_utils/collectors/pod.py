# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Context of a pod from an alert's labels (namespace, pod, container), read-only.

    api = pod.core_v1_api(host=..., token=...)          # or any kubernetes.client.CoreV1Api
    ctx = pod.collect_pod_context(api, "models", "breast-cancer-predictor-abc", container="kserve-container")

Returns the container statuses (state, last termination reason and exit code, restarts), requests and
limits, the node, the logs of the current and the previous container (tail, bounded in lines and
bytes on the server and again here), the pod's events (events.k8s.io/v1, else core/v1; paged and
bounded), and ``text``: all of it as one ``kubectl describe``-like text for the analysis. Everything
returned is redacted. Only GET requests are made.
"""

from __future__ import annotations

import json

from ansible_collections.mlops.hybrid.plugins.module_utils.collectors.common import positive, redacted
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput, MissingDependency, RemoteError
from ansible_collections.mlops.hybrid.plugins.module_utils.text import tail

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.rest import ApiException

    HAS_KUBERNETES = True
except ImportError:
    HAS_KUBERNETES = False
    ApiException = Exception

DEFAULT_TAIL_LINES = 200
DEFAULT_MAX_LOG_BYTES = 64 * 1024
DEFAULT_MAX_EVENTS = 50
EVENT_PAGE = 50
SERVER_BYTES_FACTOR = 4


def core_v1_api(*, kubeconfig=None, context=None, host=None, token=None, ca_cert=None, validate_certs=True):
    """A CoreV1Api from a host and token, a kubeconfig, or the in-cluster ServiceAccount (in that order)."""
    if not HAS_KUBERNETES:
        raise MissingDependency("kubernetes")
    if host:
        cfg = k8s_client.Configuration()
        cfg.host = host.rstrip("/")
        if token:
            cfg.api_key = {"authorization": token}
            cfg.api_key_prefix = {"authorization": "Bearer"}
        cfg.verify_ssl = validate_certs
        if ca_cert:
            cfg.ssl_ca_cert = ca_cert
    else:
        cfg = k8s_client.Configuration()
        try:
            if kubeconfig or context:
                k8s_config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=cfg)
            else:
                try:
                    k8s_config.load_incluster_config(client_configuration=cfg)
                except k8s_config.ConfigException:
                    k8s_config.load_kube_config(client_configuration=cfg)
        except (k8s_config.ConfigException, OSError) as e:
            raise InvalidInput(
                "no Kubernetes credentials: give host and api_key, a kubeconfig, or run in a pod with a "
                "ServiceAccount (%s)" % e
            ) from e
    return k8s_client.CoreV1Api(k8s_client.ApiClient(cfg))


def core_v1_api_for(params):
    """:func:`core_v1_api` from the options of the k8s family (``K8S_ARG_SPEC``) of a module."""
    return core_v1_api(
        kubeconfig=params["kubeconfig"],
        context=params["context"],
        host=params["host"],
        token=params["api_key"],
        ca_cert=params["ca_cert"],
        validate_certs=params["validate_certs"],
    )


def _reason(e):
    try:
        return json.loads(e.body).get("message") or e.reason
    except (TypeError, ValueError, AttributeError):
        return getattr(e, "reason", str(e))


def api_error(e, what, needs="get/list on pods, pods/log or events"):
    """A RemoteError of a failed Kubernetes call, with the hint for 401 and 403 (``needs``: the rights)."""
    status = getattr(e, "status", None)
    hint = {
        401: " (the token is invalid or expired)",
        403: " (the ServiceAccount lacks %s)" % needs,
    }.get(status, "")
    return RemoteError("Kubernetes %s failed: %s %s%s" % (what, status, _reason(e), hint), {"status": status})


def _state(state):
    if state is None:
        return {"state": "unknown"}
    for name in ("waiting", "running", "terminated"):
        s = getattr(state, name, None)
        if s is not None:
            out = {"state": name}
            for key in ("reason", "message", "exit_code", "signal"):
                value = getattr(s, key, None)
                if value is not None:
                    out[key] = value
            for key in ("started_at", "finished_at"):
                value = getattr(s, key, None)
                if value is not None:
                    out[key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
            return out
    return {"state": "unknown"}


def _resources(container):
    res = container.resources
    return {
        "limits": dict((res.limits or {}) if res else {}),
        "requests": dict((res.requests or {}) if res else {}),
    }


def _read_log(api, namespace, pod, container, *, previous, tail_lines, max_bytes, timeout):
    try:
        text = api.read_namespaced_pod_log(
            pod,
            namespace,
            container=container,
            previous=previous,
            tail_lines=tail_lines,
            # The kubelet cuts limitBytes from the start of the tail; ask for more and keep the end here.
            limit_bytes=max_bytes * SERVER_BYTES_FACTOR,
            _request_timeout=timeout,
        )
    except ApiException as e:
        if previous and e.status == 400:  # no previous container: not an error
            return None
        raise api_error(e, "reading the log of %s/%s (%s)" % (namespace, pod, container)) from e
    raw_lines, raw_bytes = len((text or "").splitlines()), len((text or "").encode("utf-8"))
    text, truncated = tail(text, tail_lines, max_bytes)
    # The server applied the same bounds: a full page of lines or bytes means there was more.
    truncated = truncated or raw_lines >= tail_lines or raw_bytes >= max_bytes * SERVER_BYTES_FACTOR
    return {"text": text, "lines": len(text.splitlines()), "truncated": truncated}


def object_events(api, namespace, name, *, kind="Pod", max_events=DEFAULT_MAX_EVENTS, timeout=30):
    """Events of one object (a pod by default), newest last: events.k8s.io/v1 when served, else core/v1;
    paged, bounded. ``(events, api used, whether more existed)``."""
    out, cont, pages = [], None, 0
    events_api = k8s_client.EventsV1Api(api.api_client)
    source = "events.k8s.io/v1"
    while len(out) < max_events:
        limit = min(EVENT_PAGE, max_events - len(out))
        if source == "events.k8s.io/v1":
            list_events, field = events_api.list_namespaced_event, "regarding"
        else:
            list_events, field = api.list_namespaced_event, "involvedObject"
        try:
            page = list_events(
                namespace,
                field_selector="%s.kind=%s,%s.name=%s" % (field, kind, field, name),
                limit=limit,
                _continue=cont,
                _request_timeout=timeout,
            )
        except ApiException as e:
            if source == "events.k8s.io/v1" and e.status == 404 and pages == 0:
                source = "v1"
                continue
            raise api_error(e, "listing events of %s %s/%s" % (kind, namespace, name)) from e
        pages += 1
        for ev in page.items or []:
            if source == "v1":
                when = ev.last_timestamp or ev.first_timestamp
                out.append(
                    {
                        "type": ev.type,
                        "reason": ev.reason,
                        "message": ev.message,
                        "count": ev.count or 1,
                        "last_seen": when.isoformat() if when else None,
                        "source": ev.source.component if ev.source else None,
                    }
                )
            else:
                when = ev.deprecated_last_timestamp or ev.event_time
                out.append(
                    {
                        "type": ev.type,
                        "reason": ev.reason,
                        "message": ev.note,
                        "count": (ev.series.count if ev.series else None) or ev.deprecated_count or 1,
                        "last_seen": when.isoformat() if when else None,
                        "source": ev.reporting_controller,
                    }
                )
        cont = page.metadata._continue if page.metadata else None
        if not cont:
            break
    return out[:max_events], source, bool(cont)


def event_lines(events):
    """The events as ``kubectl describe`` lists them: a header, then one line each."""
    return ["  Type     Reason     Count  From     Message"] + [
        "  %s  %s  %s  %s  %s" % (e["type"], e["reason"], e["count"], e.get("source") or "", e["message"])
        for e in events
    ]


def describe(ctx):
    """A ``kubectl describe pod``-like text of a collected context (what llm_analyze reads)."""
    lines = ["Name:         %s" % ctx["pod"], "Namespace:    %s" % ctx["namespace"], "Node:         %s" % ctx["node"]]
    lines.append("Status:       %s" % ctx["phase"])
    lines.append("Containers:")
    for c in ctx["containers"]:
        lines.append("  %s:" % c["name"])
        lines.append("    Image:          %s" % c.get("image"))
        st = c["state"]
        lines.append("    State:          %s" % st["state"].capitalize())
        if st.get("reason"):
            lines.append("      Reason:       %s" % st["reason"])
        last = c.get("last_state") or {}
        if last.get("state") == "terminated":
            lines.append("    Last State:     Terminated")
            lines.append("      Reason:       %s" % last.get("reason"))
            lines.append("      Exit Code:    %s" % last.get("exit_code"))
        lines.append("    Ready:          %s" % c["ready"])
        lines.append("    Restart Count:  %s" % c["restart_count"])
        for kind in ("limits", "requests"):
            if c[kind]:
                lines.append("    %s:" % kind.capitalize())
                lines += ["      %s: %s" % kv for kv in sorted(c[kind].items())]
    if ctx["events"]:
        lines += ["Events:", *event_lines(ctx["events"])]
    for kind, title in (("previous", "previous container"), ("current", "current container")):
        log = ctx["logs"].get(kind)
        if log and log["text"]:
            lines += ["", "Logs of the %s (%s):" % (title, ctx["container"]), log["text"]]
    return "\n".join(lines) + "\n"


def collect_pod_context(
    core_v1,
    namespace,
    pod,
    *,
    container=None,
    tail_lines=DEFAULT_TAIL_LINES,
    max_log_bytes=DEFAULT_MAX_LOG_BYTES,
    max_events=DEFAULT_MAX_EVENTS,
    previous=True,
    timeout=30,
    secrets=(),
):
    """Everything an analyst needs about one pod; ``container`` defaults to the first not ready one."""
    if not namespace or not pod:
        raise InvalidInput("namespace and pod are required (the alert's labels namespace and pod)")
    positive("tail_lines", tail_lines)
    positive("max_log_bytes", max_log_bytes, 256)
    positive("max_events", max_events, 0)
    try:
        obj = core_v1.read_namespaced_pod(pod, namespace, _request_timeout=timeout)
    except ApiException as e:
        if e.status == 404:
            raise InvalidInput(
                "pod %s/%s not found: it may have been replaced since the alert fired; check the alert's "
                "labels or list the pods (kubectl -n %s get pods)" % (namespace, pod, namespace),
                {"status": 404},
            ) from e
        raise api_error(e, "reading pod %s/%s" % (namespace, pod)) from e

    statuses = {s.name: s for s in (obj.status.container_statuses or [])}
    containers = []
    for c in obj.spec.containers:
        st = statuses.get(c.name)
        containers.append(
            {
                "name": c.name,
                "image": c.image,
                "ready": bool(st and st.ready),
                "restart_count": st.restart_count if st else 0,
                "state": _state(st.state if st else None),
                "last_state": _state(st.last_state) if st and st.last_state else {},
                **_resources(c),
            }
        )
    names = [c["name"] for c in containers]
    if container is None:
        not_ready = [c["name"] for c in containers if not c["ready"] or c["restart_count"]]
        container = (not_ready or names)[0]
    elif container not in names:
        raise InvalidInput(
            "container %r is not in pod %s/%s; its containers are: %s" % (container, namespace, pod, ", ".join(names))
        )
    bounds = dict(tail_lines=tail_lines, max_bytes=max_log_bytes, timeout=timeout)
    logs = {"current": _read_log(core_v1, namespace, pod, container, previous=False, **bounds)}
    logs["previous"] = _read_log(core_v1, namespace, pod, container, previous=True, **bounds) if previous else None
    events, source, more = (
        object_events(core_v1, namespace, pod, max_events=max_events, timeout=timeout)
        if max_events
        else ([], None, False)
    )
    chosen = next(c for c in containers if c["name"] == container)
    last = chosen["last_state"] or {}
    ctx = {
        "namespace": namespace,
        "pod": pod,
        "node": obj.spec.node_name,
        "phase": obj.status.phase,
        "container": container,
        "containers": containers,
        "restart_count": chosen["restart_count"],
        "waiting_reason": chosen["state"].get("reason") if chosen["state"]["state"] == "waiting" else None,
        "last_termination_reason": last.get("reason"),
        "last_exit_code": last.get("exit_code"),
        "limits": chosen["limits"],
        "requests": chosen["requests"],
        "logs": logs,
        "events": events,
        "events_api": source,
        "events_truncated": more,
    }
    ctx["text"] = describe(ctx)
    return redacted(ctx, secrets)
