"""Attachment stores: a file uploaded through one process (machine) is served by another with its own instance
folder when it lives in the database or an S3-compatible store (moto's server on 127.0.0.1); a failed upload
leaves nothing behind; `move_attachments` moves local files into the configured store, idempotently."""

from __future__ import annotations

import logging
import socket

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from engine import cli
from engine.context import Engine
from engine.context import Settings
from engine.errors import NotFound
from engine.errors import ValidationFailed
from engine.services import attachments
from engine.services import cases
from engine.services.attachments import Upload
from engine.storage.files import StoreNotConfigured
from engine.storage.models import Attachment
from engine.storage.models import AttachmentBlob

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64


def machine(database_url, folder, clock, **settings) -> Engine:
    """An engine as another machine would build it: the same database, its own instance folder."""
    return Engine(Settings(database_url=database_url, upload_dir=folder / "uploads", **settings), clock=clock)


@pytest.fixture
def machines(database_url, tmp_path, clock):
    built = []

    def make(name: str, **settings) -> Engine:
        engine = machine(database_url, tmp_path / name, clock, **settings)
        built.append(engine)
        return engine

    yield make
    for engine in built:
        engine.dispose()


def _upload(engine, actor, content=PNG, name="现场.png") -> dict:
    return attachments.upload_attachment(engine, actor, Upload("file", name, content))


def _count(engine, model) -> int:
    with engine.db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_embedded_default_keeps_files_in_the_local_folder(eng, actors, tmp_path):
    if not eng.db.is_sqlite:
        pytest.skip("the local folder is the default on SQLite only")
    row = _upload(eng, actors("registrar"))
    meta, content = attachments.open_attachment(eng, actors("registrar"), row["attachment_id"])
    assert content == PNG and meta["filename"] == "现场.png"
    assert len(list((tmp_path / "uploads").rglob("*"))) == 2  # a folder and the file
    assert _count(eng, AttachmentBlob) == 0


def test_a_file_in_the_database_is_served_by_every_machine(machines, actors):
    one, two = machines("one", attachment_store="database"), machines("two")
    row = _upload(one, actors("registrar"))
    meta, content = attachments.open_attachment(two, actors("registrar"), row["attachment_id"])
    assert content == PNG
    assert _count(one, AttachmentBlob) == 1
    assert not (one.settings.upload_dir).exists() or not any(one.settings.upload_dir.rglob("*.png"))


def test_postgresql_keeps_files_in_the_database_by_default(machines, actors):
    one = machines("one")
    if one.db.is_sqlite:
        pytest.skip("PostgreSQL only")
    assert one.files.name == "database"
    row = _upload(one, actors("registrar"))
    assert attachments.open_attachment(machines("two"), actors("registrar"), row["attachment_id"])[1] == PNG


def test_a_refused_upload_leaves_no_file_in_any_store(machines, actors):
    one = machines("one", attachment_store="database")
    with pytest.raises(ValidationFailed):
        # The file is stored first, then the form is found incomplete: the transaction rolls the file back too.
        cases.register_case(
            one, actors("registrar"), {"title": "缺少企业"}, uploads=[Upload("attachments", "a.png", PNG)]
        )
    assert _count(one, AttachmentBlob) == 0 and _count(one, Attachment) == 0


def test_a_local_file_asked_of_another_machine_is_a_clear_not_found(machines, actors):
    one, two = machines("one", attachment_store="local"), machines("two", attachment_store="local")
    row = _upload(one, actors("registrar"))
    with pytest.raises(NotFound, match="不在存储中"):
        attachments.open_attachment(two, actors("registrar"), row["attachment_id"])


def test_moving_local_files_into_the_database_is_idempotent(machines, actors):
    before = machines("one", attachment_store="local")
    rows = [_upload(before, actors("registrar"), PNG + bytes([n])) for n in range(3)]
    with before.db.transaction() as session:  # one file damaged on disk, one on another machine's disk
        keys = {r.attachment_id: r.storage_key for r in session.scalars(select(Attachment))}
    (before.settings.upload_dir / keys[rows[1]["attachment_id"]]).write_bytes(PNG + b"tampered")
    (before.settings.upload_dir / keys[rows[2]["attachment_id"]]).unlink()
    after = machines("one", attachment_store="database")  # same machine, store switched
    assert attachments.move_attachments(after) == {"moved": 1, "missing": 1, "corrupt": 1, "already": 0}
    assert attachments.move_attachments(after) == {"moved": 0, "missing": 1, "corrupt": 1, "already": 1}
    other = machines("two", attachment_store="database")
    assert (
        attachments.open_attachment(other, actors("registrar"), rows[0]["attachment_id"])[1] == PNG + b"\x00"
    )
    with after.db.read() as session:
        stores = dict(session.execute(select(Attachment.attachment_id, Attachment.store)).all())
    assert stores == {
        rows[0]["attachment_id"]: "database",
        rows[1]["attachment_id"]: "local",
        rows[2]["attachment_id"]: "local",
    }


