"""The closed loop in a real browser: each user in their own context, CSRF on, forms filled as people do."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from sqlalchemy import func
from sqlalchemy import select

from engine.storage.models import Case
from engine.storage.models import Enterprise

pytestmark = pytest.mark.browser

ENTERPRISE = "杭叉集团"
POWER = "市电业局（供电公司）"


def tiny_png(width: int = 8, height: int = 8) -> bytes:
    """A valid RGB PNG (a red square), built by hand so the test needs no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xd0\x20\x20" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------- page helpers


def choose(page, name: str, value: str, form: str = "#task-form") -> None:
    """Pick a radio button (Bootstrap .btn-check: the input is hidden, its label is the button)."""
    radio = page.locator(f'{form} input[type=radio][name="{name}"][value="{value}"]')
    page.click(f'{form} label[for="{radio.get_attribute("id")}"]')
    assert radio.is_checked(), f"{name}={value} not checked"


def submit(page, form: str = "#task-form", expect: int = 302):
    """Submit the page's own form (never the header's language button); returns the POST's status."""
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.click(f"{form} button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    status = info.value.status
    if expect is not None and status != expect:
        alerts = page.locator(".invalid-feedback, .alert-danger").all_inner_texts()
        pytest.fail(f"submitting {form} on {page.url} answered {status}, expected {expect}; errors: {alerts}")
    return status


def inbox_link(page, case_no: str, task: str, scope: str = "mine"):
    page.goto(f"/tasks?scope={scope}")
    return page.locator(f'a[data-case="{case_no}"][data-task="{task}"]')


def open_task(page, case_no: str, task: str, scopes=("mine", "unit")) -> None:
    """Open the user's task on the case from the inbox (my tasks first, then my unit's)."""
    for scope in scopes:
        link = inbox_link(page, case_no, task, scope)
        if link.count():
            link.first.click()
            page.wait_for_url(re.compile(r"/tasks/[^/?]+$"))
            assert page.locator("#task-form").is_visible()
            return
    pytest.fail(f"{task} for {case_no} is not in the inbox ({', '.join(scopes)}) of {page.url}")


def case_status(page) -> str:
    return page.locator("h1 + div [data-status]").first.inner_text().strip()


def goto_case(page, case_id: int) -> None:
    response = page.goto(f"/cases/{case_id}")
    assert response.status == 200, response.status


def register_problem(page, enterprise: str | None, urgency: str, title: str, png: bool = False) -> None:
    """Fill the problem part of the register form (and pick `enterprise` with the picker if given)."""
    form = "#register-form"
    if enterprise:
        page.fill(f"{form} #f-enterprise_id-search", enterprise)
        picker = page.locator(f"{form} #f-enterprise_id")
        matches = picker.locator("option:not([value=''])")
        assert matches.count() == 1, matches.all_inner_texts()
        assert enterprise in matches.first.inner_text()
        picker.select_option(matches.first.get_attribute("value"))
    page.select_option(f"{form} #f-channel", "走访")
    page.select_option(f"{form} #f-field", "工业")
    page.select_option(f"{form} #f-category", "水电气")
    choose(page, "urgency", urgency, form)
    page.fill(f"{form} #f-title", title)
    page.fill(f"{form} #f-description", "企业反映夏季用电高峰期间生产线频繁跳闸，请求协调供电保障。")
    if png:
        page.set_input_files(
            f"{form} #f-attachments", {"name": "现场照片.png", "mimeType": "image/png", "buffer": tiny_png()}
        )


def case_from_page(page) -> tuple[int, str]:
    match = re.search(r"/cases/(\d+)$", page.url)
    assert match, page.url
    case_no = page.locator("h1").locator("xpath=preceding-sibling::div[1]").inner_text().strip()
    return int(match.group(1)), case_no


def dispatch(page, case_no: str, lead: str = "power", co_units=(), shot=None, step="dispatch") -> None:
    open_task(page, case_no, "dispatch")
    if page.locator("#task-form #f-time_limit_days").input_value() == "":
        page.fill("#task-form #f-time_limit_days", "5")
    page.select_option("#task-form #f-lead_unit", lead)
    for code in co_units:
        page.check(f'#task-form input[name="co_units"][value="{code}"]')
    page.fill("#task-form #f-dispatch_note", "请牵头单位按时限办结并反馈。")
    if shot:
        shot(page, step)
    submit(page)


def sign_for(page, case_no: str) -> None:
    link = inbox_link(page, case_no, "sign_for", "unit")
    assert link.count() == 1, "sign-for task not in the unit inbox (本单位待办)"
    assert page.locator(".nav-pills .nav-link.active").inner_text().strip() == "本单位待办"
    link.click()
    page.wait_for_url(re.compile(r"/tasks/"))
    choose(page, "sign_decision", "sign")
    submit(page)


def feed_back(page, case_no: str, actions: str) -> None:
    open_task(page, case_no, "handle")
    choose(page, "outcome", "resolved")
    page.fill("#task-form #f-handling_actions", actions)
    submit(page)


def verify(page, case_no: str, verdict: str, comment: str = "") -> None:
    open_task(page, case_no, "verify")
    choose(page, "verdict", verdict)
    if comment:
        page.fill("#task-form #f-verify_comment", comment)
    submit(page)


def revisit(page, case_no: str, satisfaction: str, shot=None, step="revisit") -> None:
    open_task(page, case_no, "revisit")
    choose(page, "solved", "no" if satisfaction == "unsatisfied" else "yes")
    choose(page, "satisfaction", satisfaction)
    choose(page, "revisit_method", "phone")
    if satisfaction == "unsatisfied":
        page.fill("#task-form #f-revisit_comment", "企业反映仍有跳闸，问题没有真正解决。")
    if shot:
        shot(page, step)
    submit(page)


# ---------------------------------------------------------------- tests


def test_full_journey_two_rounds(page_as, shot):
    registrar = page_as("registrar", phone=True)
    dispatcher = page_as("dispatcher")
    handler = page_as("handler_power")
    other = page_as("handler_market")

    # Registrar, on a phone: the menu is collapsed behind the toggler.
    registrar.click(".navbar-toggler")
    registrar.click("#jn-nav >> text=登记诉求")
    registrar.wait_for_url(re.compile(r"/cases/new$"))
    register_problem(registrar, ENTERPRISE, "紧急", "夏季用电高峰生产线跳闸", png=True)
    shot(registrar, "01-register-phone")
    submit(registrar, "#register-form")
    case_id, case_no = case_from_page(registrar)
    assert registrar.locator("h1 + div [data-tier]").inner_text().strip() == "部门办"
    assert case_status(registrar) == "待派单"
    assert "部门办" in registrar.locator(".jn-flashes").inner_text()
    decision = registrar.locator('#timeline [data-kind="rule_decision"]')
    assert decision.count() == 1
    assert "命中规则" in decision.inner_text() and "部门办" in decision.inner_text()
    assert "现场照片.png" in registrar.locator("#attachments").inner_text()
    shot(registrar, "02-case-registered-phone")

    # Dispatcher: from the inbox, to the power company with a co-unit.
    dispatch(dispatcher, case_no, "power", co_units=["econ"], shot=shot, step="03-dispatch-form")
    goto_case(dispatcher, case_id)
    assert case_status(dispatcher) == "待签收"
    assert POWER in dispatcher.locator("body").inner_text()
    shot(dispatcher, "04-case-dispatched")

    # Another unit's handler neither sees nor opens it.
    for scope in ("mine", "unit"):
        assert inbox_link(other, case_no, "sign_for", scope).count() == 0
        assert other.locator(f'a[data-case="{case_no}"]').count() == 0
    response = other.goto(f"/cases/{case_id}")
    assert response.status == 403
    shot(other, "05-other-unit-403")

    # Lead unit: sign for it from the unit inbox, then report back.
    sign_for(handler, case_no)
    feed_back(handler, case_no, "已现场检修线路，更换跳闸开关。")

    # Dispatcher sends it back once, then accepts the second report.
    verify(dispatcher, case_no, "reject", "请补充检修后的负荷测试结果。")
    goto_case(dispatcher, case_id)
    assert case_status(dispatcher) == "办理中"
    assert "请补充检修后的负荷测试结果" in dispatcher.locator("#timeline").inner_text()
    feed_back(handler, case_no, "已补充负荷测试，三日内未再跳闸。")
    verify(dispatcher, case_no, "accept")

    # Registrar revisits: unsatisfied reopens the case as round 2, back to dispatch.
    revisit(registrar, case_no, "unsatisfied", shot=shot, step="06-revisit-phone")
    goto_case(registrar, case_id)
    assert "第2轮" in registrar.locator("h1 + div").inner_text()
    assert case_status(registrar) == "待派单"
    shot(registrar, "07-reopened-phone")

    # Round 2 all the way to close-out.
    dispatch(dispatcher, case_no, "power")
    sign_for(handler, case_no)
    feed_back(handler, case_no, "新增专线供电，彻底解决跳闸问题。")
    verify(dispatcher, case_no, "accept")
    revisit(registrar, case_no, "satisfied")
    open_task(dispatcher, case_no, "close_out")
    dispatcher.fill("#task-form #f-closing_summary", "新增专线后企业生产用电稳定，企业满意，予以销号。")
    submit(dispatcher)

    goto_case(dispatcher, case_id)
    assert case_status(dispatcher) == "已销号"
    assert "已办结销号" in dispatcher.locator("#current-tasks").inner_text()
    rounds = dispatcher.locator("#rounds li")
    assert rounds.count() == 2
    assert "重办" in rounds.nth(0).inner_text() and "销号" in rounds.nth(1).inner_text()
    kinds = dispatcher.locator("#timeline [data-kind]").evaluate_all("els => els.map(e => e.dataset.kind)")
    for kind in ("registered", "rule_decision", "task_completed", "reopened", "closed"):
        assert kind in kinds, (kind, kinds)
    # 2 dispatches, 2 sign-fors, 3 reports, 3 verifications, 2 revisits, 1 close-out.
    assert kinds.count("task_completed") >= 13, kinds
    shot(dispatcher, "08-case-closed")

    # 一企一档: the enterprise's file lists the case.
    dispatcher.click(f"text={ENTERPRISE}")
    dispatcher.wait_for_url(re.compile(r"/enterprises/\d+$"))
    listed = dispatcher.locator("#enterprise-cases")
    assert case_no in listed.inner_text()
    assert listed.locator(f'a[href="/cases/{case_id}"]').count() == 1
    assert "已销号" in listed.inner_text()
    shot(dispatcher, "09-enterprise-file")


def test_new_enterprise_credit_code_is_checked_inline(page_as, shot, eng):
    def counts():
        with eng.db.read() as session:
            return (
                session.scalar(select(func.count()).select_from(Enterprise)),
                session.scalar(select(func.count()).select_from(Case)),
            )

    before = counts()
    page = page_as("registrar")
    page.goto("/cases/new")
    page.click('#register-form label[for="mode-new"]')
    assert page.locator("#mode-new").is_checked()
    page.fill("#enterprise-name", "福州测试新材料有限公司")
    page.fill("#enterprise-credit_code", "91350100M000100Y44")
    page.select_option("#enterprise-field", "工业")
    register_problem(page, None, "一般", "新企业用电报装")
    submit(page, "#register-form", expect=422)

    code = page.locator("#enterprise-credit_code")
    assert "is-invalid" in code.get_attribute("class")
    error = code.locator("xpath=following-sibling::div[contains(@class,'invalid-feedback')]")
    assert "校验不通过" in error.inner_text()
    assert page.locator("#mode-new").is_checked(), "the new-enterprise choice was lost"
    assert page.locator("#enterprise-name").input_value() == "福州测试新材料有限公司"
    assert page.locator("#f-title").input_value() == "新企业用电报装"
    shot(page, "01-bad-credit-code")
    assert counts() == before, "a refused registration must create nothing"

    page.fill("#enterprise-credit_code", "91350100M000100Y43")
    submit(page, "#register-form")
    case_id, _case_no = case_from_page(page)
    assert "福州测试新材料有限公司" in page.locator("body").inner_text()
    assert "91350100M000100Y43" in page.locator("body").inner_text()
    assert counts() == (before[0] + 1, before[1] + 1)
    shot(page, "02-registered")


def test_city_leader_case_goes_through_the_leader(page_as, shot, journey):
    case = journey.register(urgency="重大", title="重大项目用地与供电协调")
    assert case["tier"] == "city_leader"
    case_id, case_no = case["case_id"], case["case_no"]

    dispatcher = page_as("dispatcher")
    open_task(dispatcher, case_no, "dispatch")
    assert dispatcher.locator('#task-form input[name="tier"][value="city_leader"]').is_checked()
    dispatcher.select_option("#task-form #f-responsible_leader", "leader")
    dispatcher.select_option("#task-form #f-lead_unit", "power")
    if dispatcher.locator("#task-form #f-time_limit_days").input_value() == "":
        dispatcher.fill("#task-form #f-time_limit_days", "20")
    submit(dispatcher)
    goto_case(dispatcher, case_id)
    assert case_status(dispatcher) == "领导协调中"

    leader = page_as("leader")
    open_task(leader, case_no, "leader_coordinate", scopes=("mine",))
    choose(leader, "meeting_held", "true")
    leader.fill("#task-form #f-meeting_date", "2026-03-11")
    leader.fill("#task-form #f-leader_instructions", "由市场监管局牵头，电业局配合，一周内拿出方案。")
    leader.select_option("#task-form #f-lead_unit", "market")
    shot(leader, "01-leader-coordinate")
    submit(leader)

    handler = page_as("handler_market")
    sign_for(handler, case_no)
    goto_case(handler, case_id)
    assert case_status(handler) == "办理中"
    body = handler.locator("#timeline").inner_text()
    assert "领导协调" in body and "一周内拿出方案" in body
    shot(handler, "02-handled-by-designated-unit")


def test_language_switch_and_cjk_fonts(new_page, page_as, shot):
    page = new_page()
    page.goto("/login")
    assert page.locator("#login-form").is_visible()
    assert page.locator("h1").inner_text().strip() == "登录"
    page.evaluate("document.fonts.ready")
    has_cjk = page.evaluate("""() => document.fonts.check('16px "Noto Sans CJK SC"', '登录')""")
    assert has_cjk, "Noto Sans CJK SC is not available to the page"
    shot(page, "01-login-zh")

    page = page_as("dispatcher")
    assert "待办" in page.locator("#jn-nav").inner_text()
    with page.expect_navigation():
        page.click('button[name="lang"][value="en"]')
    assert page.locator("html").get_attribute("lang") == "en"
    nav = page.locator("#jn-nav").inner_text()
    assert "Tasks" in nav, nav
    assert "待办" not in nav, nav
    assert page.locator('button[name="lang"][value="zh"]').is_visible()
    shot(page, "02-inbox-en")
    with page.expect_navigation():
        page.click('button[name="lang"][value="zh"]')
    assert "待办" in page.locator("#jn-nav").inner_text()


def test_stale_page_gets_the_conflict_page(page_as, shot, journey):
    case = journey.register()
    task_id = journey.task("dispatcher", case["case_id"])["task_id"]
    first = page_as("dispatcher")
    second = page_as("dispatcher")
    for page in (first, second):
        page.goto(f"/tasks/{task_id}")
        page.select_option("#task-form #f-lead_unit", "power")
        if page.locator("#task-form #f-time_limit_days").input_value() == "":
            page.fill("#task-form #f-time_limit_days", "5")
    submit(first)
    status = submit(second, expect=None)
    assert status == 409, f"the stale submission answered {status}"
    assert second.locator("h1").inner_text().strip() == "操作冲突"
    assert "刷新" in second.locator("main").inner_text()
    shot(second, "01-conflict")
    goto_case(first, case["case_id"])
    assert case_status(first) == "待签收"
