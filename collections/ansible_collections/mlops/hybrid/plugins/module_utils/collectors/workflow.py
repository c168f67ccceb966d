# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Context of a failed GitHub Actions run, read through the API only (nothing is checked out or run).

    gh_repo = client.repository(client.connect(token=token, api_url=api_url, timeout=30, retries=2), "owner/name")
    ctx = workflow.collect_workflow_failure_context(gh_repo, run_id, token=token)

Returns the run (workflow, commit, branch, event), its failed jobs and steps, and every distinct failure:
each failed step's log (taken from the run's log archive, bounded in bytes and lines), its category and
fingerprint (those the analysis will give it), the lines around each location named in its findings (a
Bandit ``Location:``, a ``file.py:12:`` of pytest or ruff) read at the failing commit through the contents
API. Matrix legs that fail the same way (same fingerprint) are one failure naming every leg. Then the
last successful run of the same workflow on the same branch, the commits between the two, and what
changed in the configuration between them (``configuration_changes``: the workflow file's diff,
dependency and lock file patches, action pins and the commits they resolved to, the runner image, the
dispatch inputs). Everything returned is redacted.
"""

from __future__ import annotations

import difflib
import io
import posixpath
import re
import zipfile

from ansible_collections.mlops.hybrid.plugins.module_utils import rest
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops import engine, excerpt, report
from ansible_collections.mlops.hybrid.plugins.module_utils.aiops.redact import merge_counts, redact
from ansible_collections.mlops.hybrid.plugins.module_utils.collectors.common import positive, redacted
from ansible_collections.mlops.hybrid.plugins.module_utils.errors import (
    InvalidInput,
    RemoteError,
)
from ansible_collections.mlops.hybrid.plugins.module_utils.github import client
from ansible_collections.mlops.hybrid.plugins.module_utils.text import normalize
from ansible_collections.mlops.hybrid.plugins.module_utils.text import tail as tail_text

DEFAULT_MAX_LOG_BYTES = 256 * 1024
DEFAULT_MAX_LOG_LINES = 2000
DEFAULT_MAX_ARCHIVE_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_FILES = 5
DEFAULT_FILE_CONTEXT = 6
DEFAULT_MAX_COMMITS = 20
MAX_JOBS = 100
MAX_RUNS_SCANNED = 100
MAX_FILE_BYTES = 512 * 1024
DEFAULT_MAX_FAILURES = 5
# Lines of a diff or patch shown at most (its start); the rest is counted.
DEFAULT_MAX_DIFF_LINES = 80
FAILED = ("failure", "timed_out", "cancelled")

# Files whose changes since the green run are shown: requirements, constraints, lock and manifest files.
DEPENDENCY_FILE = re.compile(
    r"(?:^|/)(?:(?:requirements|constraints)[\w.-]*\.(?:txt|in)|[\w.-]*\.lock|pyproject\.toml|setup\.cfg|Pipfile"
    r"|package(?:-lock)?\.json|pnpm-lock\.yaml|go\.(?:mod|sum)|Cargo\.toml|Dockerfile|environment\.ya?ml)$"
)
# A step's action in a workflow file, and what the runner resolved it to ("Set up job" of the job's log).
_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*['\"]?(?P<action>[^'\"\s@#]+)@(?P<ref>[^'\"\s#]+)")
_DOWNLOAD = re.compile(r"^Download action repository '(?P<action>[^'@]+)@(?P<ref>[^']+)' \(SHA:(?P<sha>[0-9a-f]{40})\)")
_RUNNER_IMAGE = re.compile(r"^Image: (?P<image>\S+)\n(?:Version: (?P<version>\S+))?", re.M)
_RUNNER_VERSION = re.compile(r"^Current runner version: '(?P<version>[^']+)'", re.M)

_LOCATION = re.compile(
    r"(?:Location:\s+|File \"|^|[\s(])"
    r"(?P<path>(?:\./|/)?[A-Za-z0-9_][\w./-]*\.(?:py|pyi|ya?ml|toml|cfg|ini|json|sh|txt))"
    r"(?:\", line |:)(?P<line>\d+)"
)
_WORKSPACE = re.compile(r"^/home/runner/work/[^/]+/[^/]+/")


def clean_log(text):
    """The log without the runner's timestamps, ANSI codes and redrawn progress bars (text.normalize)."""
    return normalize(text)


