"""`portal doctor`: the checks a real deployment needs, each problem printed with its fix.

It reads the configuration and the database as they are, and changes nothing: it does not
apply migrations (a pending one is a finding), create a secret or touch a file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from cases.audit.service import AuditLog
from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.keytrust import untrusted_rows
from cases.org.recovery import RecoveryService
from cases.org.service import OrgService
from portal.export_font import ExportFontMissing, find_font
from portal.migrations import pending
from portal.settings import Settings, is_loopback_url

# More than this between this machine's clock and the database's is a problem: deadlines,
# TOTP codes and session expiry all read the clock.
CLOCK_SKEW_SECONDS = 60


@dataclass(frozen=True)
class Finding:
    """One check's result: ``problem`` empty when it passed; ``fix`` says what to do."""

    check: str
    problem: str = ""
    fix: str = ""
    passed: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


ConfigCheck = Callable[[Settings, Mapping[str, str]], Iterator[Finding]]
DatabaseCheck = Callable[[Settings, Engine], Iterator[Finding]]


def run_checks(settings: Settings, environ: Mapping[str, str]) -> list[Finding]:
    """Every check, in order; the database ones only once the database can be reached."""
    config: tuple[ConfigCheck, ...] = (
        _base_url,
        _secret,
        _data_dir,
        _smtp,
        _metrics,
        _export_font,
    )
    stored: tuple[DatabaseCheck, ...] = (
        _clock,
        _server_records,
        _recovery_key,
        _investigators,
        _integrity,
    )
    findings = [finding for check in config for finding in check(settings, environ)]
    engine = make_engine(settings.database_url)
    try:
        # Each step needs the one before: a database that answers, then the current schema.
        for step in (_database, _migrations):
            found = list(step(settings, engine))
            findings.extend(found)
            if not all(f.ok for f in found):
                return findings
        findings.extend(finding for check in stored for finding in check(settings, engine))
    finally:
        engine.dispose()
    return findings


def _base_url(settings: Settings, _env: Mapping[str, str]) -> Iterator[Finding]:
    name = "public address"
    if settings.https:
        yield Finding(name, passed=f"PORTAL_BASE_URL is {settings.base_url}")
    elif settings.insecure_http:
        yield Finding(
            name,
            "the portal is set to --insecure-http trial mode",
            "never take real reports so: serve behind TLS (docs/deploy.md) and drop "
            "PORTAL_INSECURE_HTTP",
        )
    else:
        where = "this machine only" if is_loopback_url(settings.base_url) else "plain HTTP"
        yield Finding(
            name,
            f"PORTAL_BASE_URL is {settings.base_url} ({where}), not https://",
            "put the portal behind a TLS proxy (Caddy or nginx, docs/deploy.md) and set "
            "PORTAL_BASE_URL to its https:// address",
        )


def _secret(settings: Settings, env: Mapping[str, str]) -> Iterator[Finding]:
    name = "server secret"
    if env.get("PORTAL_SECRET_KEY"):
        yield Finding(name, passed="set from the environment, outside the data directory")
        return
    named = env.get("PORTAL_SECRET_KEY_FILE")
    if named:
        if _inside(Path(named).resolve(), settings.data_dir):
            yield Finding(
                name,
                f"PORTAL_SECRET_KEY_FILE {named} is inside the data directory",
                "keep the secret apart from what you back up (docs/deploy.md: /etc/portal)",
            )
        elif Path(named).stat().st_mode & 0o077:
            yield Finding(name, f"{named} is readable by others", f"chmod 400 {named}")
        else:
            yield Finding(name, passed=f"read from {named}, outside the data directory")
        return
    path = settings.data_dir / "secret.key"
    database = _sqlite_path(settings.database_url)
    if database is not None and _inside(database, settings.data_dir):
        yield Finding(
            name,
            f"the secret is in {path}, next to the database: one copy of the data "
            "directory carries both",
            "keep it apart from what you back up: set PORTAL_SECRET_KEY from a file outside "
            "the data directory (systemd LoadCredential, docs/deploy.md) and use `portal "
            "backup`, which never includes it",
        )
        return
    yield Finding(name, passed=f"in {path}; the database is elsewhere")


