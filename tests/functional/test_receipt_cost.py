"""What a receipt check costs, counted on the KDF production runs (app.state.deps.receipt_kdf).

Both logins the reporter has, the API session and the status page form, are sent over HTTP;
the count is read from the app's one ReceiptKdf, so a login path that skipped it, derived on
its own, or treated an unknown selector differently from a wrong verifier fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from support.reporter_http import form_tokens, report_body, seed

import crypto
from portal.settings import Limits, Settings

PER_SELECTOR = 3


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    """A per-selector limit small enough to reach in a few tries."""
    limits = Limits(receipt_failures_per_selector=PER_SELECTOR)
    return Settings.for_tests(data_dir, database_url, limits=limits)


def by_api(client: Any, receipt: str) -> int:
    answer = client.post("/api/v1/reporter/session", json={"receipt": receipt})
    return int(answer.status_code)


def by_page(client: Any, receipt: str) -> int:
    csrf = form_tokens(client)["csrf"]
    answer = client.post("/status", data={"csrf": csrf, "receipt": receipt}, follow_redirects=False)
    return int(answer.status_code)


LOGINS = {"api": by_api, "page": by_page}


def filed_receipt(client: Any, app_db: sessionmaker[Session]) -> crypto.Receipt:
    answer = client.post("/api/v1/reports", json=report_body(seed(app_db)))
    assert answer.status_code == 201, answer.text
    return crypto.parse_receipt(answer.json()["receipt"])


def costs(app: Any, send: Callable[[], int]) -> tuple[int, int]:
    """The answer's status and how many Argon2id runs the app's receipt KDF made for it."""
    before = app.state.deps.receipt_kdf.derivations
    status = send()
    return status, app.state.deps.receipt_kdf.derivations - before


@pytest.mark.parametrize("way", sorted(LOGINS))
def test_unknown_selector_costs_one_derivation_like_a_wrong_verifier(
    client: Any, app: Any, app_db: sessionmaker[Session], way: str
) -> None:
    """An unknown selector and a wrong verifier each cost exactly one derivation and a 401;
    the right receipt costs one too, a typo none."""
    log_in = LOGINS[way]
    receipt = filed_receipt(client, app_db)
    typo = receipt.formatted()[:-1] + ("1" if receipt.formatted()[-1] != "1" else "2")

    unknown = costs(app, lambda: log_in(client, crypto.new_receipt().formatted()))
    wrong = costs(
        app, lambda: log_in(client, crypto.Receipt(receipt.selector, "Z" * 16).formatted())
    )
    mistyped = costs(app, lambda: log_in(client, typo))
    right = costs(app, lambda: log_in(client, receipt.formatted()))

    assert unknown == (401, 1)
    assert wrong == (401, 1)
    assert mistyped == (422, 0)
    assert right == ((200 if way == "api" else 303), 1)


@pytest.mark.parametrize("way", sorted(LOGINS))
def test_throttled_guesses_cost_no_derivation(
    client: Any, app: Any, app_db: sessionmaker[Session], way: str
) -> None:
    """Past the per-selector limit, guesses at a known or an unknown selector are 429 and
    run no Argon2id."""
    log_in = LOGINS[way]
    known = filed_receipt(client, app_db).selector
    unknown = crypto.new_receipt().selector

    def guesses(selector: str) -> list[tuple[int, int]]:
        guess = crypto.Receipt(selector, "Z" * 16).formatted()
        return [costs(app, lambda: log_in(client, guess)) for _ in range(PER_SELECTOR + 2)]

    answers = {"known": guesses(known), "unknown": guesses(unknown)}

    expected = [(401, 1)] * PER_SELECTOR + [(429, 0)] * 2
    assert answers == {"known": expected, "unknown": expected}