def finding_locations(text, max_files=DEFAULT_MAX_FILES):
    """(path, line) pairs named in a tool's output, repository-relative, de-duplicated, in order."""
    seen, out = set(), []
    for raw in text.splitlines():
        for m in _LOCATION.finditer(raw):
            path = _WORKSPACE.sub("", m.group("path"))
            path = posixpath.normpath(path[2:] if path.startswith("./") else path)
            if path.startswith(("/", "..")) or "/../" in path or "site-packages" in path:
                continue
            key = (path, int(m.group("line")))
            if key not in seen:
                seen.add(key)
                out.append(key)
            if len(out) >= max_files:
                return out
    return out


def _download(url, token, max_bytes, timeout):
    """GET an API URL that redirects to a blob; follow it WITHOUT the token (the blob URL is signed)."""
    requests = rest.require()
    headers = {"Authorization": "Bearer %s" % token, "Accept": "application/vnd.github+json"}
    with rest.translated(
        timed_out="GitHub did not answer within %ss reading %s" % (timeout, url),
        failed="reading %s failed: %%s" % url,
    ):
        r = requests.get(url, headers=headers, allow_redirects=False, timeout=timeout)
        if r.status_code in (301, 302, 303, 307, 308) and r.headers.get("Location"):
            r = requests.get(r.headers["Location"], stream=True, timeout=timeout)
        if r.status_code == 404:
            return None
        if r.status_code >= 400:
            raise RemoteError("GitHub answered %s to %s: %s" % (r.status_code, url, r.text[:200]))
        data = bytearray()
        for chunk in r.iter_content(65536):
            data += chunk
            if len(data) > max_bytes:
                raise InvalidInput(
                    "the log archive of the run is larger than max_archive_bytes (%d): raise it or use the job log"
                    % max_bytes
                )
        return bytes(data)


def _open_archive(data):
    """A run's log archive (bytes) as a zip file."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise RemoteError("the run's log archive is not a zip file") from e


def _entry(zf, wanted):
    """The first entry of the archive whose name ``wanted`` accepts, or None."""
    return next((info for info in zf.infolist() if wanted(info.filename)), None)


def _step_log_from_archive(zf, job_name, step_number):
    """The text of ``<job name>/<step number>_<step name>.txt`` in a run's log archive, or None."""
    prefix = "%s/%d_" % (job_name, step_number)
    info = _entry(zf, lambda name: name.startswith(prefix) and name.endswith(".txt"))
    if info is None:
        return None
    if info.file_size > DEFAULT_MAX_ARCHIVE_BYTES:
        raise InvalidInput("the step log %s is larger than %d bytes" % (info.filename, DEFAULT_MAX_ARCHIVE_BYTES))
    return zf.read(info).decode("utf-8", "replace")


def _job_log_from_archive(zf, job_name):
    """The text of the job's whole log (``<n>_<job name>.txt`` at the top of a run's log archive), or None."""
    info = _entry(zf, lambda name: re.fullmatch(r"\d+_%s\.txt" % re.escape(job_name), name) is not None)
    if info is None or info.file_size > DEFAULT_MAX_ARCHIVE_BYTES:
        return None
    return zf.read(info).decode("utf-8", "replace")


def _read_file(gh_repo, path, ref):
    """The lines of ``path`` at ``ref`` through the contents API (data only), or None when absent or too big."""
    try:
        content = gh_repo.get_contents(path, ref=ref)
    except client.GithubException as e:
        if getattr(e, "status", None) == 404:
            return None
        raise client.remote_error(e, "reading %s at %s" % (path, ref[:12])) from e
    if isinstance(content, list) or (content.size or 0) > MAX_FILE_BYTES:
        return None
    return content.decoded_content.decode("utf-8", "replace").splitlines()


def file_excerpts(gh_repo, locations, ref, context, *, cache=None):
    """Numbered lines around each (path, line); each file is read once (per ``cache``, a dict kept by the caller)."""
    cache, out = {} if cache is None else cache, []
    for path, line in locations:
        if path not in cache:
            cache[path] = _read_file(gh_repo, path, ref)
        lines = cache[path]
        if lines is None:
            out.append({"path": path, "line": line, "found": False})
            continue
        lo, hi = max(1, line - context), min(len(lines), line + context)
        excerpt = "\n".join("%d\t%s" % (n, lines[n - 1]) for n in range(lo, hi + 1))
        out.append({"path": path, "line": line, "found": True, "start": lo, "end": hi, "excerpt": excerpt})
    return out


