"""A Jienan cluster on this machine, as several machines would run it: web processes (gunicorn, each with its own
instance folder: no shared local disk), timer workers, nginx balancing across the web processes, one PostgreSQL
and an SMTP sink on 127.0.0.1. Used by tests/integration/test_cluster.py and bench/bench_cluster.py.

Everything listens on 127.0.0.1 only; every process is started in its own session and stopped (SIGKILL at the
latest) when the cluster is left, also on errors.
"""

from __future__ import annotations

import collections
import email
import http.client
import http.cookiejar
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "cluster-test.conf.in"
RETRY_STATUSES = (0, 502, 503, 504)  # no answer, or nginx found no live web process: try again


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailSink:
    """aiosmtpd on 127.0.0.1 keeping the Message-ID of every mail it accepts (optionally slow)."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.message_ids: list[str] = []
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            time.sleep(self.delay)  # a slow server: workers spend their time sending, where a kill hurts most
        message = email.message_from_bytes(envelope.content)
        with self.lock:
            self.message_ids.append(message["Message-ID"] or "")
        return "250 OK"

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


class Process:
    """One child process (gunicorn with its worker, a timer worker, nginx) in its own process group."""

    def __init__(self, name: str, command: list[str], env: dict, log: Path):
        self.name, self.command, self.env, self.log = name, command, env, log
        self.popen: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        """The machine's process dies: SIGKILL to the whole group (gunicorn's master and its worker)."""
        if self.popen is not None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait()

    def stop(self, timeout: float = 15) -> int | None:
        if not self.alive:
            return self.popen.returncode if self.popen else None
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None


class Http:
    """A small HTTP client on urllib with its own cookie jar (cookies on 127.0.0.1 go to every port)."""

    def __init__(self, base: str, jar: http.cookiejar.CookieJar | None = None):
        self.base = base
        self.jar = jar if jar is not None else http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def at(self, base: str) -> Http:
        """The same browser (cookies) talking to another address."""
        return Http(base, self.jar)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException):
            return 0, {}, b""

    def login(self, username: str, password: str = "jienan2026") -> int:
        status, _headers, page = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if status != 200 or not token:
            return status or -1
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrf_token": token.group(1).decode()}
        ).encode()
        status, _headers, _body = self.request(
            "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        return status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect to /login must show as a 302, not be followed


class Api:
    """The JSON API with bearer tokens; retries what got no answer (a web process killed mid-request)."""

    def __init__(self, base: str):
        self.http = Http(base)
        self.tokens: dict[str, str] = {}
        self.retries = 0

    def at(self, base: str) -> Api:
        other = Api(base)
        other.tokens = self.tokens
        return other

    def token(self, user: str) -> str:
        if user not in self.tokens:
            status, body = self.call(
                "POST", "/auth/token", None, {"username": user, "password": "jienan2026"}
            )
            assert status == 200, (status, body)
            self.tokens[user] = body["token"]
        return self.tokens[user]

    def call(self, method, path, user=None, payload=None, headers=None, raw=None, attempts=40):
        """(status, parsed JSON) of one API call; retried while no web process answers. A 409 on a retried
        completion means the first try went through before the process died."""
        headers = dict(headers or {})
        if user:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        body = raw
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(attempts):
            status, _headers, data = self.http.request(method, "/api/v1" + path, body, headers)
            if status not in RETRY_STATUSES:
                parsed = json.loads(data) if data[:1] in (b"{", b"[") else data
                return (200 if status == 409 and attempt and path.endswith("/complete") else status), parsed
            self.retries += 1
            time.sleep(0.25)
        return status, None

    def upload(self, user: str, filename: str, content: bytes) -> int:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        status, result = self.call(
            "POST",
            "/attachments",
            user,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            raw=body,
        )
        assert status == 201, (status, result)
        return result["attachment_id"]

    def complete_current(self, user: str, case_id: int, data: dict) -> None:
        """Complete the case's open task (the one `user` may act on) with `data`."""
        for _ in range(40):
            status, case = self.call("GET", f"/cases/{case_id}", user)
            assert status == 200, (status, case)
            ready = [t for t in case["current_tasks"] if t["can_act"]]
            if ready:
                status, result = self.call(
                    "POST", f"/tasks/{ready[0]['task_id']}/complete", user, {"data": data}
                )
                assert status == 200, (status, result, case_id, data)
                return
            time.sleep(0.1)  # the next task is not there yet (a retried step settled elsewhere)
        raise AssertionError(f"{user} has no task on case {case_id}")


PNG = b"\x89PNG\r\n\x1a\n"

# What one case goes through after registration: (user, form data); the feedback step carries an attachment.
LOOP = (
    ("dispatcher", {"tier": "department", "lead_unit": "power", "co_units": [], "time_limit_days": 5}),
    ("handler_power", {"sign_decision": "sign"}),
    ("handler_power", {"outcome": "resolved", "handling_actions": "现场协调，已恢复供电。"}),
    ("dispatcher", {"verdict": "accept"}),
    ("registrar", {"solved": "yes", "satisfaction": "satisfied", "revisit_method": "phone"}),
    ("dispatcher", {"closing_summary": "已解决，销号。"}),
)
STEPS_PER_CASE = 1 + len(LOOP)  # registration + the task completions


