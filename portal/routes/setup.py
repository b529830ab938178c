"""First run: the one-time setup link creates the first admin and the recovery key."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

import crypto
from cases.audit.service import Actor
from cases.db import unit_of_work
from cases.errors import Conflict, Invalid
from portal.csrf import form_with_csrf
from portal.deps import audit_log, recovery_service, setup_links
from portal.qr import totp_qr_svg
from portal.templating import render

FIELDS = ("email", "name", "password", "password_again")


async def setup_form(request: Request) -> Response:
    """The form for the first admin, reachable only through a live one-time link."""
    with unit_of_work(request.app.state.db) as db:
        setup_links(request, db).check(request.path_params["token"])
    return render(request, "setup/form.html", {"values": {}, "errors": {}})


async def setup_submit(request: Request) -> Response:
    """Creates the admin (enrolled in TOTP) and the recovery key, then shows both once."""
    form = await form_with_csrf(request)
    values = {name: str(form.get(name, ""))[:1024] for name in FIELDS}
    try:
        return _complete(request, values)
    except (Invalid, Conflict) as exc:
        errors = getattr(exc, "fields", None) or {"form": exc.message}
        context = {"values": {**values, "password": "", "password_again": ""}, "errors": errors}
        return render(request, "setup/form.html", context, status_code=422)


def _complete(request: Request, values: dict[str, str]) -> Response:
    if values["password"] != values["password_again"]:
        raise Invalid(fields={"password_again": "mismatch"})
    with unit_of_work(request.app.state.db) as db:
        links = setup_links(request, db)
        links.check(request.path_params["token"])
        new = links.staff.create(
            values["email"], values["password"], ["admin"], name=values["name"]
        )
        recovery = recovery_service(request, db)
        pair_and_row = None if recovery.active() else recovery.create()
        links.complete()
        detail = {"admin_id": new.account.id}
        audit_log(request, db).record(Actor.system(), "setup.completed", detail=detail)
    assert new.totp_secret is not None
    context: dict[str, object] = {
        "email": new.account.email,
        "qr": totp_qr_svg(new.totp_secret, new.account.email),
        "totp_secret": crypto.totp_secret_b32(new.totp_secret),
        "recovery": None,
    }
    if pair_and_row is not None:
        pair, row = pair_and_row
        text = crypto.export_recovery_key(pair)
        context["recovery"] = {"text": text, "fingerprint": row.fingerprint}
    return render(request, "setup/done.html", context)


async def recovery_download(request: Request) -> Response:
    """The recovery key the setup page shows once, answered as a file to save.

    The browser sends the key back from the page; the portal checks it is a well-formed
    recovery key (so this is no general echo service), keeps nothing and says no-store.
    """
    form = await form_with_csrf(request)
    text = str(form.get("key", ""))[:4096].replace("\r\n", "\n")
    try:
        crypto.import_recovery_key(text)
    except crypto.CryptoError:
        raise Invalid("That is not a recovery key.", fields={"key": "invalid"}) from None
    headers = {
        "Content-Disposition": 'attachment; filename="portal-recovery-key.txt"',
        "Cache-Control": "no-store",
    }
    return Response(text, media_type="text/plain; charset=utf-8", headers=headers)


routes: list[BaseRoute] = [
    Route("/setup/recovery-key", recovery_download, methods=["POST"]),
    Route("/setup/{token}", setup_form, methods=["GET"], name="setup"),
    Route("/setup/{token}", setup_submit, methods=["POST"]),
]
