"""Notification senders: a small interface and an SMTP implementation (off unless configured)."""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol


class Sender(Protocol):
    def send(self, address: str, name: str, subject: str, body: str, reference: str | None = None) -> None:
        """Send one mail; `reference` (e.g. "notification-42") makes its Message-ID, the same on a repeat."""


class SmtpSender:
    """Sends plain-text mail through an SMTP server (STARTTLS unless told otherwise)."""

    def __init__(
        self,
        host: str,
        port: int = 587,
        username: str | None = None,
        password: str | None = None,
        from_address: str = "jienan@localhost",
        starttls: bool = True,
        timeout: float = 10.0,
    ):
        self.host, self.port, self.username, self.password = host, port, username, password
        self.from_address, self.starttls, self.timeout = from_address, starttls, timeout

    def send(self, address: str, name: str, subject: str, body: str, reference: str | None = None) -> None:
        message = EmailMessage()
        if reference:
            # A mail repeated after a worker crash carries the same Message-ID, so mail systems can drop it.
            domain = self.from_address.rpartition("@")[2].strip("> ") or "jienan.local"
            message["Message-ID"] = f"<{reference}@{domain}>"
        message["From"] = self.from_address
        message["To"] = f"{name} <{address}>"
        message["Subject"] = f"【解难】{subject}"
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def sender_from_env() -> Sender | None:
    """JIENAN_SMTP_HOST turns e-mail on; port, user, password, from and STARTTLS have their own variables."""
    host = os.environ.get("JIENAN_SMTP_HOST")
    if not host:
        return None
    return SmtpSender(
        host=host,
        port=int(os.environ.get("JIENAN_SMTP_PORT", "587")),
        username=os.environ.get("JIENAN_SMTP_USER") or None,
        password=os.environ.get("JIENAN_SMTP_PASSWORD") or None,
        from_address=os.environ.get("JIENAN_SMTP_FROM", "jienan@localhost"),
        starttls=os.environ.get("JIENAN_SMTP_STARTTLS", "1") != "0",
    )
