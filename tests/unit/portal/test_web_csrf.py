"""CSRF tokens: bound to the browser's cookie and the purpose, rendered by csrf_field()."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from starlette.requests import Request
from starlette.responses import Response

from cases.errors import Forbidden
from portal.csrf import (
    CSRF_COOKIE,
    csrf_token,
    set_host_cookie,
    verify_csrf,
)
from portal.settings import Settings
from portal.templating import Templating

COOKIE = "c" * 43


def _request(tmp_path: Path, cookie: str | None = None) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(settings=Settings.for_tests(tmp_path)))
    headers = [(b"cookie", f"{CSRF_COOKIE}={cookie}".encode())] if cookie else []
    scope = {"type": "http", "method": "GET", "path": "/", "headers": headers, "app": app}
    return Request(scope)


def test_token_verifies_for_the_same_cookie_and_purpose(tmp_path: Path) -> None:
    """A token made from a cookie verifies against that cookie."""
    request = _request(tmp_path, COOKIE)

    verify_csrf(request, csrf_token(request))


@pytest.mark.parametrize("token", [None, "", "0" * 64, "not-hex"])
def test_missing_or_wrong_token_is_forbidden_csrf(tmp_path: Path, token: str | None) -> None:
    """A missing, empty or wrong token raises Forbidden with code csrf."""
    with pytest.raises(Forbidden) as caught:
        verify_csrf(_request(tmp_path, COOKIE), token)

    assert caught.value.code == "csrf"


def test_token_for_one_purpose_fails_for_another(tmp_path: Path) -> None:
    """Purposes separate tokens: one form's token cannot post another form."""
    request = _request(tmp_path, COOKIE)

    with pytest.raises(Forbidden):
        verify_csrf(request, csrf_token(request, purpose="login"), purpose="report")


def test_token_for_another_cookie_fails(tmp_path: Path) -> None:
    """A token minted for another browser's cookie is refused."""
    theirs = csrf_token(_request(tmp_path, "d" * 43))

    with pytest.raises(Forbidden):
        verify_csrf(_request(tmp_path, COOKIE), theirs)


def test_new_browser_gets_one_cookie_matching_all_its_tokens(tmp_path: Path) -> None:
    """Without a cookie, the tokens of one page share one new value, set on the response."""
    request = _request(tmp_path)
    response = Response()

    first = csrf_token(request, response)
    second = csrf_token(request)

    assert first == second
    [header] = response.headers.getlist("set-cookie")
    assert header.startswith(f"{CSRF_COOKIE}=")
    value = header.split("=", 1)[1].split(";", 1)[0]
    verify_csrf(_request(tmp_path, value), first)


def test_csrf_field_in_a_template_renders_a_hidden_input_and_sets_the_cookie(
    tmp_path: Path,
) -> None:
    """{{ csrf_field() }} renders <input type=hidden name=csrf>, and the page sets the cookie."""
    (tmp_path / "form.html").write_text('<form method="post">{{ csrf_field() }}</form>')
    request = _request(tmp_path)

    response = Templating(tmp_path).TemplateResponse(request, "form.html")

    assert f'name="csrf" value="{csrf_token(request)}"' in bytes(response.body).decode()
    assert CSRF_COOKIE in response.headers["set-cookie"]


def test_host_cookies_refuse_names_without_the_prefix() -> None:
    """set_host_cookie only sets __Host- cookies, so no cookie can be widened to a domain."""
    with pytest.raises(ValueError, match="__Host-"):
        set_host_cookie(Response(), "session", "x")
