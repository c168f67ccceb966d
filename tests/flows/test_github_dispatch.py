"""mlops.hybrid.github_dispatch through Ansible against the GitHub fake: check mode, every send a change, refusals."""

from __future__ import annotations

from .scenarios import REPO_NAME

MODULE = "mlops.hybrid.github_dispatch"


def args(github, **extra):
    return {"repository": REPO_NAME, "github_api_url": github.url, "github_token": github.token, **extra}


def test_workflow_dispatch_check_mode_sends_nothing_and_each_run_sends_one(ansible, github):
    wf = github.add_workflow(REPO_NAME, ".github/workflows/model-pipeline.yml", inputs={"force_retrain": {}})
    task = args(github, workflow="model-pipeline.yml", ref="main", inputs={"force_retrain": True})

    check = ansible.module(MODULE, task, check=True).res
    assert (check["changed"], check["event"], check["status"]) == (True, "workflow_dispatch", None), check.get("msg")
    assert github.workflow_dispatches(REPO_NAME) == [] and github.calls("POST") == []

    # A dispatch has no state to compare: running the task again dispatches again, and says so.
    for n in (1, 2):
        res = ansible.module(MODULE, task).res
        assert (res["changed"], res["status"]) == (True, 204), res.get("msg")
        assert len(github.workflow_dispatches(REPO_NAME)) == n
    first = github.workflow_dispatches(REPO_NAME)[0]
    assert first == {"workflow": wf, "ref": "main", "inputs": {"force_retrain": True}}
    call = github.calls("POST", r"/dispatches$")[0]
    assert call.headers["authorization"] == "Bearer %s" % github.token
    assert call.headers["x-github-api-version"] == "2022-11-28"


def test_repository_dispatch_check_mode_then_sent(ansible, github):
    payload = {"model_name": "breast-cancer", "version": "3", "urgency": "P0", "figures": ["accuracy 0.71"]}
    task = args(github, event_type="retrain-model", client_payload=payload)
    check = ansible.module(MODULE, task, check=True).res
    assert (check["changed"], check["event"]) == (True, "repository_dispatch") and github.dispatches(REPO_NAME) == []
    res = ansible.module(MODULE, task).res
    assert (res["changed"], res["status"]) == (True, 204), res.get("msg")
    assert github.dispatches(REPO_NAME) == [{"event_type": "retrain-model", "client_payload": payload}]


def test_refusals_name_the_cause_and_the_token_stays_out(ansible, github):
    github.add_workflow(REPO_NAME, ".github/workflows/model-pipeline.yml", inputs={"force_retrain": {}})
    unexpected = ansible.module(MODULE, args(github, workflow="model-pipeline.yml", ref="main", inputs={"x": 1}))
    assert unexpected.failed and "GitHub refused the dispatch (422)" in unexpected.res["msg"]
    assert "Unexpected inputs provided" in unexpected.res["msg"] and unexpected.res["status"] == 422

    bad_token = ansible.module(MODULE, args(github, event_type="retrain-model", github_token="wrong"))
    assert bad_token.failed and "GitHub answered 401 (the token is invalid or expired)" in bad_token.res["msg"]
    assert github.token not in str(bad_token.res)

    both = ansible.module(MODULE, args(github, workflow="model-pipeline.yml", ref="main", event_type="x"))
    assert both.failed and "mutually exclusive" in both.res["msg"]
    bad_repo = ansible.module(MODULE, args(github, event_type="x", repository="no-slash"), check=True)
    assert bad_repo.failed and "repository must look like owner/name" in bad_repo.res["msg"]
    assert github.dispatches(REPO_NAME) == []