class _RunLogs:
    """The logs of a run's jobs and steps: the run's archive, read once, else each job's log."""

    def __init__(self, gh_repo, run, *, token, max_archive_bytes, timeout):
        self.gh_repo, self.run, self.token = gh_repo, run, token
        self.max_bytes, self.timeout = max_archive_bytes, timeout
        self._archive, self._jobs = False, {}

    @property
    def archive(self):
        """The run's log archive as a zip file, downloaded and opened once; None when it is gone."""
        if self._archive is False:
            data = _download("%s/logs" % self.run.url, self.token, self.max_bytes, self.timeout)
            self._archive = _open_archive(data) if data else None
        return self._archive

    def job(self, job):
        """The job's whole log, or None when it is gone (expired, deleted)."""
        if job["id"] not in self._jobs:
            text = _job_log_from_archive(self.archive, job["name"]) if self.archive else None
            if text is None:
                url = "%s/actions/jobs/%d/logs" % (self.gh_repo.url, job["id"])
                raw = _download(url, self.token, self.max_bytes, self.timeout)
                text = raw.decode("utf-8", "replace") if raw is not None else None
            self._jobs[job["id"]] = text
        return self._jobs[job["id"]]

    def step(self, job, step):
        """(text, source) of a failed step: its file in the archive, else the job's whole log."""
        if step is not None and self.archive:
            raw = _step_log_from_archive(self.archive, job["name"], step["number"])
            if raw is not None:
                return raw, "run log archive"
        text = self.job(job)
        return (text, "job log") if text is not None else ("", "unavailable (logs expired or deleted)")


def failure_signature(log, run, job, step):
    """``category`` and ``fingerprint`` of a failure's log as mlops.hybrid.llm_analyze gives them when triage.yml
    passes the same names (step, job, workflow, workflow file) and the workflow as ``fingerprint_key``."""
    names = {"step": step, "job": job, "workflow": run.name, "workflow_file": getattr(run, "path", None)}
    ext = excerpt.extract(log, hints=engine.context_hints(names))
    return {
        "category": ext["category"],
        "fingerprint": report.fingerprint(ext["category"], ext["evidence"], key=run.name),
    }


def _bounded(lines, max_lines):
    """The first ``max_lines`` lines joined, and a line saying how many more there were."""
    lines = list(lines)
    more = len(lines) - max_lines
    return "\n".join(lines[:max_lines] + (["[... %d more lines ...]" % more] if more > 0 else []))


def action_refs(workflow_lines):
    """action -> the refs the workflow file pins it to (``uses: owner/name@ref``; local and docker actions left out)."""
    out = {}
    for line in workflow_lines or ():
        m = _USES.match(line)
        if m and not m.group("action").startswith((".", "docker:")):
            out.setdefault(m.group("action"), set()).add(m.group("ref"))
    return {k: ", ".join(sorted(v)) for k, v in out.items()}


def runner_facts(job_log):
    """What the runner said of itself in "Set up job": its version, image and image version, and the commit each
    action was resolved to (``Download action repository 'a@ref' (SHA:...)``)."""
    text = clean_log(job_log or "")
    image = _RUNNER_IMAGE.search(text)
    version = _RUNNER_VERSION.search(text)
    resolved = {}
    for line in text.splitlines():
        m = _DOWNLOAD.match(line)
        if m:
            resolved.setdefault(m.group("action"), "%s (%s)" % (m.group("ref"), m.group("sha")))
    return {
        "runner": version.group("version") if version else None,
        "image": " ".join(filter(None, image.groups())) if image else None,
        "actions": resolved,
    }


def _changed(before, after):
    """[{name, before, after}] of the keys whose value differs between two dicts."""
    return [
        {"action": k, "before": before.get(k), "after": after.get(k)}
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    ]


def _runner_facts_of_both(gh_repo, last, logs, jobs):
    """(then, now): ``runner_facts`` of the first failed job that also ran in the green run ``last``, or Nones."""
    then_logs = _RunLogs(gh_repo, last, token=logs.token, max_archive_bytes=logs.max_bytes, timeout=logs.timeout)
    then_jobs = {j.name: j for j in client.call("listing jobs", last.jobs, "latest")}
    for job in jobs:
        if job["name"] in then_jobs:
            other = then_jobs[job["name"]]
            texts = (then_logs.job({"id": other.id, "name": other.name}), logs.job(job))
            return tuple(runner_facts(t) if t else None for t in texts)
    return None, None


