"""Official holiday schedules entered by admins: precedence, validation with per-row messages, xlsx/CSV import,
the audit trail, permissions, the cache shared by processes, and open deadlines counted again when a year is entered.

Every schedule here is made up for a test year (2031): none of it is an official schedule.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func
from sqlalchemy import select

from engine.context import Engine
from engine.context import Settings
from engine.domain import calendar
from engine.domain.clock import LOCAL_TZ
from engine.errors import NotFound
from engine.errors import PermissionDenied
from engine.errors import ValidationFailed
from engine.services import evaluation
from engine.services import holidays
from engine.storage.models import CalendarChange
from engine.storage.models import CaseEvent
from engine.storage.models import EvaluationBoard
from engine.storage.models import HumanTask
from engine.storage.models import Notification
from engine.storage.models import WorkflowInstance
from engine.worker import run_pass

REFERENCE = "测试用·非官方 2031-1"
# A made-up 2031: New Year's Day block Wed 1 – Fri 3 January off, Saturday 4 January worked instead.
FAKE_HOLIDAYS = [{"date": "2031-01-01", "end": "2031-01-03", "name": "元旦（测试）"}, "2031-05-01"]
FAKE_WORKDAYS = ["2031-01-04"]


def _local(*args):
    return dt.datetime(*args, tzinfo=LOCAL_TZ)


def _count(eng, model, *where):
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _enter_2031(eng, actors, **extra):
    return holidays.save_from_lists(
        eng, actors("admin"), 2031, extra.get("reference", REFERENCE), FAKE_HOLIDAYS, FAKE_WORKDAYS
    )


# ---------------------------------------------------------------------------------------------------------
# Entering a year


def test_an_entered_year_counts_instead_of_weekdays(eng, actors, clock):
    clock.set(_local(2030, 12, 20, 9, 0))
    assert holidays.missing_years(eng) == [2030, 2031]
    assert calendar.add_working_days(_local(2030, 12, 31, 10), 1) == _local(2031, 1, 1, 18)  # a guess

    result = _enter_2031(eng, actors)

    assert result["changed"] and result["action"] == "entered"
    assert (result["holidays"], result["workdays"]) == (4, 1)
    assert holidays.missing_years(eng) == [2030]
    assert calendar.year_source(2031) == calendar.ENTERED
    assert calendar.is_working_day(dt.date(2031, 1, 2)) is False
    assert calendar.is_working_day(dt.date(2031, 1, 4)) is True  # a Saturday, worked
    assert calendar.add_working_days(_local(2030, 12, 31, 10), 1) == _local(2031, 1, 4, 18)
    detail = holidays.year_detail(eng, actors("admin"), 2031)
    assert detail["source"] == "entered" and detail["reference"] == REFERENCE
    assert [d["date"] for d in detail["holidays"]] == ["2031-01-01", "2031-01-02", "2031-01-03", "2031-05-01"]
    assert detail["holidays_text"] == "2031-01-01~2031-01-03 元旦（测试）\n2031-05-01"
    assert detail["workdays"] == [{"date": "2031-01-04", "name": None, "weekday": 5}]


def test_an_entered_schedule_takes_precedence_over_the_library(eng, actors):
    # 2025 is in chinesecalendar: Thursday 2025-10-09 is a working day there. A (made-up) correction wins.
    assert calendar.year_source(2025) == calendar.LIBRARY
    assert calendar.is_working_day(dt.date(2025, 10, 9)) is True
    holidays.save_from_text(
        eng, actors("admin"), 2025, "测试用更正", "2025-10-01~2025-10-09 国庆（测试）", ""
    )
    assert calendar.year_source(2025) == calendar.ENTERED
    assert calendar.is_working_day(dt.date(2025, 10, 9)) is False
    # Only what was entered counts now: the library's make-up Saturday 2025-10-11 is a plain Saturday.
    assert calendar.is_working_day(dt.date(2025, 10, 11)) is False
    holidays.remove_schedule(eng, actors("admin"), 2025)
    assert calendar.year_source(2025) == calendar.LIBRARY
    assert calendar.is_working_day(dt.date(2025, 10, 11)) is True


def test_every_change_is_audited_before_and_after(eng, actors):
    admin = actors("admin")
    _enter_2031(eng, actors)
    same = _enter_2031(eng, actors)
    assert same["changed"] is False
    changed = holidays.save_from_text(
        eng, admin, 2031, "测试用·非官方 2031-2", "2031-01-01~2031-01-03 元旦（测试）", ""
    )
    assert changed["action"] == "updated"
    assert "取消放假 1 天" in changed["summary"] and "取消调休上班 1 天" in changed["summary"]
    assert "文号由" in changed["summary"]
    holidays.remove_schedule(eng, admin, 2031)
    with eng.db.read() as session:
        rows = session.scalars(select(CalendarChange).order_by(CalendarChange.change_id)).all()
        assert [(r.action, r.source, r.actor_name) for r in rows] == [
            ("entered", "api", "系统管理员"),
            ("updated", "page", "系统管理员"),
            ("removed", "page", "系统管理员"),
        ]
        assert rows[0].before is None and rows[0].after["reference"] == REFERENCE
        assert rows[1].before == rows[0].after
        assert rows[1].after["workdays"] == [] and rows[2].after is None
    history = holidays.year_detail(eng, admin, 2031)["history"]
    assert [h["action"] for h in history] == ["removed", "updated", "entered"]
    assert holidays.missing_years(eng) == [2027]  # the clock is in 2026: 2031 is far ahead


@pytest.mark.parametrize(
    ("holidays_text", "workdays_text", "where", "expected"),
    [
        ("2031-02-30 测试", "", "放假日期第 1 行", "不是有效的日期"),
        ("2031-01-01\n2031-13-01", "", "放假日期第 2 行", "不是有效的日期"),
        ("二月十日", "", "放假日期第 1 行", "不是有效的日期"),
        ("2030-12-31", "", "放假日期第 1 行", "不在 2031 年内"),
        ("2031-01-01~2031-03-01", "", "放假日期第 1 行", "最长 31 天"),
        ("2031-01-03~2031-01-01", "", "放假日期第 1 行", "早于开始日期"),
        ("2031-01-01", "2031-01-06", "调休上班日期第 1 行", "应为周六或周日"),
        ("2031-01-01~2031-01-05", "\n2031-01-04", "调休上班日期第 2 行", "既是放假日又是调休上班日"),
        ("", "2031-01-04", "holidays", "至少要有一个放假日"),
    ],
)
def test_bad_rows_are_named_and_nothing_is_saved(eng, actors, holidays_text, workdays_text, where, expected):
    with pytest.raises(ValidationFailed) as caught:
        holidays.save_from_text(eng, actors("admin"), 2031, REFERENCE, holidays_text, workdays_text)
    assert expected in caught.value.errors[where], caught.value.errors
    assert calendar.year_source(2031) == calendar.ESTIMATED
    assert _count(eng, CalendarChange) == 0


def test_a_year_needs_a_reference_and_a_sensible_number(eng, actors):
    admin = actors("admin")
    with pytest.raises(ValidationFailed) as caught:
        holidays.save_from_text(eng, admin, 2031, "  ", "2031-01-01\n2031-02-29", "")
    assert "文号" in caught.value.errors["reference"]  # every problem at once, the rows' too
    assert "2031-02-29" in caught.value.errors["放假日期第 2 行"]
    for year in ("20x1", 1999, 2099):
        with pytest.raises(ValidationFailed) as caught:
            holidays.save_from_text(eng, admin, year, REFERENCE, "2031-01-01", "")
        assert "year" in caught.value.errors
    with pytest.raises(NotFound):
        holidays.year_detail(eng, admin, 2099)
    with pytest.raises(NotFound):
        holidays.remove_schedule(eng, admin, 2031)  # nothing entered


def test_only_admins_see_or_change_the_schedules(eng, actors):
    for username in ("dispatcher", "manager", "supervisor", "handler_power"):
        user = actors(username)
        with pytest.raises(PermissionDenied):
            holidays.overview(eng, user)
        with pytest.raises(PermissionDenied):
            holidays.save_from_lists(eng, user, 2031, REFERENCE, FAKE_HOLIDAYS, FAKE_WORKDAYS)
        with pytest.raises(PermissionDenied):
            holidays.import_file(
                eng, user, 2031, REFERENCE, "a.csv", b"\xef\xbb\xbf\xe6\x97\xa5\xe6\x9c\x9f\n"
            )
    _enter_2031(eng, actors)
    with pytest.raises(PermissionDenied):
        holidays.remove_schedule(eng, actors("manager"), 2031)
    assert calendar.year_source(2031) == calendar.ENTERED


# ---------------------------------------------------------------------------------------------------------
# Importing a file


def _xlsx(rows, headings=("日期", "结束日期", "类型", "名称")) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(list(headings))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_an_xlsx_with_dates_ranges_and_text(eng, actors):
    data = _xlsx(
        [
            (dt.datetime(2031, 1, 1), dt.datetime(2031, 1, 3), "放假", "元旦（测试）"),
            ("2031/5/1", None, "休", "劳动节（测试）"),
            ("2031年1月4日", None, "上班", "元旦（测试）"),
            (None, None, None, None),  # empty rows are skipped
        ]
    )
    result = holidays.import_file(eng, actors("admin"), 2031, REFERENCE, "2031安排.xlsx", data)
    assert (result["holidays"], result["workdays"]) == (4, 1)
    with eng.db.read() as session:
        assert session.scalars(select(CalendarChange.source)).all() == ["file"]
    assert calendar.is_working_day(dt.date(2031, 1, 4)) is True


def test_an_xlsx_with_bad_rows_reports_each_row_and_changes_nothing(eng, actors):
    _enter_2031(eng, actors)
    data = _xlsx(
        [
            ("2031-01-01", "", "放假", "元旦"),
            ("2031-02-30", "", "放假", ""),  # row 3: no such day
            ("2032-01-01", "", "放假", ""),  # row 4: wrong year
            ("2031-01-01", "", "上班", ""),  # row 5: a Wednesday, and already off in row 2
            ("2031-01-11", "", "加班", ""),  # row 6: unknown kind
        ]
    )
    with pytest.raises(ValidationFailed) as caught:
        holidays.import_file(eng, actors("admin"), 2031, "新文号", "bad.xlsx", data)
    errors = caught.value.errors
    assert set(errors) == {"第 3 行", "第 4 行", "第 5 行", "第 6 行"}
    assert "2031-02-30" in errors["第 3 行"] and "不在 2031 年内" in errors["第 4 行"]
    assert "周六或周日" in errors["第 5 行"] and "“加班”" in errors["第 6 行"]
    assert holidays.year_detail(eng, actors("admin"), 2031)["reference"] == REFERENCE
    assert _count(eng, CalendarChange) == 1


def test_import_a_gbk_csv_as_excel_saves_it(eng, actors):
    text = "日期,结束日期,类型,名称\r\n2031-01-01,2031-01-03,放假,元旦（测试）\r\n2031-01-04,,上班,\r\n"
    result = holidays.import_file(eng, actors("admin"), 2031, REFERENCE, "安排.CSV", text.encode("gb18030"))
    assert (result["holidays"], result["workdays"]) == (3, 1)


def test_a_csv_with_bad_rows_is_refused_row_by_row(eng, actors):
    text = "date,kind,name\n2031-01-01,off,New Year (test)\n2031-01-06,work,\nnot a date,off,\n"
    with pytest.raises(ValidationFailed) as caught:
        holidays.import_file(eng, actors("admin"), 2031, REFERENCE, "plan.csv", text.encode())
    assert set(caught.value.errors) == {"第 3 行", "第 4 行"}
    assert calendar.year_source(2031) == calendar.ESTIMATED


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("plan.xls", b"\xd0\xcf\x11\xe0 old excel", "只能导入 .xlsx 或 .csv"),
        ("plan.pdf", b"%PDF-1.7", "只能导入 .xlsx 或 .csv"),
        ("plan.xlsx", b"just text, not a workbook", "不是 .xlsx 文件"),
        ("plan.xlsx", b"PK\x03\x04broken zip", "不是 .xlsx 文件"),
        ("plan.csv", b"\x00\x01\x02", "不是文本格式"),
        ("plan.csv", "类型,名称\n放假,元旦\n".encode(), "缺少列：日期"),
        ("plan.csv", "日期,类型\n".encode(), "没有日期"),
        ("plan.csv", b"", "没有内容"),
        ("plan.csv", ("日期,类型\n" + "2031-03-03,放假\n" * 401).encode(), "最多 400 行"),
        ("plan.csv", b"x" * (1024 * 1024 + 1), "不能超过"),
    ],
)
def test_files_that_are_not_a_schedule_are_refused(eng, actors, filename, data, expected):
    with pytest.raises(ValidationFailed) as caught:
        holidays.import_file(eng, actors("admin"), 2031, REFERENCE, filename, data)
    assert expected in caught.value.errors["file"]
    assert _count(eng, CalendarChange) == 0


def test_the_templates_hold_columns_but_no_dates():
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(holidays.template_xlsx()))
    sheet = book[holidays.SHEET]
    assert [c.value for c in sheet[1]] == ["日期", "结束日期", "类型", "名称"]
    assert sheet.max_row == 1
    assert holidays.template_csv().decode("utf-8-sig").strip() == "日期,结束日期,类型,名称"
    with pytest.raises(ValidationFailed) as caught:
        holidays.read_file("模板.xlsx", holidays.template_xlsx())
    assert "没有日期" in caught.value.errors["file"]


# ---------------------------------------------------------------------------------------------------------
# Several processes share one database


def test_other_processes_pick_up_a_change_from_the_database(eng, actors, database_url, tmp_path):
    other = Engine(Settings(database_url=database_url, upload_dir=tmp_path / "other"), clock=eng.clock)
    try:
        assert other.calendar.schedule(2031) is None  # read and cached
        _enter_2031(eng, actors)
        assert other.calendar.schedule(2031) is None  # within the refresh interval: still the cached view
        other.calendar.REFRESH_SECONDS = 0
        assert other.calendar.schedule(2031).reference == REFERENCE
        assert other.calendar.schedule(2031).workdays == frozenset({dt.date(2031, 1, 4)})
    finally:
        other.dispose()
        calendar.install_overlay(eng.calendar)


# ---------------------------------------------------------------------------------------------------------
# Open deadlines counted again


def _signed_across_new_year(journey, clock) -> int:
    clock.set(_local(2030, 12, 24, 9, 0))  # Tuesday
    case_id = journey.register(title="跨年办理的用电问题")["case_id"]  # 紧急: warn 1, notice 2 working days
    journey.dispatch(case_id, lead="power", time_limit_days=8)
    clock.set(_local(2030, 12, 24, 10, 0))
    journey.act("handler_power", case_id, {"sign_decision": "sign"})
    return case_id


def test_entering_a_year_moves_an_open_deadline_its_timers_and_says_so(eng, journey, clock, actors):
    case_id = _signed_across_new_year(journey, clock)
    page = journey.case(case_id)
    # Counted on weekdays: Dec 25, 26, 27, 30, 31, Jan 1, 2, 3.
    assert page["deadline_at"] == _local(2031, 1, 3, 18, 0) and page["deadline_estimated"] is True
    handle = journey.task("handler_power", case_id)
    assert handle["due_at"] == _local(2031, 1, 3, 18, 0) and handle["due_estimated"] is True

    clock.set(_local(2030, 12, 27, 11, 0))
    result = _enter_2031(eng, actors)

    assert result["recomputed"] == 1
    assert result["moved"] == [
        {
            "case_id": case_id,
            "case_no": page["case_no"],
            "from": _local(2031, 1, 3, 18).astimezone(dt.UTC).isoformat(),
            "to": _local(2031, 1, 7, 18).astimezone(dt.UTC).isoformat(),
        }
    ]
    # Dec 25, 26, 27, 30, 31, Jan 4 (Saturday, worked), 6, 7.
    page = journey.case(case_id)
    assert page["deadline_at"] == _local(2031, 1, 7, 18, 0) and page["deadline_estimated"] is False
    assert page["original_deadline_at"] is None  # not an extension
    handle = journey.task("handler_power", case_id)
    assert handle["due_at"] == _local(2031, 1, 7, 18, 0) and handle["due_estimated"] is False
    with eng.db.read() as session:
        instance = session.scalars(select(WorkflowInstance).where(WorkflowInstance.case_id == case_id)).one()
        assert instance.next_timer_at == _local(2031, 1, 6, 9, 0)  # yellow: 1 working day before
        event = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "deadline_recounted")
        ).one()
        assert event.title == (
            f"按2031年节假日安排（{REFERENCE}）重算办理期限：2031-01-03 18:00 → 2031-01-07 18:00"
        )
        assert event.data["reference"] == REFERENCE and event.data["year"] == 2031
        timers = {t["timer"]: (t["from"], t["to"]) for t in event.data["timers"]}
        assert timers["临期预警"] == ("2031-01-02T09:00:00+08:00", "2031-01-06T09:00:00+08:00")
        assert timers["超期"] == ("2031-01-03T18:00:00+08:00", "2031-01-07T18:00:00+08:00")
        assert timers["超期通报"] == ("2031-01-07T18:00:00+08:00", "2031-01-09T18:00:00+08:00")
        told = session.scalars(select(Notification.title).where(Notification.case_id == case_id)).all()
        assert any("重算办理期限" in t for t in told)
        change = session.scalars(select(CalendarChange)).one()
        assert change.recomputed["cases"] == 1

    # The timers fire at the new moments, not the old ones.
    clock.set(_local(2031, 1, 3, 18, 30))  # the old deadline
    run_pass(eng)
    assert journey.case(case_id)["flag"] is None
    clock.set(_local(2031, 1, 6, 9, 1))
    run_pass(eng)
    assert journey.case(case_id)["flag"] == "yellow"
    clock.set(_local(2031, 1, 7, 18, 1))
    run_pass(eng)
    assert journey.case(case_id)["flag"] == "red"


def test_a_sign_for_limit_moves_too(eng, journey, clock, actors):
    clock.set(_local(2030, 12, 31, 9, 0))  # Tuesday
    case_id = journey.register()["case_id"]
    journey.dispatch(case_id, lead="power")  # 紧急: sign for within 1 working day
    assert journey.task("handler_power", case_id)["due_at"] == _local(2031, 1, 1, 18, 0)
    _enter_2031(eng, actors)
    assert journey.task("handler_power", case_id)["due_at"] == _local(2031, 1, 4, 18, 0)
    assert journey.case(case_id)["deadline_at"] is None
    timeline = journey.case(case_id)["timeline"]
    assert any(e["title"].endswith("重算签收时限：2031-01-01 18:00 → 2031-01-04 18:00") for e in timeline)


def test_a_timer_counted_from_now_is_counted_again_from_when_it_was_armed(eng, journey, clock, actors):
    clock.set(_local(2030, 12, 31, 10, 0))
    case_id = journey.register(urgency="一般", category="政策咨询")["case_id"]  # on the spot, 1 working day
    with eng.db.read() as session:
        instance = session.scalars(select(WorkflowInstance).where(WorkflowInstance.case_id == case_id)).one()
        assert instance.next_timer_at == _local(2031, 1, 1, 18, 0)
        instance_id = instance.instance_id
    clock.set(_local(2031, 1, 4, 10, 0))  # the worker was down; the Saturday is a working day now
    _enter_2031(eng, actors)
    with eng.db.read() as session:
        # 1 working day after Tuesday 31 December (when the timer was armed), not after today.
        assert session.get(WorkflowInstance, instance_id).next_timer_at == _local(2031, 1, 4, 18, 0)
    run_pass(eng)
    assert journey.case(case_id)["status"] == "on_site"
    clock.set(_local(2031, 1, 4, 18, 1))
    run_pass(eng)
    assert journey.case(case_id)["tier"] == "department"


def test_passed_deadlines_and_cases_outside_the_year_stay_as_they_are(eng, journey, clock, actors):
    clock.set(_local(2030, 3, 5, 9, 0))
    early = journey.register()["case_id"]
    journey.dispatch(early, lead="power", time_limit_days=5)
    journey.act("handler_power", early, {"sign_decision": "sign"})
    before = journey.case(early)["deadline_at"]
    clock.set(_local(2030, 12, 27, 9, 0))
    assert _enter_2031(eng, actors)["recomputed"] == 0
    assert journey.case(early)["deadline_at"] == before
    assert _count(eng, CaseEvent, CaseEvent.kind == "deadline_recounted") == 0


def test_withdrawing_a_year_counts_the_deadlines_on_weekdays_again(eng, journey, clock, actors):
    case_id = _signed_across_new_year(journey, clock)
    _enter_2031(eng, actors)
    assert journey.case(case_id)["deadline_at"] == _local(2031, 1, 7, 18, 0)
    result = holidays.remove_schedule(eng, actors("admin"), 2031)
    assert result["recomputed"] == 1
    page = journey.case(case_id)
    assert page["deadline_at"] == _local(2031, 1, 3, 18, 0) and page["deadline_estimated"] is True
    assert page["timeline"][-1]["title"].startswith("2031年节假日安排撤销录入，重算办理期限")


def test_the_quarterly_evaluation_waits_for_the_first_real_working_day(eng, actors, clock):
    clock.set(_local(2030, 12, 24, 9, 0))
    assert evaluation.ensure_scheduled(eng) == "2030-Q4"
    with eng.db.read() as session:
        assert session.get(EvaluationBoard, "2030-Q4").due_at == _local(2031, 1, 1, 9, 0)
    result = _enter_2031(eng, actors)
    assert result["evaluations"] == [
        {"quarter": "2030-Q4", "from": "2031-01-01T09:00:00+08:00", "to": "2031-01-04T09:00:00+08:00"}
    ]
    with eng.db.read() as session:
        board = session.get(EvaluationBoard, "2030-Q4")
        assert board.due_at == _local(2031, 1, 4, 9, 0)
        assert session.get(WorkflowInstance, board.instance_id).next_timer_at == _local(2031, 1, 4, 9, 0)
    clock.set(_local(2031, 1, 1, 9, 30))
    run_pass(eng)
    with eng.db.read() as session:
        assert session.get(EvaluationBoard, "2030-Q4").status == "scheduled"
    clock.set(_local(2031, 1, 4, 9, 1))
    run_pass(eng)
    with eng.db.read() as session:
        assert session.get(EvaluationBoard, "2030-Q4").status == "review"
        assert _count(eng, HumanTask, HumanTask.case_no == "2030-Q4") == 1


def test_the_tables_match_their_migration(eng):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from engine.storage.models import Base

    ours = {"official_calendar", "official_calendar_day", "calendar_change"}
    with eng.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    def table_of(item):
        item = item[0] if isinstance(item, list) else item
        for part in item[1:]:
            name = getattr(part, "name", None) if not isinstance(part, str) else part
            table = getattr(part, "table", None)
            if table is not None:
                return table.name
            if name in ours:
                return name
        return None

    assert [d for d in diff if table_of(d) in ours] == []
