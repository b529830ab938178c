"""The one place that reads the environment: turns it into a frozen Settings."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class SettingsError(ValueError):
    """A setting is missing, malformed or not allowed here."""


class Secret:
    """A value that never shows itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = value

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))


KDF_PROFILES_ALLOWED_IN_PRODUCTION = ("owasp", "strong")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Size, time and throttle limits; defaults are documented in README.md."""

    max_json_body: int = 256 * 1024
    max_form_body: int = 512 * 1024
    # One text field of a form (ordinary or with files); the body limit caps the whole form.
    max_form_field: int = 64 * 1024
    # A request body that stops arriving for this long is dropped (the connection closed).
    body_timeout_seconds: float = 30
    # PDF and Office files up to this size lose their metadata; larger ones are kept unchanged
    # (and marked "metadata not removed"): cleaning holds the whole file in memory.
    clean_max_bytes: int = 20 * MIB
    upload_max_file: int = 1024 * MIB
    upload_max_report: int = 2048 * MIB
    upload_max_files: int = 20
    # Plaintext bytes per encrypted chunk row of a new file (a file keeps the size it was
    # written with: its stream header says it). 256 KiB rather than 64 KiB: a quarter of the
    # rows, and the upload's writer thread spends ~20% less CPU per GiB (docs/architecture.md).
    chunk_size: int = 256 * 1024
    staff_session_idle: int = 30 * 60
    staff_session_absolute: int = 12 * 3600
    reporter_session_idle: int = 15 * 60
    reporter_session_absolute: int = 2 * 3600
    receipt_failures_per_selector: int = 5
    receipt_window_seconds: int = 15 * 60
    login_failures_per_account: int = 10
    login_window_seconds: int = 15 * 60
    # Above this many reports per channel in an hour, new ones are marked "arrived during a
    # flood" and listed apart; none is ever refused for volume.
    reports_per_channel_per_hour: int = 20
    flood_evidence_quota: int = 1024 * MIB
    reward_offer_days: int = 90
    unlinked_upload_grace_seconds: int = 6 * 3600
    # Evidence a reporter may add after filing: a total per case and files per day.
    evidence_max_case: int = 4096 * MIB
    evidence_files_per_day: int = 20


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    base_url: str
    secret_key: Secret
    timezone: ZoneInfo
    smtp_url: Secret | None = None
    kdf_profile: str = "owasp"
    testing: bool = False
    limits: Limits = field(default_factory=Limits)
    # Background jobs (outbox, reminders, sweeps) run in the app's lifespan; tests opt in.
    run_jobs: bool = True
    job_interval_seconds: int = 60
    # PORTAL_RECOVERY_KEY_FINGERPRINT: pins the recovery key; any other one is refused.
    recovery_key_fingerprint: str = ""
    # `portal serve --insecure-http` (PORTAL_INSECURE_HTTP=1): a trial on plain HTTP at a
    # non-local address. Cookies lose their __Host- name and Secure flag; every page says so.
    insecure_http: bool = False
    # PORTAL_METRICS_TOKEN: /metrics answers only a request bearing it (404 while unset).
    metrics_token: Secret | None = None
    # PORTAL_ONION_URL: the onion service's address; reporter pages announce it to Tor Browser.
    onion_url: str = ""
    # PORTAL_MAIL_FROM: the From of every mail; no-reply@ the base URL's host by default.
    mail_from: str = "no-reply@localhost"
    # PORTAL_EXPORT_FONT: the CJK TrueType font PDF case exports embed (portal/export_pdf.py);
    # unset, the Debian fonts-wqy-zenhei or fonts-noto-cjk file is used.
    export_font: Path | None = None

    def __post_init__(self) -> None:
        if self.kdf_profile not in KDF_PROFILES_ALLOWED_IN_PRODUCTION and not self.testing:
            raise SettingsError(f"key-derivation profile {self.kdf_profile!r} is for tests only")

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure (browsers keep them on http://127.0.0.1 and localhost), except in
        the ``--insecure-http`` trial mode."""
        return not self.insecure_http

    def check_serving(self) -> None:
        """Refuses a base URL whose browsers would drop every cookie, so every form would fail.

        ``__Host-`` cookies need ``Secure``, which browsers accept only over HTTPS or on a
        loopback address (localhost, 127.0.0.1, ::1). The ``--insecure-http`` trial mode is
        the one way past this check.
        """
        if self.insecure_http or self.https or is_loopback_url(self.base_url):
            return
        raise SettingsError(PLAIN_HTTP_REFUSED.format(base_url=self.base_url))

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("PORTAL_DATA_DIR", "./var")).resolve()
        database_url = env.get("PORTAL_DATABASE_URL") or f"sqlite:///{data_dir / 'portal.db'}"
        smtp = env.get("PORTAL_SMTP_URL")
        base_url = env.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            base_url=base_url,
            secret_key=_secret_key(_secret_from(env), data_dir),
            timezone=_zone(env.get("PORTAL_TIMEZONE", "Asia/Shanghai")),
            smtp_url=Secret(smtp.encode()) if smtp else None,
            kdf_profile=env.get("PORTAL_KDF_PROFILE", "owasp"),
            limits=_limits(env),
            run_jobs=env.get("PORTAL_RUN_JOBS", "1") != "0",
            job_interval_seconds=_positive(env, "PORTAL_JOB_INTERVAL_SECONDS", 60),
            recovery_key_fingerprint=env.get("PORTAL_RECOVERY_KEY_FINGERPRINT", "").strip(),
            insecure_http=env.get("PORTAL_INSECURE_HTTP", "0") == "1",
            metrics_token=_metrics_token(env.get("PORTAL_METRICS_TOKEN", "")),
            onion_url=_onion_url(env.get("PORTAL_ONION_URL", "")),
            mail_from=_mail_from(env.get("PORTAL_MAIL_FROM", ""), base_url),
            export_font=Path(font) if (font := env.get("PORTAL_EXPORT_FONT", "").strip()) else None,
        )

    @classmethod
    def for_tests(
        cls, data_dir: Path, database_url: str | None = None, **overrides: Any
    ) -> Settings:
        """Settings a test builds directly; the only way to reach the cheap 'test' KDF profile."""
        base = cls(
            data_dir=data_dir,
            database_url=database_url or f"sqlite:///{data_dir / 'portal.db'}",
            base_url="https://testserver",
            secret_key=Secret(b"t" * 32),
            timezone=ZoneInfo("Asia/Shanghai"),
            kdf_profile="test",
            testing=True,
            run_jobs=False,
        )
        return replace(base, **overrides)