def configuration_changes(gh_repo, run, last, *, comparison, logs, jobs, max_lines=DEFAULT_MAX_DIFF_LINES):
    """What differs between the last green run ``last`` and the failing ``run``, beyond the code: the workflow file,
    dependency and lock files, action pins (in the file, and the commits the runner resolved them to), the runner
    image (of the first of the failed ``jobs`` that also ran then), and the dispatch inputs (the run names of two
    dispatched runs). An aspect is listed in ``unchanged`` when it did not change, in ``unavailable`` when it could
    not be read."""
    out = {"compared_with": {"id": last.id, "head_sha": last.head_sha, "url": last.html_url}}
    unavailable = []
    path = getattr(run, "path", None)
    before = _read_file(gh_repo, path, last.head_sha) if path else None
    after = _read_file(gh_repo, path, run.head_sha) if path else None
    out["workflow_file"] = None
    if before is None or after is None:
        unavailable.append("workflow file")
    else:
        diff = list(difflib.unified_diff(before, after, "a/" + path, "b/" + path, n=2, lineterm=""))
        out["workflow_file"] = {"path": path, "diff": _bounded(diff, max_lines)} if diff else None
    deps = [f for f in (comparison.files if comparison is not None else []) if DEPENDENCY_FILE.search(f.filename)]
    out["dependency_files"] = [
        {"path": f.filename, "status": f.status, "patch": _bounded((f.patch or "").splitlines(), max_lines)}
        for f in deps
    ]
    then, now = _runner_facts_of_both(gh_repo, last, logs, jobs)
    pins = _changed(action_refs(before or ()), action_refs(after or ()))
    out["runner_image"] = None
    if now and then:
        seen = {p["action"] for p in pins}
        pins += [p for p in _changed(then["actions"], now["actions"]) if p["action"] not in seen]
        runner = ["%s, runner %s" % (f["image"] or "no hosted image", f["runner"]) for f in (then, now)]
        out["runner_image"] = {"before": runner[0], "after": runner[1]} if runner[0] != runner[1] else None
    else:
        unavailable.append("runner image")
    out["action_pins"] = pins
    out["inputs"] = None
    aspects = {
        "workflow file": out["workflow_file"],
        "dependency files": out["dependency_files"],
        "action pins": pins,
        "runner image": out["runner_image"],
    }
    if run.event == last.event == "workflow_dispatch":
        titles = (getattr(last, "display_title", None), getattr(run, "display_title", None))
        out["inputs"] = aspects["inputs"] = (
            {"before": titles[0], "after": titles[1]} if titles[0] != titles[1] else None
        )
    unchanged = [name for name, change in aspects.items() if not change and name not in unavailable]
    out["unchanged"], out["unavailable"] = unchanged, unavailable
    return out


def _last_success(gh_repo, run):
    wf = client.call("reading workflow %s" % run.workflow_id, gh_repo.get_workflow, run.workflow_id)
    runs = client.call("listing runs", wf.get_runs, branch=run.head_branch, status="success")
    for n, other in enumerate(runs):
        if n >= MAX_RUNS_SCANNED:
            break
        if other.id != run.id and other.created_at <= run.created_at:
            return other
    return None


def _failures(run, jobs, logs, secrets, *, max_lines, max_bytes, max_failures):
    """(failures, omitted, redaction counts): each failed step of each failed job (the job itself when no step
    failed), its log bounded and redacted, folded by fingerprint; one failure without a log when no job failed."""
    failures, omitted, counts, by_fingerprint = [], 0, {}, {}
    for job in jobs:
        for step in job["steps"] or [None]:
            raw, source = logs.step(job, step)
            text, truncated = tail_text(clean_log(raw), max_lines, max_bytes)
            text, found = redact(text, secrets)
            counts = merge_counts(counts, found)
            sig = failure_signature(text, run, job["name"], step["name"] if step else None)
            if sig["fingerprint"] in by_fingerprint:  # a matrix leg (or another job) failing the same way
                same = by_fingerprint[sig["fingerprint"]]
                same["jobs"].append(job["name"])
                same["job_urls"].append(job["url"])
                continue
            if len(failures) >= max_failures:
                omitted += 1
                continue
            failure = {
                **sig,
                "jobs": [job["name"]],
                "job_urls": [job["url"]],
                "step": step["name"] if step else None,
                "log": text,
                "log_source": source,
                "log_truncated": truncated,
            }
            by_fingerprint[sig["fingerprint"]] = failure
            failures.append(failure)
    if not failures:  # the run failed before any job did (an invalid workflow file, a startup failure)
        failures.append(
            {
                **failure_signature("", run, None, None),
                "jobs": [],
                "job_urls": [],
                "step": None,
                "log": "",
                "log_source": "none (no job of the run failed)",
                "log_truncated": False,
            }
        )
    return failures, omitted, counts


