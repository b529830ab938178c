"""Reporter receipts: Crockford base32 selector and verifier with a GF(32) check character."""

import secrets
from dataclasses import dataclass

from ._errors import ReceiptFormatError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SELECTOR_LENGTH = 7
VERIFIER_LENGTH = 16
PAYLOAD_LENGTH = SELECTOR_LENGTH + VERIFIER_LENGTH
RECEIPT_LENGTH = PAYLOAD_LENGTH + 1
GROUP = 4
# Crockford's decoding folds the letters people confuse with digits.
_DECODE = {char: value for value, char in enumerate(ALPHABET)} | {"I": 1, "L": 1, "O": 0}
_IGNORED = frozenset(" -\t\r\n")

# GF(32) as polynomials over GF(2) modulo x^5 + x^2 + 1. The multiplicative group has
# prime order 31, so alpha = x generates it and alpha^0..alpha^30 are all distinct.
_POLY = 0b100101
_EXP: list[int] = []
_value = 1
for _ in range(31):
    _EXP.append(_value)
    _value <<= 1
    if _value & 0b100000:
        _value ^= _POLY
_LOG = {value: power for power, value in enumerate(_EXP)}
# Payload position i has weight alpha^(i+1); the check character has weight alpha^0 = 1.
WEIGHTS = (*_EXP[1 : PAYLOAD_LENGTH + 1], _EXP[0])


def gf_mul(a: int, b: int) -> int:
    """Multiply two elements of GF(32)."""
    if a == 0 or b == 0:
        return 0
    return _EXP[(_LOG[a] + _LOG[b]) % 31]


def syndrome(values: list[int] | tuple[int, ...]) -> int:
    """Weighted GF(32) sum of all 24 symbols; zero exactly for a valid receipt."""
    total = 0
    for weight, value in zip(WEIGHTS, values, strict=True):
        total ^= gf_mul(weight, value)
    return total


def check_character(payload: str) -> str:
    """The check character that makes selector + verifier + check have syndrome zero."""
    # Addition in GF(2^5) is XOR, so the check value equals the payload's weighted sum.
    values = [_DECODE[char] for char in payload]
    return ALPHABET[syndrome([*values, 0])]


@dataclass(frozen=True, repr=False)
class Receipt:
    """What a reporter keeps: a public selector and a secret verifier."""

    selector: str
    verifier: str

    def __post_init__(self) -> None:
        if len(self.selector) != SELECTOR_LENGTH or len(self.verifier) != VERIFIER_LENGTH:
            raise ReceiptFormatError("the code has the wrong length")
        if not set(self.selector + self.verifier) <= set(ALPHABET):
            raise ReceiptFormatError("a character is not one used in codes")

    def formatted(self) -> str:
        """The 24 characters in six dash-joined groups of four, as shown to the reporter."""
        compact = self.selector + self.verifier + check_character(self.selector + self.verifier)
        return "-".join(compact[i : i + GROUP] for i in range(0, RECEIPT_LENGTH, GROUP))

    @property
    def verifier_bytes(self) -> bytes:
        """Canonical verifier as ASCII bytes, the secret fed to derive_keys."""
        return self.verifier.encode("ascii")

    def __str__(self) -> str:
        return f"Receipt(selector={self.selector}, verifier=***)"

    __repr__ = __str__


def new_receipt() -> Receipt:
    """Draw a receipt: 35 random selector bits and 80 random verifier bits."""
    # One read of the system's random source: 256 is a multiple of 32, so each byte's low
    # five bits are uniform over the alphabet.
    draw = "".join(ALPHABET[byte & 31] for byte in secrets.token_bytes(PAYLOAD_LENGTH))
    return Receipt(selector=draw[:SELECTOR_LENGTH], verifier=draw[SELECTOR_LENGTH:])


def parse_receipt(text: str) -> Receipt:
    """Read a typed receipt; ReceiptFormatError with a hint if it cannot be right."""
    compact = [char for char in text.upper() if char not in _IGNORED]
    if len(compact) < RECEIPT_LENGTH:
        raise ReceiptFormatError("the code is too short")
    if len(compact) > RECEIPT_LENGTH:
        raise ReceiptFormatError("the code is too long")
    if not all(char in _DECODE for char in compact):
        raise ReceiptFormatError("a character is not one used in codes")
    values = [_DECODE[char] for char in compact]
    # Checked before any database or Argon2 work, so typos cost nothing.
    if syndrome(values) != 0:
        raise ReceiptFormatError("a character looks mistyped")
    canonical = "".join(ALPHABET[value] for value in values)
    return Receipt(selector=canonical[:SELECTOR_LENGTH], verifier=canonical[SELECTOR_LENGTH:-1])
