"""QR codes drawn on the server as SVG: no script, no third-party image service."""

from __future__ import annotations

import segno
from markupsafe import Markup

import crypto

ISSUER = "Speak Up portal"


def totp_qr_svg(secret: bytes, account_name: str) -> Markup:
    """Inline SVG of the otpauth:// URI an authenticator app scans."""
    uri = crypto.provisioning_uri(secret, account_name, ISSUER)
    svg: str = segno.make(uri, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", svgclass="qr", omitsize=False
    )
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code" ', 1))  # noqa: S704 - segno escapes its own output; the URI is ours