def test_an_unknown_store_or_s3_without_a_bucket_refuses_to_start(database_url, tmp_path, clock):
    with pytest.raises(StoreNotConfigured, match="JIENAN_ATTACHMENT_STORE"):
        machine(database_url, tmp_path, clock, attachment_store="ftp")
    with pytest.raises(StoreNotConfigured, match="JIENAN_S3_BUCKET"):
        machine(database_url, tmp_path, clock, attachment_store="s3")


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """moto's S3 server on 127.0.0.1 (a real HTTP endpoint, as MinIO would be) with one bucket."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    mp = pytest.MonkeyPatch()
    mp.setenv("AWS_ACCESS_KEY_ID", "jienan-test")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "jienan-test-secret")
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="jienan-files")
    yield {"bucket": "jienan-files", "endpoint_url": endpoint, "region": "us-east-1", "prefix": "att/"}
    mp.undo()
    server.stop()


def _objects(s3) -> list[str]:
    client = boto3.client("s3", endpoint_url=s3["endpoint_url"], region_name=s3["region"])
    return [o["Key"] for o in client.list_objects_v2(Bucket=s3["bucket"]).get("Contents", [])]


def test_a_file_in_s3_is_served_by_every_machine_and_a_rollback_deletes_it(machines, actors, s3_server):
    one = machines("one", attachment_store="s3", s3=s3_server)
    two = machines("two", attachment_store="s3", s3=s3_server)
    start = len(_objects(s3_server))
    row = _upload(one, actors("registrar"))
    assert attachments.open_attachment(two, actors("registrar"), row["attachment_id"])[1] == PNG
    keys = _objects(s3_server)
    assert len(keys) == start + 1 and all(k.startswith("att/") for k in keys)
    # A submission refused after the file was written leaves no object behind.
    with pytest.raises(ValidationFailed):
        cases.register_case(
            one, actors("registrar"), {"title": "缺少企业"}, uploads=[Upload("attachments", "b.png", PNG)]
        )
    assert len(_objects(s3_server)) == start + 1


def test_moving_database_files_to_s3(machines, actors, s3_server):
    before = machines("one", attachment_store="database")
    row = _upload(before, actors("registrar"))
    after = machines("two", attachment_store="s3", s3=s3_server)
    assert attachments.move_attachments(after)["moved"] == 1
    assert attachments.open_attachment(after, actors("registrar"), row["attachment_id"])[1] == PNG
    with after.db.transaction() as session:  # the row now points at S3: the old blob is no longer read
        session.execute(update(AttachmentBlob).values(content=b"stale"))
    assert attachments.open_attachment(after, actors("registrar"), row["attachment_id"])[1] == PNG
    with pytest.raises(
        NotFound, match="不在存储中"
    ):  # a machine not told about S3 cannot read it: a clear 404
        attachments.open_attachment(before, actors("registrar"), row["attachment_id"])


@pytest.fixture
def root_logging():
    """The command configures logging for its process: put the root logger back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def test_the_move_command_prints_what_it_did_and_runs_again(
    machines, actors, database_url, monkeypatch, capsys, root_logging
):
    before = machines("one", attachment_store="local")
    _upload(before, actors("registrar"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("JIENAN_UPLOAD_DIR", str(before.settings.upload_dir))
    monkeypatch.setenv("JIENAN_ATTACHMENT_STORE", "database")
    assert cli.main(["move-attachments"]) == 0
    assert "moved 1, already there 0" in capsys.readouterr().out
    assert cli.main(["move-attachments"]) == 0
    assert "moved 0, already there 1" in capsys.readouterr().out
    monkeypatch.setenv("JIENAN_ATTACHMENT_STORE", "s3")  # half set up: a clear message and status 2, no trace
    assert cli.main(["move-attachments"]) == 2
    assert "JIENAN_S3_BUCKET" in capsys.readouterr().err
