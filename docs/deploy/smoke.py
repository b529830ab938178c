"""A reporter's and an investigator's first steps through the TLS proxy (docs/deploy.md, step 8).

python docs/deploy/smoke.py https://portal.example.test:8443 CA.pem STAFF.json
STAFF.json is what `portal user add` printed for an investigator, plus "password".
"""

from __future__ import annotations

import base64
import json
import secrets
import sys
import time

import httpx

import crypto


def main(base: str, ca: str, staff_file: str) -> None:
    staff = json.load(open(staff_file))  # noqa: SIM115
    with httpx.Client(base_url=base, verify=ca, timeout=60) as web:
        channel = web.get("/api/v1/channels").json()[0]
        report = {
            "channel": channel["id"],
            "category": channel["categories"][0]["id"],
            "summary": "Smoke test: orders diverted",
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
        secret = base64.b32decode(staff["totp_secret"])
        login = {
            "email": staff["email"],
            "password": staff["password"],
            "totp": crypto.totp_code(secret, time.time()),
        }
        opened = web.post("/api/v1/staff/session", json=login)
        print("staff login:", opened.status_code)
        staff_auth = {"Authorization": f"Bearer {opened.json()['token']}"}
        cases = web.get("/api/v1/cases", headers=staff_auth).json()["items"]
        case = web.get(f"/api/v1/cases/{cases[0]['id']}", headers=staff_auth).json()
        file_id = case["attachments"][0]["id"]
        back = web.get(f"/api/v1/cases/{case['id']}/attachments/{file_id}", headers=staff_auth)
        print("download matches upload:", back.content == content)
        print("receipt (for the restore check):", receipt)


if __name__ == "__main__":
    main(*sys.argv[1:4])