def collect_workflow_failure_context(
    gh_repo,
    run_id,
    *,
    token,
    max_log_bytes=DEFAULT_MAX_LOG_BYTES,
    max_log_lines=DEFAULT_MAX_LOG_LINES,
    max_archive_bytes=DEFAULT_MAX_ARCHIVE_BYTES,
    max_files=DEFAULT_MAX_FILES,
    file_context_lines=DEFAULT_FILE_CONTEXT,
    max_commits=DEFAULT_MAX_COMMITS,
    max_failures=DEFAULT_MAX_FAILURES,
    max_diff_lines=DEFAULT_MAX_DIFF_LINES,
    timeout=30,
    secrets=(),
):
    """What failed in run ``run_id``, why (each failure's log), where (files), since when (commits) and what changed."""
    positive("run_id", run_id)
    positive("max_log_bytes", max_log_bytes, 1024)
    positive("max_log_lines", max_log_lines)
    positive("max_files", max_files, 0)
    positive("max_commits", max_commits, 0)
    positive("max_failures", max_failures)
    positive("max_diff_lines", max_diff_lines, 0)
    try:
        run = gh_repo.get_workflow_run(run_id)
    except client.GithubException as e:
        if getattr(e, "status", None) == 404:
            raise InvalidInput(
                "workflow run %s not found in %s: check the run id (github.event.workflow_run.id) and that the "
                "token can read Actions" % (run_id, gh_repo.full_name),
                {"status": 404},
            ) from e
        raise client.remote_error(e, "reading workflow run %s" % run_id) from e

    jobs = []
    for n, job in enumerate(client.call("listing jobs", run.jobs, "latest")):
        if n >= MAX_JOBS:
            break
        if job.conclusion not in FAILED:
            continue
        steps = [
            {"number": s.number, "name": s.name, "conclusion": s.conclusion}
            for s in job.steps
            if s.conclusion in FAILED
        ]
        jobs.append({"id": job.id, "name": job.name, "conclusion": job.conclusion, "url": job.html_url, "steps": steps})

    logs = _RunLogs(gh_repo, run, token=token, max_archive_bytes=max_archive_bytes, timeout=timeout)
    secrets = [token, *secrets]
    bounds = {"max_lines": max_log_lines, "max_bytes": max_log_bytes, "max_failures": max_failures}
    failures, omitted, counts = _failures(run, jobs, logs, secrets, **bounds)
    cache = {}
    for failure in failures:
        where = finding_locations(failure["log"], max_files)
        failure["files"] = file_excerpts(gh_repo, where, run.head_sha, file_context_lines, cache=cache)
    first = failures[0]

    last = _last_success(gh_repo, run)
    commits, comparison = [], None
    if last is not None and last.head_sha != run.head_sha:
        comparison = client.call("comparing commits", gh_repo.compare, last.head_sha, run.head_sha)
        for n, c in enumerate(comparison.commits):
            if n >= max_commits:
                break
            commits.append({"sha": c.sha, "message": (c.commit.message or "").splitlines()[0][:200]})

    ctx = {
        "run": {
            "id": run.id,
            "name": run.name,
            "workflow_id": run.workflow_id,
            "path": getattr(run, "path", None),
            "event": run.event,
            "head_sha": run.head_sha,
            "head_branch": run.head_branch,
            "conclusion": run.conclusion,
            "url": run.html_url,
            "pull_requests": [pr.number for pr in (getattr(run, "pull_requests", None) or [])],
            "default_branch": gh_repo.default_branch,
            "on_default_branch": run.head_branch == gh_repo.default_branch,
        },
        "failed_jobs": jobs,
        "failures": failures,
        "failures_omitted": omitted,
        "failing_job": (first["jobs"] or [None])[0],
        "failing_step": first["step"],
        "log": first["log"],
        "log_source": first["log_source"],
        "log_truncated": bool(first.get("log_truncated")),
        "files": first.get("files", []),
        "last_success": (
            {"id": last.id, "head_sha": last.head_sha, "url": last.html_url} if last is not None else None
        ),
        "commits_since_success": commits,
        "configuration_changes": (
            configuration_changes(
                gh_repo, run, last, comparison=comparison, logs=logs, jobs=jobs, max_lines=max_diff_lines
            )
            if last is not None
            else None
        ),
    }
    out = redacted(ctx, secrets)
    out["redactions"] = dict(sorted(merge_counts(out["redactions"], counts).items()))
    return out
