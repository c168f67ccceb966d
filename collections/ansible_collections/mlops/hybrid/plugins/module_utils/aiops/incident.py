# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Post an analysis where people read it: a GitHub issue (de-duplicated), a commit or PR comment, Slack.

``plan`` reads GitHub and decides every action without writing anything (check mode stops there);
``execute`` carries the plan out. An open issue that already carries the failure's fingerprint gets a
comment instead of a twin; a text already posted (same digest) is not posted again.
"""

from __future__ import annotations

import copy

from .. import github_api, slack
from ..errors import InvalidInput
from . import report
from .context import CATEGORIES
from .redact import merge_counts, redact

SECURITY = ("sast", "sca", "container_scan", "secrets")
ML = ("training", "model_validation")
SRE = ("k8s_crashloop", "k8s_oom", "k8s_image_pull", "k8s_probe", "k8s_latency", "argocd_sync", "infra")

DEFAULT_ROUTING = {
    **{c: {"labels": ["security"], "assignees": []} for c in SECURITY},
    **{c: {"labels": ["ml"], "assignees": []} for c in ML},
    **{c: {"labels": ["sre"], "assignees": []} for c in SRE},
    "test": {"labels": ["ci"], "assignees": []},
    "lint": {"labels": ["ci"], "assignees": []},
    "other": {"labels": ["triage"], "assignees": []},
}


def routing_for(category, routing=None):
    """Labels and assignees for a category: the user's mapping over the defaults ("default" applies to all)."""
    routing = routing or {}
    for key, value in routing.items():
        if key != "default" and key not in CATEGORIES:
            raise InvalidInput(
                "routing has unknown category %r; use one of %s or default" % (key, ", ".join(CATEGORIES))
            )
        if not isinstance(value, dict) or set(value) - {"labels", "assignees"}:
            raise InvalidInput("routing.%s must be a dict with labels and/or assignees (lists)" % key)
        for field in ("labels", "assignees"):
            if not isinstance(value.get(field, []), list):
                raise InvalidInput("routing.%s.%s must be a list" % (key, field))
    out = copy.deepcopy(DEFAULT_ROUTING.get(category, DEFAULT_ROUTING["other"]))
    for key in ("default", category):
        for field in ("labels", "assignees"):
            if field in routing.get(key, {}):
                out[field] = list(routing[key][field])
    return out


def load_analysis(analysis):
    """The parts of a gemini_analyze result that are posted, validated again (never trusted as given)."""
    if not isinstance(analysis, dict):
        raise InvalidInput("analysis must be the registered result of mlops.hybrid.gemini_analyze (a dict)")
    category = analysis.get("category")
    if category not in CATEGORIES:
        raise InvalidInput("analysis.category must be one of %s, got %r" % (", ".join(CATEGORIES), category))
    try:
        rep = report.validate(analysis.get("report"))
    except report.ReportInvalid as e:
        raise InvalidInput("analysis.report is not a valid report: %s" % e) from e
    evidence = analysis.get("evidence") or []
    if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
        raise InvalidInput("analysis.evidence must be a list of strings")
    fp = analysis.get("fingerprint") or report.fingerprint(category, evidence)
    if not isinstance(fp, str) or not fp.isalnum():
        raise InvalidInput("analysis.fingerprint must be alphanumeric")
    return {
        "category": category,
        "report": rep,
        "evidence": evidence,
        "fingerprint": fp,
        "provider": analysis.get("provider_used") or "offline",
        "fallback": bool(analysis.get("fallback")),
    }


def compose(a, title=None, meta=None, secrets=()):
    """Title, markdown body (with fingerprint and digest markers) and Slack text, all redacted."""
    body = report.render_markdown(
        a["report"], a["category"], a["evidence"], a["provider"], a["fallback"], a["fingerprint"], meta
    )
    body, c1 = redact(body, secrets)
    dig = report.digest(body)
    body += "<!-- %s: %s -->\n" % (report.DIGEST_MARKER, dig)
    title = title or "[aiops] %s: %s" % (a["category"], a["report"]["summary"].split(". ")[0][:90])
    title, c2 = redact(report.neutralize(title), secrets)
    text, c3 = redact(report.render_slack(a["report"], a["category"], a["provider"], a["fallback"]), secrets)
    return {"title": title, "body": body, "digest": dig, "slack_text": text, "redactions": merge_counts(c1, c2, c3)}


def _has_digest(texts, dig):
    marker = "%s: %s" % (report.DIGEST_MARKER, dig)
    return any(marker in t for t in texts)


