"""Receipts: format, parsing, entropy and the typo-catching check character."""

import collections
import itertools
import random

import pytest

from crypto import (
    Receipt,
    ReceiptFormatError,
    derive_keys,
    new_receipt,
    parse_receipt,
    profile_named,
)
from crypto._receipt import ALPHABET, WEIGHTS, gf_mul, syndrome

VECTORS = [
    ("7K3M9QX", "ABCDEFGHJKMNPQRS", "7K3M-9QXA-BCDE-FGHJ-KMNP-QRS2"),
    ("0000000", "0000000000000000", "0000-0000-0000-0000-0000-0000"),
]


def compact(receipt: Receipt) -> str:
    """The 24 characters of a receipt without dashes."""
    return receipt.formatted().replace("-", "")


@pytest.mark.parametrize(("selector", "verifier", "formatted"), VECTORS)
def test_check_character_vectors(selector: str, verifier: str, formatted: str) -> None:
    """Fixed receipts format to the frozen text, check character included."""
    assert Receipt(selector, verifier).formatted() == formatted


def test_format_shape() -> None:
    """A receipt shows as six dash-joined groups of four canonical characters."""
    receipt = new_receipt()

    groups = receipt.formatted().split("-")

    assert [len(group) for group in groups] == [4] * 6
    assert set("".join(groups)) <= set(ALPHABET)
    assert compact(receipt)[:7] == receipt.selector
    assert compact(receipt)[7:23] == receipt.verifier


def test_parse_round_trip() -> None:
    """parse_receipt(r.formatted()) == r."""
    receipt = new_receipt()

    assert parse_receipt(receipt.formatted()) == receipt


def test_parse_is_forgiving_about_case_spacing_and_lookalikes() -> None:
    """Lower case, spaces, missing dashes and I/L/O for 1/1/0 still parse."""
    receipt = Receipt("7K3M9QX", "ABCDEFGH1KMNP0RS")
    typed = compact(receipt).lower().replace("1", "l").replace("0", "o")
    spaced = " ".join(typed[i : i + 3] for i in range(0, 24, 3))

    assert parse_receipt(spaced) == receipt
    assert parse_receipt(typed.upper().replace("L", "I")) == receipt
    assert parse_receipt("\t" + receipt.formatted() + "\n") == receipt


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("", "the code is too short"),
        ("7K3M-9QXA-BCDE-FGHJ-KMNP-QRS", "the code is too short"),
        ("7K3M-9QXA-BCDE-FGHJ-KMNP-QRS22", "the code is too long"),
        ("7K3M-9QXA-BCDE-FGHJ-KMNP-QRSU", "a character is not one used in codes"),
        ("7K3M-9QXA-BCDE-FGHJ-KMNP-QRS!", "a character is not one used in codes"),
        ("7K3M-9QXA-BCDE-FGHJ-KMNP-QRS3", "a character looks mistyped"),
    ],
)
def test_parse_errors_have_hints(text: str, hint: str) -> None:
    """Malformed input raises ReceiptFormatError carrying a short hint."""
    with pytest.raises(ReceiptFormatError) as caught:
        parse_receipt(text)

    assert caught.value.hint == hint


def test_str_and_repr_hide_verifier() -> None:
    """Neither str nor repr of a receipt contains the verifier."""
    receipt = new_receipt()

    assert str(receipt) == f"Receipt(selector={receipt.selector}, verifier=***)"
    assert receipt.verifier not in repr(receipt)
    assert receipt.verifier not in f"{[receipt]}"


def test_verifier_bytes_feed_derive_keys() -> None:
    """verifier_bytes is the ASCII verifier; equal receipts derive equal keys."""
    receipt = new_receipt()
    salt = bytes(16)
    test = profile_named("test", allow_test=True)

    again = parse_receipt(receipt.formatted().lower())

    assert receipt.verifier_bytes == receipt.verifier.encode("ascii")
    assert derive_keys(again.verifier_bytes, salt, test) == derive_keys(
        receipt.verifier_bytes, salt, test
    )