def _data_dir(settings: Settings, _env: Mapping[str, str]) -> Iterator[Finding]:
    name = "data directory"
    directory = settings.data_dir
    if not directory.exists():
        yield Finding(name, f"{directory} does not exist", "run `portal migrate` once")
        return
    loose = [p for p in _private_files(directory) if p.stat().st_mode & 0o077]
    if loose:
        shown = ", ".join(str(p) for p in loose[:5])
        yield Finding(
            name,
            f"readable or writable by other users: {shown}",
            f"chmod 700 {directory} and chmod 600 the files in it; run the portal as its own "
            "user (docs/deploy.md)",
        )
        return
    if directory.stat().st_uid != os.getuid():
        yield Finding(
            name,
            f"{directory} belongs to another user",
            f"chown -R the portal's user {directory}",
        )
        return
    yield Finding(name, passed=f"{directory} is private to its owner")


def _private_files(directory: Path) -> Iterator[Path]:
    yield directory
    for path in directory.iterdir():
        if path.is_file() and not stat.S_ISLNK(path.lstat().st_mode):
            yield path


def _smtp(settings: Settings, _env: Mapping[str, str]) -> Iterator[Finding]:
    name = "mail"
    if settings.smtp_url is None:
        yield Finding(
            name,
            "PORTAL_SMTP_URL is unset: staff get no mail about new reports or deadlines",
            "set PORTAL_SMTP_URL=smtps://user:password@host:465",
        )
        return
    parts = urlsplit(settings.smtp_url.reveal().decode())
    host = parts.hostname or ""
    if parts.scheme == "smtps" or host in {"localhost", "127.0.0.1", "::1"}:
        yield Finding(name, passed=f"{parts.scheme}:// to {host}")
        return
    yield Finding(
        name,
        f"smtp://{host} may send mail in the clear (STARTTLS is used only when offered)",
        f"use smtps://…@{host}:465, or a relay on this machine (smtp://127.0.0.1)",
    )


def _metrics(settings: Settings, _env: Mapping[str, str]) -> Iterator[Finding]:
    if settings.metrics_token is None:
        yield Finding("metrics", passed="/metrics is off (PORTAL_METRICS_TOKEN unset)")
    else:
        yield Finding("metrics", passed="/metrics answers only its bearer token")


def _export_font(settings: Settings, _env: Mapping[str, str]) -> Iterator[Finding]:
    """PDF case exports embed a CJK font: without one every export fails."""
    try:
        path, _index = find_font(settings.export_font)
    except ExportFontMissing as exc:
        yield Finding(
            "export font",
            str(exc),
            "apt install fonts-wqy-zenhei, or set PORTAL_EXPORT_FONT to a .ttf/.ttc file",
        )
        return
    yield Finding("export font", passed=f"PDF case exports embed {path}")


def _database(_s: Settings, engine: Engine) -> Iterator[Finding]:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure: say which kind, never the URL's password
        yield Finding(
            "database",
            f"cannot be reached ({type(exc).__name__})",
            "check PORTAL_DATABASE_URL and that the database server runs",
        )
        return
    yield Finding("database", passed=f"reachable ({engine.dialect.name})")


def _migrations(_s: Settings, engine: Engine) -> Iterator[Finding]:
    if pending(engine):
        yield Finding("migrations", "the database is behind this version", "run `portal migrate`")
    else:
        yield Finding("migrations", passed="the schema is current")


def _clock(_s: Settings, engine: Engine) -> Iterator[Finding]:
    name = "clock"
    here = datetime.now(UTC).replace(tzinfo=None)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            theirs = connection.execute(text("SELECT now() AT TIME ZONE 'UTC'")).scalar_one()
        skew = abs((here - theirs).total_seconds())
        if skew > CLOCK_SKEW_SECONDS:
            yield Finding(
                name,
                f"this machine and the database differ by {skew:.0f} s",
                "run NTP (systemd-timesyncd or chrony) on every host",
            )
            return
    if here.year < 2025:
        yield Finding(name, f"the clock says {here:%Y-%m-%d}", "set the time and run NTP")
        return
    yield Finding(name, passed=f"{here:%Y-%m-%d %H:%M} UTC")