def plan(
    gh_repo,
    a,
    msg,
    github_issue=True,
    commit_sha=None,
    pull_request=None,
    slack_url=None,
    routing=None,
    labels=(),
    dedup_label="aiops",
):
    """Decide what to post; reads GitHub, writes nothing. Each action: target, action, and details."""
    actions = []
    fp_marker = "%s: %s" % (report.FINGERPRINT_MARKER, a["fingerprint"])
    if github_issue:
        issue = github_api.find_open_issue(gh_repo, fp_marker, dedup_label)
        if issue is None:
            route = routing_for(a["category"], routing)
            want = list(dict.fromkeys([dedup_label, *route["labels"], *labels]))
            actions.append(
                {"target": "issue", "action": "create", "labels": want, "assignees": route["assignees"], "number": None}
            )
        elif _has_digest(github_api.texts_of_issue(issue), msg["digest"]):
            actions.append({"target": "issue", "action": "none", "number": issue.number, "url": issue.html_url})
        else:
            actions.append({"target": "issue", "action": "comment", "number": issue.number, "url": issue.html_url})
    if commit_sha:
        commit = github_api.call("reading commit %s" % commit_sha, gh_repo.get_commit, commit_sha)
        texts = [c.body or "" for c in github_api.call("reading commit comments", commit.get_comments)]
        act = "none" if _has_digest(texts, msg["digest"]) else "comment"
        actions.append({"target": "commit", "action": act, "sha": commit.sha})
    if pull_request:
        pr = github_api.call("reading pull request #%s" % pull_request, gh_repo.get_pull, pull_request)
        texts = [c.body or "" for c in github_api.call("reading PR comments", pr.get_issue_comments)]
        act = "none" if _has_digest(texts, msg["digest"]) else "comment"
        actions.append({"target": "pull_request", "action": act, "number": pr.number})
    if slack_url:
        github_targets = [x for x in actions if x["target"] != "slack"]
        duplicate = github_targets and all(x["action"] == "none" for x in github_targets)
        actions.append({"target": "slack", "action": "none" if duplicate else "post"})
    return actions


def execute(gh_repo, actions, msg, slack_url=None):
    """Carry out the plan; fills in numbers and URLs of what was created."""
    for act in actions:
        if act["action"] == "none":
            continue
        if act["target"] == "issue" and act["action"] == "create":
            issue = github_api.call(
                "creating the issue",
                gh_repo.create_issue,
                title=msg["title"],
                body=msg["body"],
                labels=act["labels"],
                assignees=act["assignees"],
            )
            act.update(number=issue.number, url=issue.html_url)
        elif act["target"] == "issue":
            issue = github_api.call("reading issue #%s" % act["number"], gh_repo.get_issue, act["number"])
            comment = github_api.call("commenting on issue #%s" % act["number"], issue.create_comment, msg["body"])
            act["comment_url"] = comment.html_url
        elif act["target"] == "commit":
            commit = github_api.call("reading commit", gh_repo.get_commit, act["sha"])
            comment = github_api.call("commenting on commit %s" % act["sha"], commit.create_comment, msg["body"])
            act["comment_url"] = comment.html_url
        elif act["target"] == "pull_request":
            pr = github_api.call("reading pull request", gh_repo.get_pull, act["number"])
            comment = github_api.call("commenting on PR #%s" % act["number"], pr.create_issue_comment, msg["body"])
            act["comment_url"] = comment.html_url
        elif act["target"] == "slack":
            links = [x.get("comment_url") or x.get("url") for x in actions if x["target"] != "slack"]
            text = msg["slack_text"] + "".join("\n%s" % u for u in links if u)
            slack.post_webhook(slack_url, text)
    return actions


def report_incident(p, check_mode=False):
    """The whole of mlops.hybrid.incident_report for its options ``p`` (a dict); returns the result."""
    a = load_analysis(p["analysis"])
    secrets = [v for v in (p.get("github_token"), p.get("slack_webhook_url")) if v]
    msg = compose(a, p.get("title"), p.get("meta"), secrets)
    wants_github = p.get("github_issue") or p.get("commit_sha") or p.get("pull_request")
    if not wants_github and not p.get("slack_webhook_url"):
        raise InvalidInput("nothing to post to: enable github_issue, give commit_sha/pull_request or a Slack webhook")
    if p.get("slack_webhook_url"):
        slack.check_webhook_url(p["slack_webhook_url"])
    repo = None
    if wants_github:
        repo = github_api.get_repo(github_api.connect(p.get("github_token"), p["github_api_url"]), p.get("repository"))
    actions = plan(
        repo,
        a,
        msg,
        p.get("github_issue"),
        p.get("commit_sha"),
        p.get("pull_request"),
        p.get("slack_webhook_url"),
        p.get("routing"),
        p.get("labels") or (),
        p.get("dedup_label") or "aiops",
    )
    if not check_mode:
        execute(repo, actions, msg, p.get("slack_webhook_url"))
    issue = next((x for x in actions if x["target"] == "issue"), {})
    return {
        "changed": any(x["action"] != "none" for x in actions),
        "actions": actions,
        "issue_number": issue.get("number"),
        "issue_url": issue.get("url"),
        "fingerprint": a["fingerprint"],
        "title": msg["title"],
        "body": msg["body"],
        "slack_text": msg["slack_text"],
        "redactions": msg["redactions"],
    }
