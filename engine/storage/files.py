"""Where attachment bytes live: the local upload folder, the database (attachment_blob) or an S3-compatible store.

Every web process must be able to serve every file, so with several machines the files cannot stay on the disk
of the one that received them: on PostgreSQL they go into the database by default (bytea; backed up with it),
or into an S3-compatible object store when JIENAN_ATTACHMENT_STORE=s3. The local folder stays the default of
the embedded SQLite set-up (one machine). Each attachment row names the store that holds it, so files stored
before a change stay readable until `jienan move-attachments` has moved them.

A store's `put`, `get` and `delete` take the caller's session: the database store writes in the caller's
transaction (a rollback discards the file too); the others write at once and the caller deletes what it wrote
if the transaction fails (FileStager in services/attachments.py).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.storage.models import AttachmentBlob

STORES = ("local", "database", "s3")


class FileMissing(LookupError):
    """The store has no file under this key (a local file on another machine, a deleted object)."""


class StoreNotConfigured(ValueError):
    """The configured store cannot be used as set up (an unknown name, S3 without a bucket)."""


class LocalFolder:
    """Files under one folder of this machine (the embedded default; not shared between machines)."""

    name = "local"
    transactional = False

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise FileMissing(key)  # a key never leaves the folder
        return path

    def put(self, session: Session | None, key: str, content: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed: a reader never sees half a file, a crash leaves no partial one under key.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, session: Session | None, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise FileMissing(key) from None

    def delete(self, session: Session | None, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class DatabaseStore:
    """Files in the attachment_blob table (bytea on PostgreSQL), written in the caller's transaction."""

    name = "database"
    transactional = True

    def put(self, session: Session, key: str, content: bytes) -> None:
        session.merge(AttachmentBlob(storage_key=key, content=content))  # a second put of one key replaces it
        session.flush()

    def get(self, session: Session, key: str) -> bytes:
        content = session.scalar(select(AttachmentBlob.content).where(AttachmentBlob.storage_key == key))
        if content is None:
            raise FileMissing(key)
        return bytes(content)

    def delete(self, session: Session, key: str) -> None:
        session.execute(delete(AttachmentBlob).where(AttachmentBlob.storage_key == key))


class S3Store:
    """Files as objects in one bucket of an S3-compatible store (AWS S3, MinIO, Ceph RGW, OSS/COS in S3 mode).

    Credentials come the usual boto3 way (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an instance
    role); the bucket, endpoint, region and key prefix from JIENAN_S3_*.
    """

    name = "s3"
    transactional = False

    def __init__(
        self, bucket: str, endpoint_url: str | None = None, region: str | None = None, prefix: str = ""
    ):
        if not bucket:
            raise StoreNotConfigured("JIENAN_ATTACHMENT_STORE=s3 needs JIENAN_S3_BUCKET (the bucket's name)")
        self.bucket = bucket
        self.prefix = prefix
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            config=botocore.config.Config(
                retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30
            ),
        )

    def put(self, session: Session | None, key: str, content: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=content)

    def get(self, session: Session | None, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()
        except botocore.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise FileMissing(key) from None
            raise

    def delete(self, session: Session | None, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)


class FileStores:
    """The store new files go to (`current`) and, by name, the stores older rows may still point at."""

    def __init__(self, configured: str | None, upload_dir: Path, is_sqlite: bool, s3: dict | None = None):
        name = (configured or ("local" if is_sqlite else "database")).strip().lower()
        if name not in STORES:
            raise StoreNotConfigured(
                f"JIENAN_ATTACHMENT_STORE={configured!r} is not a store: use one of {', '.join(STORES)}"
            )
        self.name = name
        self.upload_dir = Path(upload_dir)
        self.s3 = dict(s3 or {})
        self._stores: dict[str, object] = {}
        self.current = self.get(name)  # fails at start-up, not at the first upload, when S3 is half set up

    def get(self, name: str):
        """The store called `name`. :raises StoreNotConfigured: an unknown name, or S3 without a bucket."""
        store = self._stores.get(name)
        if store is None:
            if name == "local":
                store = LocalFolder(self.upload_dir)
            elif name == "database":
                store = DatabaseStore()
            elif name == "s3":
                store = S3Store(
                    self.s3.get("bucket", ""),
                    endpoint_url=self.s3.get("endpoint_url"),
                    region=self.s3.get("region"),
                    prefix=self.s3.get("prefix", ""),
                )
            else:
                raise StoreNotConfigured(f"unknown attachment store {name!r}")
            self._stores[name] = store
        return store
