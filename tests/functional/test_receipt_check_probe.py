"""Red team: the recorder of a phone report learns the minute the reporter first logs in,
by checking the receipt she read out (the check step, `POST /report/check`) every minute.

The check step opens no session, so on a staff-handed receipt not yet used it answered
"correct" and replaced nothing; from the reporter's first login on (which replaces that
receipt) it answered "replaced". Polled, the flip dated the reporter's first visit to the
minute, with nothing on the case for anyone to see until the flip (before the reuse notice,
it flipped to "wrong code" alike). Now the check step answers a correct staff-handed receipt
the same before and after its first login: it tells whoever typed it only that it is the
code that was read out, which the recorder knows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from support.arrivals import list_arrivals

from tests.functional.test_phone_receipt_reuse import _log_in, _record, world

pytestmark = pytest.mark.db
__all__ = ["world"]

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def checked(client: Any, receipt: str) -> tuple[int, str]:
    """The check step's answer to this receipt, as its typer sees it."""
    client.cookies.clear()
    match = CSRF.search(client.get("/status").text)
    assert match
    answer = client.post("/report/check", data={"csrf": match.group(1), "receipt": receipt})
    client.cookies.clear()
    return answer.status_code, str(answer.url.query)


def test_checking_the_read_out_receipt_does_not_tell_the_recorder_the_reporter_logged_in(
    client: Any, world: dict[str, Any]
) -> None:
    recorded, _case_id = _record(client, world)
    list_arrivals(world["db"], world["clock"])
    world["clock"].advance(hours=2)
    before = checked(client, recorded)

    world["clock"].advance(minutes=7)
    first = _log_in(client, recorded)  # the reporter, at last
    client.cookies.clear()
    world["clock"].advance(minutes=1)
    after = checked(client, recorded)

    assert first.status_code == 200, first.text
    assert before[0] == 200
    assert after == before
