"""Prometheus metrics that identify no one and date no reporter's visit.

Two rules shape every series:

- Labels come from fixed sets only: the route *template* (``/api/v1/cases/{case_id}``, never
  the path), the method (one of the HTTP methods, else ``other``) and the status code. No id,
  receipt, address or e-mail can become a label; a path no route matches is ``unmatched``.
- A reporter's request must not be datable from the metrics: a counter that ticks at 14:03
  tells whoever reads Prometheus when a report came in, which is exactly what the database
  refuses to store (reporter rows keep the day, audit entries are held until the day ends).
  So requests outside the staff areas are counted in a held set that joins the published
  series only after the local day is over, the way the audit log holds reporters' entries.
  Staff requests are published at once.

The database gauges follow the same rule: the outbox counts only mails already due (a mail
a report caused is dated to the next full hour), and reports are counted per finished day.

Each process keeps its own counters (Prometheus scrapes each process, as it does any
multi-process service); the database gauges are the same in every process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cases.clock import Clock, SystemClock, local_day
from cases.notify.models import JobLease, OutboxMessage
from cases.notify.service import TEAM_MAIL_KINDS
from cases.reports.models import Case
from portal.areas import published_at_once

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
# Requests that are part of no one's visit: counted live.

Key = tuple[str, str, str]  # method, route template, status


@dataclass
class Series:
    """One histogram: observations by upper bound, their count and their sum."""

    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: int = 0
    seconds: float = 0.0

    def observe(self, seconds: float) -> None:
        self.total += 1
        self.seconds += seconds
        for index, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.counts[index] += 1

    def add(self, other: Series) -> None:
        self.total += other.total
        self.seconds += other.seconds
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]


class Registry:
    """The process's request histograms: the published ones and the day's held ones."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._lock = threading.Lock()
        self._published: dict[Key, Series] = {}
        self._held: dict[Key, Series] = {}
        self._held_day: date | None = None

    def observe(self, key: Key, seconds: float, *, held: bool, now: datetime) -> None:
        today = local_day(now, self.zone)
        with self._lock:
            self._release(today)
            if held:
                self._held_day = today
            target = self._held if held else self._published
            target.setdefault(key, Series()).observe(seconds)

    def published(self, now: datetime) -> dict[Key, Series]:
        """A copy of what may be shown now (held series whose day is over are joined first)."""
        today = local_day(now, self.zone)
        with self._lock:
            self._release(today)
            copies = {}
            for key, series in self._published.items():
                copy = Series()
                copy.add(series)
                copies[key] = copy
            return copies

    def _release(self, today: date) -> None:
        if self._held_day is None or self._held_day >= today:
            return
        for key, series in self._held.items():
            self._published.setdefault(key, Series()).add(series)
        self._held.clear()
        self._held_day = None


class Metrics:
    """Pure ASGI middleware: times each HTTP request under its route template and status."""

    def __init__(self, app: ASGIApp, registry: Registry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.registry.observe(
                _key(scope, status),
                time.perf_counter() - started,
                held=not published_at_once(scope["path"]),
                now=_clock(scope).now(),
            )


def _clock(scope: Scope) -> Clock:
    """The app's clock (a test may set ``app.state.clock``), else the system's."""
    app = scope.get("app")
    clock: Clock | None = getattr(getattr(app, "state", None), "clock", None)
    return clock or SystemClock()


def _key(scope: Scope, status: int) -> Key:
    method = scope["method"] if scope["method"] in METHODS else "other"
    template = getattr(scope.get("route"), "path", None)
    return method, template if isinstance(template, str) and template else UNMATCHED, str(status)


@dataclass(frozen=True)
class DatabaseGauges:
    """What the database says: the outbox, its lag, reports of finished days."""

    outbox_due: int
    outbox_failed: int
    outbox_oldest_due_seconds: float
    reports_previous_day: int
    reports_previous_7_days: int
    # Seconds since each background job last finished a round, in any process (job name:
    # a fixed word, never an id). A job that never ran has no entry.
    job_lag_seconds: dict[str, float] = field(default_factory=dict)


def database_gauges(db: Session, now: datetime, zone: ZoneInfo) -> DatabaseGauges:
    """The gauges read at scrape time; none can date a report to less than a day."""
    due = (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now)
    oldest = db.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(due))
    # A case's mails to its team count as one per kind and queued time, as on the admin
    # pages: how many one report made, against a known team, would tell who it keeps away.
    team = OutboxMessage.kind.in_(sorted(TEAM_MAIL_KINDS))
    singles = db.scalar(select(func.count()).where(due, ~team)) or 0
    groups = select(OutboxMessage.kind, OutboxMessage.created_at).where(due, team).distinct()
    due_count = singles + (db.scalar(select(func.count()).select_from(groups.subquery())) or 0)
    failed = db.scalar(select(func.count()).where(OutboxMessage.status == "failed")) or 0
    today = local_day(now, zone)
    yesterday = today - timedelta(days=1)
    week_ago = today - timedelta(days=7)
    previous = db.scalar(select(func.count()).where(Case.submitted_on == yesterday)) or 0
    week = (
        db.scalar(
            select(func.count()).where(Case.submitted_on >= week_ago, Case.submitted_on < today)
        )
        or 0
    )
    lag = (now - oldest).total_seconds() if oldest is not None else 0.0
    jobs = {
        name: max((now - finished).total_seconds(), 0.0)
        for name, finished in db.execute(select(JobLease.name, JobLease.finished_at))
        if finished is not None
    }
    return DatabaseGauges(
        int(due_count), int(failed), max(lag, 0.0), int(previous), int(week), jobs
    )


