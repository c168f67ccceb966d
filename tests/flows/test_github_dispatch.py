"""mlops.hybrid.github_dispatch through Ansible against the GitHub fake: check mode, every send a change, refusals."""

from __future__ import annotations

import requests

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
    assert first == {"workflow": wf, "ref": "main", "inputs": {"force_retrain": "true"}}
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


def test_inputs_go_as_strings_and_the_fake_refuses_what_github_refuses(ansible, github):
    """GitHub takes workflow_dispatch inputs as strings and checks a choice against its options."""

    github.add_workflow(
        REPO_NAME,
        ".github/workflows/deploy.yml",
        inputs={
            "force": {"type": "boolean"},
            "replicas": {},
            "env": {"type": "choice", "options": ["staging", "prod"]},
        },
    )
    raw = requests.post(
        "%s/repos/%s/actions/workflows/deploy.yml/dispatches" % (github.url, REPO_NAME),
        json={"ref": "main", "inputs": {"force": True}},
        headers={"Authorization": "Bearer %s" % github.token},
        timeout=10,
    )
    assert raw.status_code == 422 and "For 'properties/force', true is not a string." in raw.json()["message"]

    sent = ansible.module(
        MODULE, args(github, workflow="deploy.yml", ref="main", inputs={"force": True, "replicas": 3, "env": "prod"})
    )
    assert sent.res["changed"] and sent.res["status"] == 204, sent.res.get("msg")
    assert github.workflow_dispatches(REPO_NAME)[-1]["inputs"] == {"force": "true", "replicas": "3", "env": "prod"}

    bad_choice = ansible.module(MODULE, args(github, workflow="deploy.yml", ref="main", inputs={"env": "dev"}))
    assert (
        bad_choice.failed
        and "Provided value 'dev' for input 'env' not in the list of allowed values" in (bad_choice.res["msg"])
    )
    for check in (True, False):
        nested = ansible.module(
            MODULE, args(github, workflow="deploy.yml", ref="main", inputs={"env": ["prod"]}), check=check
        )
        assert nested.failed and "inputs.env is a list" in nested.res["msg"], nested.res
    assert len(github.workflow_dispatches(REPO_NAME)) == 1
