# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Post an analysis where people read it: a GitHub issue (de-duplicated), a commit or PR comment, Slack.

``plan`` reads GitHub and decides every action without writing anything (check mode stops there);
``execute`` carries the plan out. An open issue that already carries the failure's fingerprint gets a
comment instead of a twin; a text already posted (same digest) is not posted again.
"""

from __future__ import annotations

import copy
import dataclasses
import re

from ansible_collections.mlops.hybrid.plugins.module_utils import slack
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import report
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.categories import CATEGORIES, TABLE, TEAMS, category
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.redact import merge_counts, redact
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import InvalidInput
from ansible_collections.mlops.hybrid.plugins.module_utils.github import client, comments, issues
from ansible_collections.mlops.hybrid.plugins.module_utils.text import shorten

# Characters of the summary's first sentence in a default issue title (cut, no ellipsis).
TITLE_SUMMARY = 90
# Labels by category from the category table; routing adds assignees or replaces labels.
DEFAULT_ROUTING = {c.name: {"labels": list(c.labels), "assignees": []} for c in TABLE}


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


# A GitHub user (alice) or team (acme/ml), with or without the leading @.
_HANDLE = re.compile(r"^@?[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9_.-]{1,100})?$")


def check_teams(teams):
    """``teams`` (team -> GitHub handles) checked; the handles with their @."""
    if not isinstance(teams, dict):
        raise InvalidInput("teams must be a dict of team (%s) to lists of GitHub handles" % ", ".join(TEAMS))
    out = {}
    for team, handles in teams.items():
        if team not in TEAMS:
            raise InvalidInput("teams has unknown team %r; the categories go to %s" % (team, ", ".join(TEAMS)))
        if not isinstance(handles, list) or not all(isinstance(h, str) and _HANDLE.match(h) for h in handles):
            raise InvalidInput(
                "teams.%s must be a list of GitHub handles (a user such as alice or a team such as acme/ml), got %r"
                % (team, handles)
            )
        out[team] = ["@" + h.lstrip("@") for h in handles]
    return out


def team_lines(category_names, handles):
    """A line per team of these categories (in order, once each), mentioning its handles of ``handles`` (the
    result of ``check_teams``); "" when none of them has a team."""
    teams = list(dict.fromkeys(category(c).team for c in category_names if category(c).team))
    return "".join(
        "**Team:** %s%s\n" % (t, (" (cc %s)" % " ".join(handles[t])) if handles.get(t) else "") for t in teams
    )


def load_analysis(analysis):
    """The parts of an llm_analyze result that are posted, validated again (never trusted as given)."""
    if not isinstance(analysis, dict):
        raise InvalidInput("analysis must be the registered result of mlops.hybrid.llm_analyze (a dict)")
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
        "where": failure_place(analysis.get("item")),
    }


def failure_place(item):
    """ "jobs / step" of the failure an analysis was run on: the ``item`` of llm_analyze looped over the
    ``failures`` of mlops.hybrid.workflow_failure_context, or None."""
    if not isinstance(item, dict):
        return None
    jobs = item.get("jobs") if isinstance(item.get("jobs"), list) else []
    return " / ".join(x for x in (", ".join(str(j) for j in jobs), str(item.get("step") or "")) if x) or None


def load_analyses(analysis=None, analyses=None):
    """The failures to post: ``analysis`` alone, or each of ``analyses``; those with the same fingerprint (the same
    failure seen in several jobs) are one, naming every place it was seen."""
    if (analysis is None) == (not analyses):
        raise InvalidInput("give exactly one of analysis (an llm_analyze result) or analyses (a list of them)")
    if analysis is not None:
        return [load_analysis(analysis)]
    if not isinstance(analyses, list):
        raise InvalidInput("analyses must be a list of llm_analyze results (the results of a looped llm_analyze)")
    out = {}
    for n, one in enumerate(analyses):
        try:
            a = load_analysis(one)
        except InvalidInput as e:
            raise InvalidInput("analyses[%d]: %s" % (n, e)) from e
        if a["fingerprint"] in out:
            same = out[a["fingerprint"]]
            same["where"] = "; ".join(x for x in (same["where"], a["where"]) if x) or None
        else:
            out[a["fingerprint"]] = a
    return list(out.values())


def compose(failures, title=None, meta=None, secrets=(), handles=None):
    """Title, markdown body (with fingerprint and digest markers, and the team lines) and Slack text, all redacted.

    One failure is one report; several are one report with a section each. The teams' handles (``handles``, checked)
    are mentioned after the report is rendered, so only configured handles are.
    """

    def section(a, **kw):
        return report.render_markdown(
            a["report"],
            a["category"],
            a["evidence"],
            provider=a["provider"],
            fallback=a["fallback"],
            fingerprint=a["fingerprint"],
            **kw,
        )

    if len(failures) == 1:
        body = section(failures[0], meta=meta)
    else:
        parts = ["## %d failures" % len(failures), ""]
        for n, a in enumerate(failures, 1):
            parts += ["## %d. %s" % (n, report.neutralize(a["where"] or a["category"])), "", section(a, footer=False)]
        body = "\n".join(parts + report.render_context(meta)) + "\n"
    body, c1 = redact(body, secrets)
    body += team_lines([a["category"] for a in failures], handles or {})
    dig = report.digest(body)
    body += "<!-- %s: %s -->\n" % (report.DIGEST_MARKER, dig)
    first = failures[0]
    if not title:
        names = list(dict.fromkeys(a["category"] for a in failures))
        title = "[aiops] %s%s: %s" % (
            "%d failures, " % len(failures) if len(failures) > 1 else "",
            " + ".join(names),
            shorten(first["report"]["summary"].split(". ")[0], TITLE_SUMMARY, ""),
        )
    title, c2 = redact(report.neutralize(title), secrets)
    slack_text = "\n\n".join(
        report.render_slack(a["report"], a["category"], provider=a["provider"], fallback=a["fallback"])
        for a in failures
    )
    if len(failures) > 1:
        slack_text = "*%d failures*\n%s" % (len(failures), slack_text)
    text, c3 = redact(slack_text, secrets)
    return {"title": title, "body": body, "digest": dig, "slack_text": text, "redactions": merge_counts(c1, c2, c3)}


def _has_digest(texts, dig):
    marker = "%s: %s" % (report.DIGEST_MARKER, dig)
    return any(marker in t for t in texts)


def plan(
    gh_repo,
    failures,
    msg,
    *,
    github_issue=True,
    commit_sha=None,
    pull_request=None,
    slack_url=None,
    routing=None,
    labels=(),
    dedup_label="aiops",
):
    """Decide what to post; reads GitHub, writes nothing. Each action: target, action, and details.

    The open issue of the report is the first that carries the fingerprint of any of its failures."""
    actions = []
    if github_issue:
        issue = None
        for a in failures:
            fp_marker = "%s: %s" % (report.FINGERPRINT_MARKER, a["fingerprint"])
            issue = issues.find_open_issue(gh_repo, marker=fp_marker, label=dedup_label)
            if issue is not None:
                break
        if issue is None:
            routes = [routing_for(a["category"], routing) for a in failures]
            want = list(dict.fromkeys([dedup_label, *(x for r in routes for x in r["labels"]), *labels]))
            assignees = list(dict.fromkeys(x for r in routes for x in r["assignees"]))
            actions.append(
                {"target": "issue", "action": "create", "labels": want, "assignees": assignees, "number": None}
            )
        elif _has_digest(issues.texts_of_issue(issue), msg["digest"]):
            actions.append({"target": "issue", "action": "none", "number": issue.number, "url": issue.html_url})
        else:
            actions.append({"target": "issue", "action": "comment", "number": issue.number, "url": issue.html_url})
    if commit_sha:
        commit = comments.commit(gh_repo, commit_sha)
        act = "none" if _has_digest(comments.commit_comment_texts(commit), msg["digest"]) else "comment"
        actions.append({"target": "commit", "action": act, "sha": commit.sha})
    if pull_request:
        pr = comments.pull(gh_repo, pull_request)
        act = "none" if _has_digest(comments.pull_comment_texts(pr), msg["digest"]) else "comment"
        actions.append({"target": "pull_request", "action": act, "number": pr.number})
    if slack_url:
        github_targets = [x for x in actions if x["target"] != "slack"]
        duplicate = github_targets and all(x["action"] == "none" for x in github_targets)
        actions.append({"target": "slack", "action": "none" if duplicate else "post"})
    return actions


def execute(gh_repo, actions, msg, *, slack_url=None):
    """Carry out the plan; fills in numbers and URLs of what was created."""
    for act in actions:
        if act["action"] == "none":
            continue
        if act["target"] == "issue" and act["action"] == "create":
            issue = issues.create_issue(
                gh_repo, title=msg["title"], body=msg["body"], labels=act["labels"], assignees=act["assignees"]
            )
            act.update(number=issue.number, url=issue.html_url)
        elif act["target"] == "issue":
            comment = issues.comment_on_issue(gh_repo, number=act["number"], body=msg["body"])
            act["comment_url"] = comment.html_url
        elif act["target"] == "commit":
            comment = comments.comment_on_commit(gh_repo, sha=act["sha"], body=msg["body"])
            act["comment_url"] = comment.html_url
        elif act["target"] == "pull_request":
            comment = comments.comment_on_pull(gh_repo, number=act["number"], body=msg["body"])
            act["comment_url"] = comment.html_url
        elif act["target"] == "slack":
            links = [x.get("comment_url") or x.get("url") for x in actions if x["target"] != "slack"]
            text = msg["slack_text"] + "".join("\n%s" % u for u in links if u)
            slack.post_webhook(slack_url, text)
    return actions


@dataclasses.dataclass(frozen=True)
class IncidentOptions:
    """The options of mlops.hybrid.incident_report, by name (see its documentation)."""

    analysis: dict | None = None
    analyses: list = dataclasses.field(default_factory=list)
    repository: str | None = None
    github_token: str | None = None
    github_api_url: str = "https://api.github.com"
    title: str | None = None
    github_issue: bool = True
    commit_sha: str | None = None
    pull_request: int | None = None
    slack_webhook_url: str | None = None
    routing: dict = dataclasses.field(default_factory=dict)
    labels: list = dataclasses.field(default_factory=list)
    dedup_label: str = "aiops"
    meta: dict = dataclasses.field(default_factory=dict)
    teams: dict = dataclasses.field(default_factory=dict)
    timeout: int = client.DEFAULT_TIMEOUT
    retries: int = client.DEFAULT_RETRIES


def report_incident(o, check_mode=False):
    """The whole of mlops.hybrid.incident_report for its options ``o`` (IncidentOptions); returns the result."""
    failures = load_analyses(o.analysis, o.analyses)
    handles = check_teams(o.teams or {})
    secrets = [v for v in (o.github_token, o.slack_webhook_url) if v]
    msg = compose(failures, o.title, o.meta, secrets, handles=handles)
    wants_github = o.github_issue or o.commit_sha or o.pull_request
    if not wants_github and not o.slack_webhook_url:
        raise InvalidInput("nothing to post to: enable github_issue, give commit_sha/pull_request or a Slack webhook")
    if o.slack_webhook_url:
        slack.check_webhook_url(o.slack_webhook_url)
    repo = None
    if wants_github:
        gh = client.connect(token=o.github_token, api_url=o.github_api_url, timeout=o.timeout, retries=o.retries)
        repo = client.repository(gh, o.repository)
    actions = plan(
        repo,
        failures,
        msg,
        github_issue=o.github_issue,
        commit_sha=o.commit_sha,
        pull_request=o.pull_request,
        slack_url=o.slack_webhook_url,
        routing=o.routing,
        labels=o.labels or (),
        dedup_label=o.dedup_label or "aiops",
    )
    if not check_mode:
        execute(repo, actions, msg, slack_url=o.slack_webhook_url)
    issue = next((x for x in actions if x["target"] == "issue"), {})
    return {
        "changed": any(x["action"] != "none" for x in actions),
        "actions": actions,
        "issue_number": issue.get("number"),
        "issue_url": issue.get("url"),
        "fingerprint": failures[0]["fingerprint"],
        "fingerprints": [a["fingerprint"] for a in failures],
        "title": msg["title"],
        "body": msg["body"],
        "slack_text": msg["slack_text"],
        "redactions": msg["redactions"],
    }
