# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Context of a failed GitHub Actions run, read through the API only (nothing is checked out or run).

    gh_repo = client.repository(client.connect(token=token, api_url=api_url, timeout=30, retries=2), "owner/name")
    ctx = workflow.collect_workflow_failure_context(gh_repo, run_id, token=token)

Returns the run (workflow, commit, branch, event), its failed jobs and steps, the failing step's log
(taken from the run's log archive, bounded in bytes and lines), the lines around each location named
in the findings (a Bandit ``Location:``, a ``file.py:12:`` of pytest or ruff), read at the failing
commit through the contents API, and the last successful run of the same workflow on the same branch
with the commits between the two. Everything returned is redacted.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile

from ansible_collections.mlops.hybrid.plugins.module_utils import rest
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


def _step_log_from_archive(archive, job_name, step_number):
    """The text of ``<job name>/<step number>_<step name>.txt`` in a run's log archive, or None."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(archive))
    except zipfile.BadZipFile as e:
        raise RemoteError("the run's log archive is not a zip file") from e
    prefix = "%s/%d_" % (job_name, step_number)
    for info in zf.infolist():
        if info.filename.startswith(prefix) and info.filename.endswith(".txt"):
            if info.file_size > DEFAULT_MAX_ARCHIVE_BYTES:
                raise InvalidInput(
                    "the step log %s is larger than %d bytes" % (info.filename, DEFAULT_MAX_ARCHIVE_BYTES)
                )
            return zf.read(info).decode("utf-8", "replace")
    return None


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


def file_excerpts(gh_repo, locations, ref, context):
    """Numbered lines around each (path, line); each file is read once."""
    cache, out = {}, []
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


def _last_success(gh_repo, run):
    wf = client.call("reading workflow %s" % run.workflow_id, gh_repo.get_workflow, run.workflow_id)
    runs = client.call("listing runs", wf.get_runs, branch=run.head_branch, status="success")
    for n, other in enumerate(runs):
        if n >= MAX_RUNS_SCANNED:
            break
        if other.id != run.id and other.created_at <= run.created_at:
            return other
    return None


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
    timeout=30,
    secrets=(),
):
    """What failed in run ``run_id``, why (the failing step's log), where (files) and since when (commits)."""
    positive("run_id", run_id)
    positive("max_log_bytes", max_log_bytes, 1024)
    positive("max_log_lines", max_log_lines)
    positive("max_files", max_files, 0)
    positive("max_commits", max_commits, 0)
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
        if job.conclusion not in ("failure", "timed_out", "cancelled"):
            continue
        steps = [
            {"number": s.number, "name": s.name, "conclusion": s.conclusion}
            for s in job.steps
            if s.conclusion in ("failure", "timed_out", "cancelled")
        ]
        jobs.append({"id": job.id, "name": job.name, "conclusion": job.conclusion, "url": job.html_url, "steps": steps})

    failing = {"job": None, "step": None, "log": "", "log_source": None, "truncated": False}
    first = next((j for j in jobs if j["steps"]), jobs[0] if jobs else None)
    if first is not None:
        raw = None
        if first["steps"]:
            step = first["steps"][0]
            archive = _download("%s/logs" % run.url, token, max_archive_bytes, timeout)
            raw = _step_log_from_archive(archive, first["name"], step["number"]) if archive else None
            failing.update(step=step["name"], log_source="run log archive" if raw is not None else None)
        if raw is None:  # no step log in the archive (expired, renamed): the job's whole log
            raw = _download("%s/actions/jobs/%d/logs" % (gh_repo.url, first["id"]), token, max_archive_bytes, timeout)
            failing["log_source"] = "job log" if raw is not None else "unavailable (logs expired or deleted)"
            raw = raw.decode("utf-8", "replace") if raw else ""
        text, truncated = tail_text(clean_log(raw), max_log_lines, max_log_bytes)
        failing.update(job=first["name"], log=text, truncated=truncated)

    files = file_excerpts(gh_repo, finding_locations(failing["log"], max_files), run.head_sha, file_context_lines)

    last = _last_success(gh_repo, run)
    commits = []
    if last is not None and last.head_sha != run.head_sha and max_commits:
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
        "failing_job": failing["job"],
        "failing_step": failing["step"],
        "log": failing["log"],
        "log_source": failing["log_source"],
        "log_truncated": failing["truncated"],
        "files": files,
        "last_success": (
            {"id": last.id, "head_sha": last.head_sha, "url": last.html_url} if last is not None else None
        ),
        "commits_since_success": commits,
    }
    return redacted(ctx, [token, *secrets])