PLAIN_HTTP_REFUSED = (
    "PORTAL_BASE_URL is {base_url}: plain HTTP at an address other than localhost. Browsers "
    "drop the portal's __Host- cookies there (they need HTTPS), so every form would fail with "
    "'this form has expired'. Serve the portal behind TLS (a reverse proxy such as nginx or "
    "Caddy terminating HTTPS, forwarding to portal serve on 127.0.0.1) and set PORTAL_BASE_URL "
    "to its https:// address (README, 'Serving behind TLS'); or use http://127.0.0.1 or "
    "http://localhost; or, for a short trial with made-up reports only, add --insecure-http."
)

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback_url(url: str) -> bool:
    """Whether the URL names this machine: localhost, *.localhost, 127.0.0.0/8 or ::1."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host in _LOOPBACK_HOSTS or host.endswith(".localhost"):
        return True
    parts = host.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(p.isdigit() for p in parts)


def _positive(env: Mapping[str, str], var: str, default: int) -> int:
    try:
        number = int(env.get(var, default))
    except ValueError as exc:
        raise SettingsError(f"{var} must be a whole number") from exc
    if number <= 0:
        raise SettingsError(f"{var} must be positive")
    return number


def _metrics_token(value: str) -> Secret | None:
    value = value.strip()
    if not value:
        return None
    if len(value) < 24:
        raise SettingsError("PORTAL_METRICS_TOKEN must be at least 24 characters")
    return Secret(value.encode())


def _onion_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if not value:
        return ""
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme not in {"http", "https"} or not host.endswith(".onion") or parts.path:
        raise SettingsError(
            "PORTAL_ONION_URL must be the onion service's address, such as http://<56 "
            "characters>.onion, with no path"
        )
    return value


_ADDRESS = re.compile(r"[^@\s<>\"(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def _mail_from(value: str, base_url: str) -> str:
    """The From address: PORTAL_MAIL_FROM, or no-reply@ the base URL's host name (a relay
    that checks the sender's domain refuses no-reply@localhost), or no-reply@localhost when
    the base URL names this machine or an IP address. A bare address only: no display name,
    which could carry a header break or tell the recipient more than "the portal"."""
    value = value.strip()
    if value:
        if not _ADDRESS.fullmatch(value):
            raise SettingsError(
                f"PORTAL_MAIL_FROM {value!r} is not a plain e-mail address such as "
                "no-reply@portal.example.com (no name, no angle brackets)"
            )
        return value
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    if not host or is_loopback_url(base_url) or host.replace(".", "").isdigit() or ":" in host:
        return "no-reply@localhost"
    return f"no-reply@{host}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"PORTAL_TIMEZONE {name!r} is not a known time zone") from exc


def _secret_from(env: Mapping[str, str]) -> str | None:
    """PORTAL_SECRET_KEY, or the contents of the file PORTAL_SECRET_KEY_FILE names (a systemd
    credential, for example), so the secret need not sit in an environment file."""
    path = env.get("PORTAL_SECRET_KEY_FILE")
    if env.get("PORTAL_SECRET_KEY") and path:
        raise SettingsError("set PORTAL_SECRET_KEY or PORTAL_SECRET_KEY_FILE, not both")
    if not path:
        return env.get("PORTAL_SECRET_KEY")
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise SettingsError(f"PORTAL_SECRET_KEY_FILE {path} cannot be read") from exc


def _secret_key(value: str | None, data_dir: Path) -> Secret:
    if value:
        if len(value) < 32:
            raise SettingsError("PORTAL_SECRET_KEY must be at least 32 characters")
        return Secret(value.encode())
    path = data_dir / "secret.key"
    if not path.exists():
        private_dir(data_dir)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    path.chmod(0o600)
    return Secret(path.read_text().strip().encode())


def private_dir(path: Path) -> None:
    """Makes the directory if needed and leaves it to its owner alone (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


_LIMIT_VARS = {
    "PORTAL_UPLOAD_MAX_FILE_MB": ("upload_max_file", MIB),
    "PORTAL_UPLOAD_MAX_REPORT_MB": ("upload_max_report", MIB),
    "PORTAL_UPLOAD_MAX_FILES": ("upload_max_files", 1),
    "PORTAL_BODY_TIMEOUT_SECONDS": ("body_timeout_seconds", 1),
    "PORTAL_CLEAN_MAX_MB": ("clean_max_bytes", MIB),
    "PORTAL_STAFF_SESSION_IDLE_MINUTES": ("staff_session_idle", 60),
    "PORTAL_STAFF_SESSION_ABSOLUTE_HOURS": ("staff_session_absolute", 3600),
    "PORTAL_REPORTER_SESSION_IDLE_MINUTES": ("reporter_session_idle", 60),
    "PORTAL_RECEIPT_FAILURES_PER_SELECTOR": ("receipt_failures_per_selector", 1),
    "PORTAL_LOGIN_FAILURES_PER_ACCOUNT": ("login_failures_per_account", 1),
    "PORTAL_REPORTS_PER_CHANNEL_PER_HOUR": ("reports_per_channel_per_hour", 1),
    "PORTAL_FLOOD_EVIDENCE_QUOTA_MB": ("flood_evidence_quota", MIB),
    "PORTAL_REWARD_OFFER_DAYS": ("reward_offer_days", 1),
    "PORTAL_EVIDENCE_MAX_CASE_MB": ("evidence_max_case", MIB),
    "PORTAL_EVIDENCE_FILES_PER_DAY": ("evidence_files_per_day", 1),
}


def _limits(env: Mapping[str, str]) -> Limits:
    values: dict[str, int] = {}
    for var, (name, unit) in _LIMIT_VARS.items():
        if var in env:
            try:
                number = int(env[var])
            except ValueError as exc:
                raise SettingsError(f"{var} must be a whole number") from exc
            if number <= 0:
                raise SettingsError(f"{var} must be positive")
            values[name] = number * unit
    return Limits(**values)
