"""A cluster on this machine (bench/cluster.py): 3 gunicorn web processes with their own instance folders, 2 timer
workers and nginx in front, on one PostgreSQL, with an SMTP sink. Cases go round the whole loop through nginx,
each feedback's file uploaded through one web process and read back through the others; the dispatch reminder
timers fire; one web process and one worker are killed with SIGKILL in the middle and started again. Then: no
case, task, timer firing or e-mail lost or doubled (one e-mail may repeat per killed worker, with the same
Message-ID), every attachment readable from every web process, a session from one process valid on the others.

The short version runs in CI (PostgreSQL run); the long one is marked slow.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from bench.cluster import STEPS_PER_CASE
from bench.cluster import Api
from bench.cluster import Cluster
from bench.cluster import Http
from bench.cluster import MailSink
from bench.cluster import duplicates
from bench.cluster import register
from bench.cluster import run_loop
from engine.storage.models import Attachment
from engine.storage.models import Case
from engine.storage.models import CaseEvent
from engine.storage.models import Enterprise
from engine.storage.models import HumanTask
from engine.storage.models import Notification
from engine.storage.models import User
from engine.storage.models import WorkerHeartbeat
from engine.workflow.deploy import deploy_process
from tests.conftest import PG_URL

MAIN = Path(__file__).resolve().parents[2] / "processes" / "case_handling.bpmn"
REMINDER_SECONDS = 3
# The dispatch task gets a reminder a few seconds after it opens (the shipped diagram's timers are days away).
REMINDER = f"""
    <bpmn:boundaryEvent id="timer_dispatch" name="派单超时" cancelActivity="false" attachedToRef="dispatch">
      <bpmn:outgoing>flow_timer_1</bpmn:outgoing>
      <bpmn:timerEventDefinition id="timer_dispatch_def">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT{REMINDER_SECONDS}S"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="flow_timer_1" sourceRef="timer_dispatch" targetRef="remind_dispatch" />
    <bpmn:scriptTask id="remind_dispatch" name="派单催办">
      <bpmn:incoming>flow_timer_1</bpmn:incoming>
      <bpmn:outgoing>flow_timer_2</bpmn:outgoing>
      <bpmn:script>set_flag("red")