@pytest.mark.parametrize(("selector", "verifier"), [("ABC", "0" * 16), ("0" * 7, "U" * 16)])
def test_receipt_constructor_validates(selector: str, verifier: str) -> None:
    """A Receipt cannot be built from a non-canonical selector or verifier."""
    with pytest.raises(ReceiptFormatError):
        Receipt(selector, verifier)


def test_weights_distinct_and_nonzero() -> None:
    """All 24 position weights are distinct nonzero elements of GF(32)."""
    assert len(WEIGHTS) == 24
    assert len(set(WEIGHTS)) == 24
    assert 0 not in WEIGHTS


def test_every_error_pattern_changes_syndrome() -> None:
    """Proof by exhaustion: the syndrome is linear, so every substitution or adjacent
    transposition of any receipt changes it iff its error vector has nonzero syndrome;
    this checks that for all 24 positions x 31 substitutions and 23 pairs x 31 swaps."""
    for delta in range(1, 32):
        for position in range(24):
            error = [0] * 24
            error[position] = delta
            assert syndrome(error) != 0
        for position in range(23):
            error = [0] * 24
            error[position] = error[position + 1] = delta
            assert syndrome(error) != 0


def test_syndrome_is_linear() -> None:
    """syndrome(a xor b) == syndrome(a) xor syndrome(b), the premise of the proof above."""
    rng = random.Random(7)

    for _ in range(500):
        a = [rng.randrange(32) for _ in range(24)]
        b = [rng.randrange(32) for _ in range(24)]

        assert syndrome([x ^ y for x, y in zip(a, b, strict=True)]) == syndrome(a) ^ syndrome(b)


def test_gf_multiplication_is_a_field() -> None:
    """gf_mul is commutative, has no zero divisors and every nonzero element has an inverse."""
    for a, b in itertools.product(range(32), repeat=2):
        assert gf_mul(a, b) == gf_mul(b, a)
        assert (gf_mul(a, b) == 0) == (a == 0 or b == 0)
    for a in range(1, 32):
        assert any(gf_mul(a, b) == 1 for b in range(1, 32))


@pytest.mark.slow
def test_every_substitution_detected_on_many_receipts() -> None:
    """Replacing any one character of 500 random receipts by any other symbol is caught."""
    for _ in range(500):
        text = compact(new_receipt())
        for position, original in enumerate(text):
            for other in ALPHABET:
                if other == original:
                    continue
                with pytest.raises(ReceiptFormatError):
                    parse_receipt(text[:position] + other + text[position + 1 :])


@pytest.mark.slow
def test_every_adjacent_transposition_detected_on_many_receipts() -> None:
    """Swapping two different neighbours (check char included) of 5,000 receipts is caught."""
    for _ in range(5000):
        text = compact(new_receipt())
        for position in range(23):
            if text[position] == text[position + 1]:
                continue
            swapped = text[:position] + text[position + 1] + text[position] + text[position + 2 :]
            with pytest.raises(ReceiptFormatError):
                parse_receipt(swapped)


def test_sampled_entropy() -> None:
    """5,000 receipts: no repeats, every symbol appears in every verifier position, and the
    overall symbol frequency is close to uniform (chi-square far below a 1e-6 tail)."""
    receipts = [new_receipt() for _ in range(5000)]
    verifiers = [receipt.verifier for receipt in receipts]
    selectors = [receipt.selector for receipt in receipts]
    counts = collections.Counter("".join(verifiers) + "".join(selectors))
    expected = sum(counts.values()) / 32

    chi_square = sum((counts[char] - expected) ** 2 / expected for char in ALPHABET)

    assert len(set(verifiers)) == len(set(selectors)) == 5000
    for position in range(16):
        assert {verifier[position] for verifier in verifiers} == set(ALPHABET)
    # 31 degrees of freedom: P(chi2 > 80) is about 3e-6.
    assert chi_square < 80
