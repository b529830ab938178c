"""Log lines about reporters' requests wait for their hour to end.

Every log line is stamped with the moment it is written (by the `logging` record, and again
by journald or whatever collects the process's output). A line such as "CSRF refusal on POST
/report" written at 09:20:13 tells whoever reads the logs that someone tried to file a report
at 09:20:13, which is what DESIGN.md forbids ("No ... exact time of any reporter action is
stored or logged anywhere"). So a line caused by a request outside the staff areas (the same
split as the metrics, `portal.areas.published_at_once`) is not written then: it is counted,
and once the hour is over the process writes each distinct line once, with how many times it
came during that hour. Staff requests are logged at once.

Libraries that log as they read a request's body are held whole (`hold_logger`): the
multipart parser warns about a malformed upload, which a reporter's dropped connection
makes. Held lines live in the process's memory: a process killed before its hour is over loses
them, which a log can afford and a reporter's time cannot.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from portal.areas import published_at_once

OUT = logging.getLogger("portal.held_log")
Line = tuple[str, int, str]  # logger name, level, message with its arguments filled in


class HeldLog:
    """The lines held in this process, counted per distinct line."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: Counter[Line] = Counter()

    def log(self, path: str, logger: logging.Logger, level: int, msg: str, *args: object) -> None:
        """Log at once for a staff path; otherwise hold the line until the hour is over."""
        if published_at_once(path):
            logger.log(level, msg, *args)
            return
        self.hold(logger.name, level, msg % args if args else msg)

    def hold(self, name: str, level: int, message: str) -> None:
        with self._lock:
            self._lines[(name, level, message)] += 1

    def flush(self, hour_ended: datetime) -> int:
        """Write every held line once, with its count; returns how many distinct lines."""
        with self._lock:
            lines, self._lines = self._lines, Counter()
        for (name, level, message), count in sorted(lines.items()):
            # Through a logger of its own: a library's logger would hold the line again.
            OUT.log(
                level,
                "%s: %s (%d time%s on reporter pages in the hour before %s UTC)",
                name,
                message,
                count,
                "" if count == 1 else "s",
                f"{hour_ended:%Y-%m-%d %H:00}",
            )
        return len(lines)

    def held(self) -> int:
        with self._lock:
            return sum(self._lines.values())


HELD = HeldLog()


class _Hold(logging.Filter):
    """Diverts every record of the logger it is on into the held lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        HELD.hold(record.name, record.levelno, record.getMessage())
        return False


def hold_logger(name: str) -> None:
    """Hold every line of a library's logger whose lines come from reporters' requests (the
    multipart parser warns about each malformed upload as it reads it)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, _Hold) for f in logger.filters):
        logger.addFilter(_Hold())


def next_hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


class HourlyFlush:
    """A daemon thread that writes the held lines at each full hour, and once more at stop."""

    def __init__(self, held: HeldLog = HELD) -> None:
        self.held = held
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="portal-held-log", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.held.flush(next_hour(_utcnow()))

    def _run(self) -> None:
        while True:
            hour = next_hour(_utcnow())
            wait = (hour - _utcnow()).total_seconds()
            if self._stop.wait(max(wait, 0.0)):
                return
            self.held.flush(hour)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
