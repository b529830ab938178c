"""Delivering the outbox over SMTP, with database leases so no two processes send one mail.

A worker claims a batch with one atomic UPDATE that only touches rows whose lease has
expired, then sends, then records the result only if it still owns the lease. A worker
that dies mid-batch loses nothing: its lease runs out and another worker retries.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cases.access.held import release_mentions
from cases.clock import Clock
from cases.db import new_id, unit_of_work
from cases.notify.models import JobLease, OutboxMessage
from cases.notify.service import backoff
from cases.reports.arrivals import release as release_arrivals

MAX_ATTEMPTS = 8
LEASE_SECONDS = 120
BATCH = 20


class Sender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


# The one way to log in over an unencrypted connection: the URL must say so in full.
PLAINTEXT_LOGIN_FLAG = ("insecure_login", "yes")


class InsecureLogin(smtplib.SMTPException):
    """The server offers no STARTTLS, and a password is never sent in the clear."""


@dataclass(frozen=True)
class SmtpSender:
    """smtps://user:pass@host:port, or smtp://host:port with STARTTLS whenever offered.

    With a user and password, smtp:// requires STARTTLS: a server that does not offer it
    gets no password and no mail, unless the URL ends in ``?insecure_login=yes``.
    """

    url: str
    from_address: str = "no-reply@localhost"
    timeout: float = 30.0

    def send(self, message: EmailMessage) -> None:
        parts = urlsplit(self.url)
        host, secure = parts.hostname or "localhost", parts.scheme == "smtps"
        port = parts.port or (465 if secure else 25)
        client: smtplib.SMTP
        if secure:
            client = smtplib.SMTP_SSL(
                host, port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port, timeout=self.timeout)
        with client:
            encrypted = secure or _starttls(client)
            if parts.username:
                if not encrypted and PLAINTEXT_LOGIN_FLAG not in parse_qsl(parts.query):
                    raise InsecureLogin
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(message)


UNSENDABLE = "unsendable: "


def _starttls(client: smtplib.SMTP) -> bool:
    client.ehlo_or_helo_if_needed()
    if not client.has_extn("starttls"):
        return False
    client.starttls(context=ssl.create_default_context())
    return True


def compose(row: OutboxMessage, from_address: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = row.to_address
    message["Subject"] = row.subject
    # The queued time, already rounded for reporter-triggered mail, not the sending time.
    message["Date"] = format_datetime(row.created_at.replace(tzinfo=None), usegmt=False)
    message.set_content(row.body)
    return message


class Delivery:
    """One worker of the delivery job; several may run at once against one database."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        sender: Sender,
        *,
        server_secret: bytes,
        from_address: str = "no-reply@localhost",
        worker: str | None = None,
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.sender = sender
        # To release the held mentions of the hour before delivering (see `_claim`).
        self.server_secret = server_secret
        self.from_address = from_address
        self.worker = worker or new_id()

    def run_once(self) -> int:
        """Claim and send one batch; returns how many were sent."""
        claim = f"{self.worker}:{new_id()[:12]}"
        rows = self._claim(claim)
        sent = 0
        for row in rows:
            error = self._send(row)
            self._finish(row.id, claim, error)
            sent += error is None
        return sent

    def drain(self, limit: int = 100) -> int:
        total = 0
        for _ in range(limit):
            sent = self.run_once()
            if not sent:
                break
            total += sent
        return total

    def _claim(self, claim: str) -> list[OutboxMessage]:
        now = self.clock.now()
        free = or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now)
        with unit_of_work(self.factory) as db:
            due = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now, free
                )
                .order_by(OutboxMessage.next_attempt_at)
                .limit(BATCH)
            )
            ids = list(db.scalars(due))
            if not ids:
                return []
            # A reporter's later message or file that names someone on the case takes the
            # case from them at its hour, and withdraws their mails of that hour: release
            # those first, in this transaction, so no "there is news" mail reaches the person
            # named, whichever process runs the jobs round (cases/access/held.py).
            release_mentions(db, self.clock, self.server_secret, now)
            # A "new case" or "there is news" mail is due at the hour its case (or file) is
            # listed from: list them first, in this transaction, so no mail ever goes out
            # about something staff cannot see yet, whichever process runs the jobs round.
            release_arrivals(db, now)
            # The lease condition is repeated in the UPDATE itself: a row another worker
            # claimed between the SELECT and here no longer matches and is skipped.
            db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "pending", free)
                .values(lease_owner=claim, lease_until=now + timedelta(seconds=LEASE_SECONDS))
                .execution_options(synchronize_session=False)
            )
            stmt = select(OutboxMessage).where(OutboxMessage.lease_owner == claim)
            rows = list(db.scalars(stmt))
            for row in rows:
                db.expunge(row)
            return rows

    def _send(self, row: OutboxMessage) -> str | None:
        try:
            message = compose(row, self.from_address)
        except (ValueError, TypeError) as exc:
            # A header that cannot be written (a line break in an address): this message
            # fails for good, alone; the rest of the outbox goes on.
            return UNSENDABLE + type(exc).__name__
        try:
            self.sender.send(message)
        except (OSError, smtplib.SMTPException) as exc:
            # The class name only: server replies can echo addresses back.
            return type(exc).__name__
        return None

    def _finish(self, message_id: str, claim: str, error: str | None) -> None:
        with unit_of_work(self.factory) as db:
            row = db.get(OutboxMessage, message_id)
            if row is None or row.lease_owner != claim:
                return
            now = self.clock.now()
            row.attempts += 1
            row.lease_owner, row.lease_until = None, None
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
            else:
                row.last_error = error
                row.next_attempt_at = now + backoff(row.attempts)
                if row.attempts >= MAX_ATTEMPTS or error.startswith(UNSENDABLE):
                    row.status = "failed"


def finish_job(db: Session, name: str, now: datetime) -> None:
    """Note that a round of the job finished, in the round's own transaction."""
    db.execute(
        update(JobLease)
        .where(JobLease.name == name)
        .values(finished_at=now)
        .execution_options(synchronize_session=False)
    )


def acquire_job(db: Session, name: str, owner: str, now: datetime, seconds: int) -> bool:
    """Take (or renew) the named job's lease if it is free or already ours."""
    until = now + timedelta(seconds=seconds)
    result = db.execute(
        update(JobLease)
        .where(JobLease.name == name, or_(JobLease.until < now, JobLease.owner == owner))
        .values(owner=owner, until=until)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount or 0):  # type: ignore[attr-defined]
        return True
    if db.get(JobLease, name) is not None:
        return False
    try:
        with db.begin_nested():
            db.add(JobLease(name=name, owner=owner, until=until))
    except IntegrityError:
        return False
    return True
