"""A reporter's and an investigator's first steps through the TLS proxy (docs/deploy.md, step 11).

/usr/bin/python3 docs/deploy/smoke.py https://portal.example.test:8443 CA.pem STAFF.json
    the reporter: files a report, logs in with the receipt, uploads 3 MiB; writes
    smoke-state.json (the receipt, a tag in the summary, the upload's SHA-256)
/usr/bin/python3 docs/deploy/smoke.py https://portal.example.test:8443 CA.pem STAFF.json --staff
    after the next full hour's jobs round (a new case and a reporter's file are held from staff
    until then, docs/access.md): the investigator logs in with TOTP, finds the case by its tag
    and downloads the file, which must match the upload byte for byte.

STAFF.json is what `portal user add` printed for an investigator, plus "password".
Needs only httpx (Debian: python3-httpx), not the portal: it runs on any machine that
reaches the proxy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import struct
import sys
import time
from pathlib import Path

import httpx

STATE = Path("smoke-state.json")


def totp_code(secret: bytes, at: float) -> str:
    """RFC 6238 with SHA-1, 6 digits and 30-second steps, as the portal's (crypto/_totp.py)."""
    digest = hmac.new(secret, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**6:06d}"


def reporter(web: httpx.Client) -> None:
    channel = web.get("/api/v1/channels").json()[0]
    tag = secrets.token_hex(4)
    report = {
        "channel": channel["id"],
        "category": channel["categories"][0]["id"],
        "summary": f"Smoke test {tag}: orders diverted",
        "details": "Filed through the TLS proxy by docs/deploy/smoke.py.",
    }
    filed = web.post("/api/v1/reports", json=report)
    print("file report:", filed.status_code)
    receipt = filed.json()["receipt"]
    session = web.post("/api/v1/reporter/session", json={"receipt": receipt})
    print("receipt login:", session.status_code)
    auth = {"Authorization": f"Bearer {session.json()['token']}"}
    content = secrets.token_bytes(3 * 1024 * 1024)
    upload = web.post(
        "/api/v1/reporter/attachments",
        files={"file": ("evidence.bin", content, "application/octet-stream")},
        headers=auth,
    )
    print("upload 3 MiB:", upload.status_code)
    sha = hashlib.sha256(content).hexdigest()
    mine = web.get("/api/v1/reporter/report", headers=auth).json()
    print("reporter sees the file:", [a["sha256"] for a in mine["attachments"]] == [sha])
    STATE.write_text(json.dumps({"receipt": receipt, "tag": tag, "sha256": sha}))
    print("receipt (for the restore check):", receipt)
    print(f"wrote {STATE}; after the next full hour's jobs round, run again with --staff")


def staff(web: httpx.Client, staff_file: str) -> None:
    state = json.loads(STATE.read_text())
    person = json.loads(Path(staff_file).read_text())
    secret = base64.b32decode(person["totp_secret"])
    login = {"email": person["email"], "password": person["password"]}
    opened = web.post(
        "/api/v1/staff/session", json={**login, "totp": totp_code(secret, time.time())}
    )
    if opened.status_code == 401:
        # A code is taken once: a second run within the same 30 s step is refused. Wait for
        # the next step and try once more.
        print("staff login: 401, trying again with the next 30-second code")
        time.sleep(30 - time.time() % 30 + 1)
        opened = web.post(
            "/api/v1/staff/session", json={**login, "totp": totp_code(secret, time.time())}
        )
    print("staff login:", opened.status_code)
    if opened.status_code != 200:
        print(opened.text)
        sys.exit(1)
    auth = {"Authorization": f"Bearer {opened.json()['token']}"}
    items = web.get("/api/v1/cases", headers=auth).json()["items"]
    cases = [web.get(f"/api/v1/cases/{item['id']}", headers=auth).json() for item in items]
    found = [case for case in cases if state["tag"] in (case.get("summary") or "")]
    print("cases listed:", len(items), "the smoke test's found:", len(found) == 1)
    if not found:
        print("not there yet: a new case reaches staff at the next full hour's jobs round")
        sys.exit(1)
    case = found[0]
    file_id = case["attachments"][0]["id"]
    back = web.get(f"/api/v1/cases/{case['id']}/attachments/{file_id}", headers=auth)
    print("download:", back.status_code)
    print("download matches upload:", hashlib.sha256(back.content).hexdigest() == state["sha256"])


def main(base: str, ca: str, staff_file: str, *flags: str) -> None:
    with httpx.Client(base_url=base, verify=ca, timeout=60) as web:
        if "--staff" in flags:
            staff(web, staff_file)
        else:
            reporter(web)


if __name__ == "__main__":
    main(*sys.argv[1:])