def render(series: dict[Key, Series], gauges: DatabaseGauges, job_round_age: float) -> str:
    """The Prometheus text exposition format (version 0.0.4)."""
    lines = [
        "# HELP portal_requests_total HTTP requests by route template, method and status.",
        "# TYPE portal_requests_total counter",
    ]
    ordered = sorted(series.items())
    for (method, route, status), item in ordered:
        lines.append(f"portal_requests_total{{{_labels(method, route, status)}}} {item.total}")
    lines += [
        "# HELP portal_request_seconds Time to answer, by route template and method.",
        "# TYPE portal_request_seconds histogram",
    ]
    for (method, route), item in _by_route(ordered):
        labels = _labels(method, route)
        for bound, count in zip(BUCKETS, item.counts, strict=True):
            lines.append(f'portal_request_seconds_bucket{{{labels},le="{bound}"}} {count}')
        lines.append(f'portal_request_seconds_bucket{{{labels},le="+Inf"}} {item.total}')
        lines.append(f"portal_request_seconds_sum{{{labels}}} {item.seconds:.6f}")
        lines.append(f"portal_request_seconds_count{{{labels}}} {item.total}")
    lines += _gauges(gauges, job_round_age)
    return "\n".join(lines) + "\n"


def _gauges(gauges: DatabaseGauges, job_round_age: float) -> list[str]:
    rows = (
        (
            "portal_outbox_due",
            "Mails due for delivery now (a case's mails to its team: one per kind and hour).",
            gauges.outbox_due,
        ),
        ("portal_outbox_failed", "Mails that failed for good.", gauges.outbox_failed),
        (
            "portal_outbox_lag_seconds",
            "How long the oldest due mail has waited.",
            round(gauges.outbox_oldest_due_seconds, 3),
        ),
        (
            "portal_job_round_age_seconds",
            "Seconds since this process last finished a background-job round (-1: none yet).",
            round(job_round_age, 3),
        ),
        (
            "portal_reports_previous_day",
            "Reports filed on the previous local day (the current day is never counted).",
            gauges.reports_previous_day,
        ),
        (
            "portal_reports_previous_7_days",
            "Reports filed on the seven local days before today.",
            gauges.reports_previous_7_days,
        ),
    )
    lines: list[str] = []
    for name, help_text, value in rows:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value}"]
    lines += [
        "# HELP portal_job_lag_seconds Seconds since the job last finished a round, in any "
        "process (read from the database).",
        "# TYPE portal_job_lag_seconds gauge",
    ]
    for job, seconds in sorted(gauges.job_lag_seconds.items()):
        lines.append(f'portal_job_lag_seconds{{job="{_escape(job)}"}} {round(seconds, 3)}')
    return lines


def _by_route(ordered: Iterable[tuple[Key, Series]]) -> list[tuple[tuple[str, str], Series]]:
    merged: dict[tuple[str, str], Series] = {}
    for (method, route, _status), item in ordered:
        merged.setdefault((method, route), Series()).add(item)
    return sorted(merged.items())


def _labels(method: str, route: str, status: str | None = None) -> str:
    parts = [f'method="{method}"', f'route="{_escape(route)}"']
    if status is not None:
        parts.append(f'status="{status}"')
    return ",".join(parts)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
