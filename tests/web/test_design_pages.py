"""Designer pages and their JSON endpoints: library, modeler, validate/deploy, import/export, diff, rollback,
migration, the case diagram; and who may use them."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.test import EnvironBuilder

from engine.services import design
from engine.storage import versions
from engine.storage.models import ProcessVersion
from engine.workflow.specs import PROCESSES_DIR
from tests.helpers import add_review_step
from tests.helpers import make_modeler_export

BPMN = (PROCESSES_DIR / "case_handling.bpmn").read_text("utf-8")


@pytest.mark.parametrize("user", ["dispatcher", "handler_power", "registrar", "manager"])
def test_only_designers_reach_the_modeler(client, auth, user):
    auth.login(user)
    assert client.get("/design/processes/case_handling/edit").status_code == 403
    assert client.post("/design/validate", json={"xml": BPMN}).status_code == 403
    assert client.post("/design/processes/case_handling/deploy", json={"xml": BPMN}).status_code == 403


def test_library_modeler_validate_and_deploy(client, auth, journey, eng):
    journey.register()
    auth.login("designer")
    library = client.get("/design/")
    assert library.status_code == 200 and "企业诉求办理" in library.text and "在用" in library.text
    modeler = client.get("/design/processes/case_handling/edit")
    assert modeler.status_code == 200 and "dist/modeler.js" in modeler.text and "modeler-data" in modeler.text
    checked = client.post("/design/validate", json={"xml": BPMN.replace('value="feedback"', 'value="x"')})
    assert checked.status_code == 200 and not checked.json["ok"]
    assert checked.json["problems"][0]["element_id"] == "handle"
    bad = client.post("/design/validate", data="not json", content_type="text/plain")
    assert bad.status_code == 422
    refused = client.post(
        "/design/processes/case_handling/deploy", json={"xml": BPMN.replace('value="feedback"', 'value="x"')}
    )
    assert refused.status_code == 422 and refused.json["problems"][0]["element_id"] == "handle"
    draft = client.post("/design/processes/case_handling/draft", json={"xml": add_review_step(BPMN)})
    assert draft.status_code == 200
    assert "有未部署的草稿" in client.get("/design/").text
    deployed = client.post(
        "/design/processes/case_handling/deploy", json={"xml": add_review_step(BPMN), "comment": "增加复核"}
    )
    assert deployed.status_code == 200 and deployed.json["changed"]
    new = deployed.json["version_id"]
    export = client.get(f"/design/versions/{new}.bpmn")
    assert export.status_code == 200 and 'id="review"' in export.text
    assert "attachment" in export.headers["Content-Disposition"]
    assert client.get(f"/design/versions/{new}").status_code == 200
    with eng.db.read() as session:
        old = session.scalar(
            select(func.max(ProcessVersion.version_id)).where(
                ProcessVersion.process_id == "case_handling", ProcessVersion.version_id < new
            )
        )
    diff = client.get(f"/design/diff?old={old}&new={new}")
    assert diff.status_code == 200 and "review" in diff.text and "flow_verify_pass" in diff.text
    assert client.get("/design/diff?old=x&new=1").status_code == 422
    assert client.get("/design/versions/99999").status_code == 404


def test_import_page_reports_each_problem(client, auth):
    auth.login("designer")
    assert client.get("/design/import").status_code == 200
    xxe = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
    response = client.post(
        "/design/import", data={"file": (io.BytesIO(xxe), "evil.bpmn")}, content_type="multipart/form-data"
    )
    assert response.status_code == 422 and "DOCTYPE" in response.text
    broken = BPMN.replace('value="feedback"', 'value="nope"').encode()
    response = client.post(
        "/design/import", data={"file": (io.BytesIO(broken), "a.bpmn")}, content_type="multipart/form-data"
    )
    assert response.status_code == 422 and "<code>handle</code>" in response.text
    huge = b"<a>" + b"x" * (3 * 1024 * 1024) + b"</a>"
    builder = EnvironBuilder(
        path="/design/import", method="POST", data={"file": (io.BytesIO(huge), "big.bpmn")}
    )
    environ = builder.get_environ()  # werkzeug spools a big body to a temporary file: close it afterwards
    try:
        response = client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()
    assert response.status_code == 422 and "2 MB" in response.text
    response = client.post(
        "/design/import",
        data={"file": (io.BytesIO(b"hello"), "notes.txt")},
        content_type="multipart/form-data",
    )
    assert (
        response.status_code == 422 and "请上传 .bpmn 文件" in response.text and "notes.txt" in response.text
    )
    response = client.post("/design/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "请选择要导入的 .bpmn 文件" in response.text
    good = add_review_step(BPMN).encode()
    response = client.post(
        "/design/import", data={"file": (io.BytesIO(good), "new.bpmn")}, content_type="multipart/form-data"
    )
    assert response.status_code == 302 and response.location.endswith("/design/processes/new/edit")


def _upload(client, url, xml: str, filename: str = "diagram.bpmn", **form):
    data = {"file": (io.BytesIO(xml.encode()), filename), **form}
    return client.post(url, data=data, content_type="multipart/form-data")


def _live(eng, process_id="case_handling"):
    with eng.db.read() as session:
        return versions.active_version_id(session, "process", process_id)


def test_import_page_shows_the_matching_process_and_the_choice(client, auth, journey, eng):
    journey.register()
    live = _live(eng)
    auth.login("designer")
    page = client.get("/design/import")
    assert page.status_code == 200
    assert 'name="target" id="target-new" value="new" checked' in page.text and 'value="draft"' in page.text
    assert "design/import/inspect.json" in page.text

    found = _upload(client, "/design/import/inspect.json", BPMN, "case_handling-export.bpmn")
    assert found.status_code == 200 and found.json["match"] == "case_handling"
    assert found.json["new_process_id"] == "case_handling_export"
    html = found.json["html"]
    assert 'data-match="case_handling"' in html and "企业诉求办理" in html
    assert f'data-live="{live}"' in html and 'data-running="1"' in html and "case_handling_export" in html
    assert (
        "企业诉求办理" in found.json["labels"]["draft"]
        and "case_handling_export" in found.json["labels"]["new"]
    )

    fresh = _upload(client, "/design/import/inspect.json", make_modeler_export())
    assert (
        fresh.status_code == 200
        and fresh.json["match"] is None
        and fresh.json["new_process_id"] == "Process_1"
    )
    assert 'data-match=""' in fresh.json["html"]
    bad = _upload(client, "/design/import/inspect.json", "<bpmn:definitions")
    assert bad.status_code == 422 and "格式错误" in bad.json["error"]["message"]
    none = client.post("/design/import/inspect.json", data={}, content_type="multipart/form-data")
    assert none.status_code == 422 and none.json["error"]["message"]


def test_import_keeps_the_live_process_unless_the_designer_chooses_its_draft(
    client, auth, journey, eng, actors
):
    journey.register()
    live = _live(eng)
    auth.login("designer")
    response = _upload(client, "/design/import", BPMN, "case_handling.bpmn")  # no choice: the default
    assert response.status_code == 302 and response.location.endswith(
        "/design/processes/case_handling_2/edit"
    )
    modeler = client.get(response.location)
    assert "case_handling_2" in modeler.text and "已被占用" in modeler.text and "尚未部署" in modeler.text
    assert (
        _live(eng) == live
        and not design.editor_source(eng, actors("designer"), "case_handling")["from_draft"]
    )
    library = client.get("/design/").text
    assert 'data-process="case_handling_2"' in library and "data-undeployed" in library

    response = _upload(client, "/design/import", add_review_step(BPMN), "case_handling.bpmn", target="draft")
    assert response.status_code == 302 and response.location.endswith("/design/processes/case_handling/edit")
    modeler = client.get(response.location)
    assert 'id="draft-badge"' in modeler.text and "在用版本和运行中的诉求都没有改变" in modeler.text
    assert _live(eng) == live

    refused = _upload(client, "/design/import", make_modeler_export(), target="draft")
    assert (
        refused.status_code == 422 and "Process_1" in refused.text and 'value="draft" checked' in refused.text
    )
    assert _live(eng, "Process_1") is None and "Process_1" not in client.get("/design/").text


def test_discarding_an_imported_process_that_was_never_deployed_removes_it(client, auth):
    auth.login("designer")
    _upload(client, "/design/import", make_modeler_export())
    response = client.post("/design/processes/Process_1/draft/discard")
    assert response.status_code == 302 and response.location.endswith("/design/")
    assert 'data-process="Process_1"' not in client.get("/design/").text
    assert client.get("/design/processes/Process_1/edit").status_code == 404


@pytest.mark.parametrize("user", ["dispatcher", "manager", "registrar"])
def test_only_designers_import(client, auth, user):
    auth.login(user)
    assert client.get("/design/import").status_code == 403
    assert _upload(client, "/design/import", make_modeler_export()).status_code == 403
    assert _upload(client, "/design/import/inspect.json", make_modeler_export()).status_code == 403


def test_case_diagram_and_migration_pages(client, auth, journey):
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id)
    auth.login("dispatcher")
    diagram = client.get(f"/cases/{case_id}/diagram.json")
    assert diagram.status_code == 200 and "sign_for" in diagram.json["current"]
    assert "migrate_url" not in diagram.json
    auth.login("handler_market")
    assert client.get(f"/cases/{case_id}/diagram.json").status_code == 403
    auth.login("designer")
    new = client.post("/design/processes/case_handling/deploy", json={"xml": add_review_step(BPMN)}).json[
        "version_id"
    ]
    diagram = client.get(f"/cases/{case_id}/diagram.json").json
    assert diagram["migrate_url"].endswith(f"to={new}")
    check = client.get(diagram["migrate_url"])
    assert check.status_code == 200 and "可以安全迁移" in check.text
    moved = client.post(f"/design/cases/{case_id}/migrate", data={"to": str(new)})
    assert moved.status_code == 302
    assert client.get(f"/cases/{case_id}/diagram.json").json["version_id"] == new


def test_rollback_from_the_version_page(client, auth, journey):
    auth.login("designer")
    first = client.post("/design/processes/case_handling/deploy", json={"xml": BPMN}).json["version_id"]
    client.post("/design/processes/case_handling/deploy", json={"xml": add_review_step(BPMN)})
    response = client.post(f"/design/versions/{first}/rollback", data={"comment": "暂停复核"})
    assert response.status_code == 302
    assert f"#{first}" in client.get("/design/").text


def test_form_editor_previews_with_the_caseworkers_macro_and_saves(client, auth):
    import json

    from engine.forms.schema import load_form

    auth.login("dispatcher")
    assert client.get("/design/forms").status_code == 403
    auth.login("designer")
    listing = client.get("/design/forms")
    assert listing.status_code == 200 and "审核反馈" in listing.text
    editor = client.get("/design/forms/verify")
    assert editor.status_code == 200 and "JSON Schema" in editor.text
    schema = dict(load_form("verify").schema)
    schema["properties"] = dict(schema["properties"])
    schema["properties"]["review_note"] = {
        "title": "复核意见",
        "x-title-en": "Review note",
        "type": "string",
        "maxLength": 500,
        "x-widget": "textarea",
    }
    text = json.dumps(schema, ensure_ascii=False)
    preview = client.post("/design/forms/verify/preview", json={"text": text})
    assert (
        preview.json["ok"]
        and 'name="review_note"' in preview.json["html"]
        and "复核意见" in preview.json["html"]
    )
    broken = client.post("/design/forms/verify/preview", json={"text": text[:-5]})
    assert not broken.json["ok"] and "第 1 行" in broken.json["message"]
    refused = client.post("/design/forms/verify", json={"text": text[:-5]})
    assert refused.status_code == 422
    saved = client.post("/design/forms/verify", json={"text": text, "comment": "增加复核意见"})
    assert saved.status_code == 200 and saved.json["changed"]
    assert "增加复核意见" in client.get("/design/forms/verify").text
    assert client.get("/design/forms/nope").status_code == 404
