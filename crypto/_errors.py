"""The exception hierarchy of the crypto package: one root, two specific failures."""


class CryptoError(Exception):
    """Root of every error this package raises on purpose."""


class DecryptionError(CryptoError):
    """A ciphertext did not open: wrong key, wrong associated data, tampered or truncated."""


class ReceiptFormatError(CryptoError):
    """A typed receipt is malformed; ``hint`` is a short English hint safe to show the reporter."""

    def __init__(self, hint: str) -> None:
        super().__init__(hint)
        self.hint = hint