def register(api: Api, enterprise_id: int, tag: str, n: int) -> int:
    status, result = api.call(
        "POST",
        "/cases",
        "registrar",
        {
            "enterprise_id": enterprise_id,
            "channel": "走访",
            "field": "工业",
            "category": "水电气",
            "urgency": "紧急",
            "title": f"{tag} 用电保障 {n:04d}",
            "description": "夏季用电高峰期生产用电保障。",
        },
        headers={"Idempotency-Key": f"{tag}-{n}"},  # a retry after a dead process is recognised, not doubled
    )
    assert status in (200, 201), (status, result)
    return result["case_id"]


def run_loop(
    api: Api, case_id: int, upload_api: Api | None = None, content: bytes | None = None
) -> int | None:
    """Drive a registered case to its close-out; the feedback's file is uploaded through `upload_api`."""
    attachment_id = None
    for user, data in LOOP:
        if "outcome" in data and upload_api is not None:
            attachment_id = upload_api.upload(user, f"现场照片-{case_id}.png", content or PNG + b"x")
            data = {**data, "attachments": [attachment_id]}
        api.complete_current(user, case_id, data)
    return attachment_id


class Cluster:
    """Web processes, timer workers and nginx on one PostgreSQL database, started and stopped together."""

    def __init__(
        self,
        root: Path,
        database_url: str,
        webs: int = 3,
        workers: int = 2,
        smtp_port: int | None = None,
        worker_interval: float = 0.5,
        threads: int = 4,
    ):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.threads = threads
        self.secret = secrets.token_hex(32)  # the same key on every "machine": sessions are valid everywhere
        self.web_ports = [free_port() for _ in range(webs)]
        self.nginx_port = free_port()
        self.base_env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("JIENAN_", "DATABASE_URL", "SECRET_KEY"))
            },
            "DATABASE_URL": database_url,
            "JIENAN_SECRET_KEY": self.secret,
            "JIENAN_DB_POOL_SIZE": "4",
            "JIENAN_DB_MAX_OVERFLOW": "2",
            "JIENAN_LOG_FORMAT": "json",
            "JIENAN_TRUSTED_PROXIES": "1",
            "JIENAN_MAIL_LEASE_SECONDS": "5",  # a killed worker's claimed mails go out again after 5 s
            "PYTHONPATH": str(ROOT),
        }
        if smtp_port:
            self.base_env.update(
                JIENAN_SMTP_HOST="127.0.0.1", JIENAN_SMTP_PORT=str(smtp_port), JIENAN_SMTP_STARTTLS="0"
            )
        self.webs = [self._web(i, port) for i, port in enumerate(self.web_ports)]
        self.workers = [self._worker(i, worker_interval) for i in range(workers)]
        self.nginx = self._nginx()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"

    def web_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.web_ports[index]}"

    def _instance(self, name: str) -> dict:
        folder = self.root / name
        folder.mkdir(exist_ok=True)
        return {"JIENAN_INSTANCE_DIR": str(folder), "JIENAN_UPLOAD_DIR": str(folder / "uploads")}

    def _web(self, index: int, port: int) -> Process:
        command = [
            str(BIN / "gunicorn"),
            "--config", str(ROOT / "deploy" / "gunicorn" / "gunicorn.conf.py"),
            "--workers", "1",
            "--threads", str(self.threads),
            "--bind", f"127.0.0.1:{port}",
            "--graceful-timeout", "5",
            "--access-logfile", "/dev/null",
        ]  # fmt: skip
        env = {**self.base_env, **self._instance(f"web{index + 1}")}
        return Process(f"web{index + 1}", command, env, self.root / f"web{index + 1}.log")

    def _worker(self, index: int, interval: float) -> Process:
        command = [sys.executable, "-m", "engine.cli", "worker", "--interval", str(interval)]
        env = {**self.base_env, **self._instance(f"worker{index + 1}")}
        return Process(f"worker{index + 1}", command, env, self.root / f"worker{index + 1}.log")

    def _nginx(self) -> Process:
        prefix = self.root / "nginx"
        prefix.mkdir(exist_ok=True)
        servers = "\n".join(
            f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in self.web_ports
        )
        conf = NGINX_TEMPLATE.read_text("utf-8").format(
            user="user root;" if os.geteuid() == 0 else "",
            prefix=prefix,
            port=self.nginx_port,
            servers=servers,
        )
        (prefix / "nginx.conf").write_text(conf)
        command = ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        return Process("nginx", command, dict(os.environ), self.root / "nginx.log")

    def wait_healthy(self, base: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        client = Http(base)
        while time.monotonic() < deadline:
            status, _headers, _body = client.request("GET", "/healthz")
            if status == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"{base} did not become healthy; logs in {self.root}")

    def start(self) -> Cluster:
        for web in self.webs:
            web.start()
        for worker in self.workers:
            worker.start()
        self.nginx.start()
        for index in range(len(self.webs)):
            self.wait_healthy(self.web_url(index))
        self.wait_healthy(self.url)
        return self

    def restart(self, process: Process, wait_for: str | None = None) -> None:
        process.start()
        if wait_for:
            self.wait_healthy(wait_for)

    def stop(self) -> dict[str, int | None]:
        codes = {p.name: p.stop() for p in [self.nginx, *self.workers, *self.webs]}
        return codes

    def __enter__(self) -> Cluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    def logs(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text("utf-8", errors="replace") if path.exists() else ""


def duplicates(items) -> int:
    """How many items are repeats of an earlier one."""
    return sum(count - 1 for count in collections.Counter(items).values())