# PostgreSQL settings that would date every reporter's request outside the portal's rows:
# each commit's time, or the statements themselves (with their values) in the server's log.
# The name, the values that are safe, and what to set.
SERVER_RECORDS = (
    ("track_commit_timestamp", {"off"}, "track_commit_timestamp = off"),
    ("log_statement", {"none", "ddl"}, "log_statement = 'ddl'"),
    ("log_min_duration_statement", {"-1"}, "log_min_duration_statement = -1"),
    ("log_min_duration_sample", {"-1"}, "log_min_duration_sample = -1"),
)


def _server_records(_s: Settings, engine: Engine) -> Iterator[Finding]:
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        values = {
            name: str(connection.execute(text(f"SHOW {name}")).scalar_one())
            for name, _safe, _fix in SERVER_RECORDS
        }
    yield from postgres_records(values)


def postgres_records(values: Mapping[str, str]) -> Iterator[Finding]:
    """Findings for PostgreSQL's own records of when statements ran (`SHOW` values)."""
    wrong = [
        (name, fix)
        for name, safe, fix in SERVER_RECORDS
        if name in values and values[name].lower() not in safe
    ]
    for name, fix in wrong:
        yield Finding(
            "database records",
            f"{name} is {values[name]}: PostgreSQL would keep the time of each reporter's request",
            f"set {fix} in postgresql.conf (docs/deploy.md) and reload PostgreSQL",
        )
    if not wrong:
        yield Finding("database records", passed="PostgreSQL keeps no commit times or statements")


def _recovery_key(settings: Settings, engine: Engine) -> Iterator[Finding]:
    name = "recovery key"
    factory = session_factory(engine, settings.secret_key.reveal())
    with unit_of_work(factory) as db:
        key = RecoveryService(db, settings.secret_key.reveal()).active()
    if key is None:
        yield Finding(
            name,
            "none is set: a case whose investigators all leave can never be opened again",
            "run `portal setup` (or the first-run setup page) and keep the private half offline",
        )
    elif not settings.recovery_key_fingerprint:
        yield Finding(
            name,
            "set, but not pinned: someone with database access could swap it",
            "set PORTAL_RECOVERY_KEY_FINGERPRINT to the fingerprint `portal setup` printed",
        )
    else:
        yield Finding(name, passed="set and pinned")


def _investigators(settings: Settings, engine: Engine) -> Iterator[Finding]:
    factory = session_factory(engine, settings.secret_key.reveal())
    with unit_of_work(factory) as db:
        empty = [channel.name_en for channel in OrgService(db).unstaffed_channels()]
    if empty:
        yield Finding(
            "investigators",
            "no enrolled investigator can read new reports of: " + ", ".join(empty),
            "add an investigator to each (Admin → Staff), have them enrol, and approve them",
        )
    else:
        yield Finding("investigators", passed="every active channel has one")


def _integrity(settings: Settings, engine: Engine) -> Iterator[Finding]:
    secret = settings.secret_key.reveal()
    with unit_of_work(session_factory(engine, secret)) as db:
        untrusted = untrusted_rows(db, secret, settings.recovery_key_fingerprint)
        chain = AuditLog(db, SystemClock(), secret).verify()
    for row in untrusted:
        yield Finding(
            "key rows",
            f"KEY ROW REFUSED: {row.describe()}",
            "a key or grant was written outside the portal: investigate, restore from backup",
        )
    if not untrusted:
        yield Finding("key rows", passed="every public key and pending grant carries a valid MAC")
    if chain.ok:
        yield Finding("audit trail", passed=f"intact ({chain.checked} entries)")
    else:
        yield Finding(
            "audit trail",
            f"BROKEN at entry {chain.first_bad_seq}: {chain.problem}",
            "keep the database as it is for investigation; compare with a backup",
        )


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database).resolve()


def _inside(path: Path, directory: Path) -> bool:
    return path.is_relative_to(directory.resolve())


def report(findings: list[Finding]) -> tuple[list[str], int]:
    """The lines to print and the exit status (1 when any check found a problem)."""
    lines = []
    for finding in findings:
        if finding.ok:
            lines.append(f"ok       {finding.check}: {finding.passed}")
        else:
            lines.append(f"PROBLEM  {finding.check}: {finding.problem}")
            lines.append(f"         fix: {finding.fix}")
    problems = sum(not f.ok for f in findings)
    lines.append(f"portal doctor: {problems} problem(s)" if problems else "portal doctor: all good")
    return lines, 1 if problems else 0
