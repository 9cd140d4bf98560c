"""Engine messages reach the person acting in the UI language: Chinese by default, English once they switch —
on pages, in the pages' JSON endpoints and in the JSON API."""

from __future__ import annotations

import pytest

from engine.workflow.specs import PROCESSES_DIR

BPMN = (PROCESSES_DIR / "case_handling.bpmn").read_text("utf-8")
TRIAGE = (PROCESSES_DIR / "triage.dmn").read_text("utf-8")
UNKNOWN_TASK = "00000000-0000-0000-0000-000000000000"


def switch_to_english(client):
    response = client.post("/lang", data={"lang": "en", "next": "/tasks"})
    assert response.status_code == 302


@pytest.fixture
def sign_for_task(journey) -> str:
    """The power unit's open sign-for task of a freshly dispatched case."""
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead="power")
    return journey.task("handler_power", case_id)["task_id"]


def test_task_form_errors_and_an_unknown_task_on_pages(client, auth, sign_for_task):
    auth.login("handler_power")
    refused = client.post(f"/tasks/{sign_for_task}", data={"sign_decision": "return"})
    assert refused.status_code == 422 and "请填写“退单理由”" in refused.text
    missing = client.get(f"/tasks/{UNKNOWN_TASK}")
    assert missing.status_code == 404 and "找不到这个任务" in missing.text

    switch_to_english(client)
    refused = client.post(f"/tasks/{sign_for_task}", data={"sign_decision": "return"})
    assert refused.status_code == 422
    assert "Please fill in “Reason for return”" in refused.text and "请填写" not in refused.text
    missing = client.get(f"/tasks/{UNKNOWN_TASK}")
    assert missing.status_code == 404 and "Task not found" in missing.text and "找不到" not in missing.text


def test_api_errors_follow_the_session_language(client, sign_for_task):
    token = client.post("/api/v1/auth/token", json={"username": "handler_power", "password": "jienan2026"})
    headers = {"Authorization": f"Bearer {token.json['token']}"}

    def complete(task_id):
        return client.post(
            f"/api/v1/tasks/{task_id}/complete", json={"data": {"sign_decision": "return"}}, headers=headers
        )

    refused, missing = complete(sign_for_task), complete(UNKNOWN_TASK)
    assert refused.status_code == 422
    assert refused.json["error"]["message"] == "表单有误，请按提示修改"
    assert refused.json["error"]["fields"]["return_reason"] == "请填写“退单理由”"
    assert missing.status_code == 404 and missing.json["error"]["message"] == "找不到这个任务"

    switch_to_english(client)
    refused, missing = complete(sign_for_task), complete(UNKNOWN_TASK)
    assert refused.status_code == 422
    assert refused.json["error"]["message"] == "The form has errors; please correct them as shown"
    assert refused.json["error"]["fields"]["return_reason"] == "Please fill in “Reason for return”"
    assert missing.status_code == 404 and missing.json["error"]["message"] == "Task not found"


def test_rule_table_check_problems(client, auth):
    auth.login("manager")
    no_time = TRIAGE.replace("<text>15</text>", "<text>0</text>", 1)  # the process needs 1–365 working days

    checked = client.post("/rules/triage/check", json={"xml": no_time})
    assert checked.status_code == 200 and not checked.json["ok"]
    assert checked.json["message"].endswith("列应在 1 到 365个工作日之间，而不是 0")

    switch_to_english(client)
    checked = client.post("/rules/triage/check", json={"xml": no_time})
    message = checked.json["message"]
    assert message.startswith("Rule ") and message.endswith(
        ": should be between 1 and 365 working days, not 0"
    )
    assert checked.json["problems"][0]["message"] == message


def test_design_check_problems(client, auth):
    auth.login("designer")
    no_such_form = BPMN.replace('value="feedback"', 'value="x"')

    checked = client.post("/design/validate", json={"xml": no_such_form})
    assert checked.status_code == 200 and not checked.json["ok"]
    problem = checked.json["problems"][0]
    assert problem["element_id"] == "handle" and "的表单“x”不存在" in problem["message"]

    switch_to_english(client)
    checked = client.post("/design/validate", json={"xml": no_such_form})
    problem = checked.json["problems"][0]
    assert problem["element_id"] == "handle"
    assert (
        problem["message"] == "User task “办理反馈”: form “x” does not exist"
    )  # the task's name is the diagram's