notify("dispatcher", "派单超时，请尽快派单")</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="flow_timer_2" sourceRef="remind_dispatch" targetRef="end_timer" />
    <bpmn:endEvent id="end_timer" name="已催办">
      <bpmn:incoming>flow_timer_2</bpmn:incoming>
    </bpmn:endEvent>
    """

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="a cluster shares one PostgreSQL (set TEST_DATABASE_URL)"),
    pytest.mark.skipif(not shutil.which("nginx"), reason="needs Debian's nginx (apt-get install nginx)"),
]


def _prepare(eng, tag: str) -> int:
    """The reminder diagram live, every user with an address; returns the enterprise the cases are for."""
    xml = MAIN.read_text("utf-8").replace("<bpmn:startEvent", REMINDER + "<bpmn:startEvent", 1)
    with eng.db.transaction() as session:
        deploy_process(session, eng, xml, comment=f"{tag}: dispatch reminder after {REMINDER_SECONDS} s")
        session.execute(update(User).values(email=User.username + "@example.test"))
    with eng.db.read() as session:
        return session.scalar(select(func.min(Enterprise.enterprise_id)))


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _count(eng, *where, model=CaseEvent) -> int:
    with eng.db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def run_cluster(eng, database_url, root: Path, cases: int) -> None:
    tag = f"C{int(time.time()) % 100000}"
    enterprise_id = _prepare(eng, tag)
    sink = MailSink(delay=0.02)
    sink.start()
    cluster = Cluster(root, database_url, webs=3, workers=2, smtp_port=sink.port, worker_interval=0.3)
    try:
        with cluster:
            api = Api(cluster.url)
            direct = [api.at(cluster.web_url(i)) for i in range(3)]
            # A browser session made on any web process opens pages on every other one.
            browsers = {}
            for user, index in (("dispatcher", 0), ("registrar", 2), ("handler_power", 1)):
                browsers[user] = Http(cluster.web_url(index))
                assert browsers[user].login(user) == 302, user
            for user, browser in browsers.items():
                for index in range(3):
                    assert browser.at(cluster.web_url(index)).request("GET", "/tasks")[0] == 200, (
                        user,
                        index,
                    )
            browser = browsers["dispatcher"]

            # 1. Register every case through nginx; their reminders come due a few seconds later.
            with ThreadPoolExecutor(4) as pool:
                case_ids = list(pool.map(lambda n: register(api, enterprise_id, tag, n), range(cases)))
            assert len(set(case_ids)) == cases
            reminders = (
                CaseEvent.case_id.in_(case_ids),
                CaseEvent.kind == "notified",
                CaseEvent.title.like("派单超时%"),
            )

            # 2. Let the reminders fire; kill one worker (SIGKILL) while the workers fire and mail, restart it.
            _wait(lambda: _count(eng, *reminders) > 0, 60, "the first reminder")
            cluster.workers[0].kill9()
            time.sleep(0.5)
            cluster.restart(cluster.workers[0])
            _wait(lambda: _count(eng, *reminders) >= cases, 90, "every reminder")

            # 3. The rest of the loop for every case; each feedback's file is uploaded through web1 (directly),
            #    everything else goes through nginx. web2 is killed (SIGKILL) in the middle and restarted.
            content = {
                case_id: b"\x89PNG\r\n\x1a\n" + f"case {case_id}".encode() * 50 for case_id in case_ids
            }
            done = []

            def drive(case_id):
                attachment_id = run_loop(api, case_id, direct[0], content[case_id])
                done.append(case_id)
                return case_id, attachment_id

            killer_done = threading.Event()

            def kill_web_midway():
                _wait(lambda: len(done) >= max(1, cases // 3), 300, "a third of the cases")
                cluster.webs[1].kill9()
                time.sleep(1)
                cluster.restart(cluster.webs[1], wait_for=cluster.web_url(1))
                killer_done.set()

            killer = threading.Thread(target=kill_web_midway, daemon=True)
            killer.start()
            with ThreadPoolExecutor(4) as pool:
                attachments = dict(pool.map(drive, case_ids))
            killer.join(120)
            assert killer_done.is_set()

            # 4. Every attachment from every web process (web2 restarted), with the sessions made before the kill.
            for user, browser_of_user in browsers.items():
                assert browser_of_user.at(cluster.web_url(1)).request("GET", "/tasks")[0] == 200, user
            for case_id, attachment_id in attachments.items():
                for index in range(3):
                    status, _headers, body = browser.at(cluster.web_url(index)).request(
                        "GET", f"/attachments/{attachment_id}"
                    )
                    assert status == 200 and body == content[case_id], (case_id, index, status)

            # 5. Every notification of an addressed user e-mailed.
            pending = (Notification.sent_at.is_(None), Notification.mail_failed_at.is_(None))
            _wait(lambda: _count(eng, *pending, model=Notification) == 0, 120, "every e-mail")
            time.sleep(1)  # anything still in flight lands now
            with eng.db.read() as session:
                workers_seen = session.scalar(select(func.count()).select_from(WorkerHeartbeat))
            assert workers_seen == 3  # two at the start, the restarted one
            status, _headers, body = Http(cluster.url).request("GET", "/healthz")
            health = (status, json.loads(body))
        codes = cluster.stop()
    finally:
        cluster.stop()
        sink.stop()
    assert health[0] == 200 and health[1]["status"] == "ok", health

    # No case lost or doubled, each closed, each task completed exactly once, nothing left open.
    with eng.db.read() as session:
        titles = session.scalars(select(Case.title).where(Case.title.like(f"{tag} %"))).all()
        assert len(titles) == cases and len(set(titles)) == cases
        statuses = set(session.scalars(select(Case.status).where(Case.case_id.in_(case_ids))))
        assert statuses == {"closed"}, statuses
        completed = session.execute(
            select(CaseEvent.case_id, CaseEvent.task_id).where(
                CaseEvent.case_id.in_(case_ids), CaseEvent.kind == "task_completed"
            )
        ).all()
        assert len(completed) == cases * (STEPS_PER_CASE - 1) and duplicates(completed) == 0
        assert (
            session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.case_id.in_(case_ids)))
            == 0
        )
        # Each reminder fired exactly once.
        fired = session.execute(
            select(CaseEvent.case_id, func.count()).where(*reminders).group_by(CaseEvent.case_id)
        ).all()
        assert len(fired) == cases and {n for _case, n in fired} == {1}
        # Each case's feedback file is linked once and kept in the database (no machine's disk).
        linked = session.execute(
            select(Attachment.case_id, Attachment.store).where(Attachment.case_id.in_(case_ids))
        ).all()
        assert len(linked) == cases and {store for _c, store in linked} == {"database"}
        mailed = set(
            session.scalars(
                select(Notification.notification_id)
                .join(User, User.user_id == Notification.user_id)
                .where(Notification.sent_at.is_not(None))
            )
        )
    # Every notification mailed; none twice, but for at most one per killed worker (same Message-ID).
    received = [m for m in sink.message_ids if m.startswith("<notification-")]
    ids = {int(m.split("-")[1].split("@")[0]) for m in received}
    assert ids == mailed and len(mailed) > cases
    assert duplicates(received) <= 1, duplicates(received)
    print(
        f"cluster: {cases} cases, {len(completed)} completions, {len(received)} mails "
        f"({duplicates(received)} repeated), {api.retries} requests retried after the web process died"
    )
    # The workers and web processes stopped on SIGTERM with status 0 (gunicorn too).
    assert all(code == 0 for name, code in codes.items() if name != "nginx"), codes


def test_a_short_cluster_run(eng, database_url, tmp_path):
    run_cluster(eng, database_url, tmp_path, cases=8)


@pytest.mark.slow
def test_a_long_cluster_run(eng, database_url, tmp_path):
    run_cluster(eng, database_url, tmp_path, cases=60)
