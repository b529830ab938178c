"""Argon2 profiles, password hashes and derive_keys."""

import dataclasses

import pytest

from crypto import (
    PROFILES,
    Argon2Profile,
    CryptoError,
    derive_keys,
    hash_password,
    new_salt,
    password_needs_rehash,
    profile_named,
    verify_password,
)

TEST = profile_named("test", allow_test=True)
VECTOR_VERIFIER = "ab43c9f89353c24f5091e3a2c7912f83562eba016e63a0b81d64fc795553e6f3"
VECTOR_KEY = "df92c19fbe11083ebf9630fbc6cb895b37d58464b62ec96b8e6d9a4fe83ccea9"


def test_profile_values() -> None:
    """The three profiles carry the documented parameters."""
    assert PROFILES["owasp"] == Argon2Profile("owasp", 2, 19456, 1)
    assert PROFILES["strong"] == Argon2Profile("strong", 3, 65536, 1)
    assert PROFILES["test"] == Argon2Profile("test", 1, 8, 1)


def test_owasp_meets_owasp_minimum() -> None:
    """The default profile meets OWASP's Argon2id minimum: m >= 19 MiB, t >= 2."""
    owasp = profile_named("owasp")

    assert owasp.memory_cost_kib >= 19 * 1024
    assert owasp.time_cost >= 2


def test_test_profile_needs_permission() -> None:
    """profile_named refuses "test" unless allow_test is set."""
    with pytest.raises(CryptoError):
        profile_named("test")

    assert profile_named("test", allow_test=True) is PROFILES["test"]


def test_unknown_profile_refused() -> None:
    """An unknown profile name raises CryptoError."""
    with pytest.raises(CryptoError):
        profile_named("fast")


def test_profiles_are_read_only() -> None:
    """Neither the profile table nor a profile can be changed at run time."""
    with pytest.raises(TypeError):
        PROFILES["owasp"] = TEST  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROFILES["owasp"].time_cost = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("time_cost", "memory", "lanes"), [(0, 8, 1), (1, 7, 1), (1, 8, 0), (1, 8, 2)]
)
def test_invalid_profile_refused(time_cost: int, memory: int, lanes: int) -> None:
    """Parameters Argon2 cannot run with are refused when the profile is made."""
    with pytest.raises(CryptoError):
        Argon2Profile("bad", time_cost, memory, lanes)


def test_password_hash_round_trip() -> None:
    """verify_password accepts the right password and refuses a wrong one."""
    stored = hash_password("correct horse", TEST)

    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "correct horse ")


def test_password_hash_with_owasp_profile() -> None:
    """The default profile hashes and verifies, with its parameters in the PHC string."""
    stored = hash_password("pässwörd 密码", profile_named("owasp"))

    assert "$m=19456,t=2,p=1$" in stored
    assert verify_password(stored, "pässwörd 密码")


@pytest.mark.parametrize(
    "stored", ["", "garbage", "$argon2id$v=19$m=8,t=1,p=1$xx$yy", "$2b$12$abc"]
)
def test_verify_garbage_is_false(stored: str) -> None:
    """A garbled stored hash makes verify_password return False, not raise."""
    assert verify_password(stored, "anything") is False


def test_needs_rehash_when_profile_changes() -> None:
    """A hash made under one profile needs rehash under another, not under its own."""
    stored = hash_password("pw", TEST)

    assert not password_needs_rehash(stored, TEST)
    assert password_needs_rehash(stored, profile_named("owasp"))
    assert password_needs_rehash("garbage", TEST)


def test_new_salt() -> None:
    """new_salt gives 16 fresh random bytes."""
    salts = {new_salt() for _ in range(100)}

    assert len(salts) == 100
    assert all(len(salt) == 16 for salt in salts)


def test_derive_keys_vector() -> None:
    """derive_keys with the test profile gives the frozen verifier and key."""
    derived = derive_keys(b"ABCDEFGHJKMNPQRS", bytes(16), TEST)

    assert derived.verifier.hex() == VECTOR_VERIFIER
    assert derived.key.hex() == VECTOR_KEY


def test_derive_keys_independent_halves() -> None:
    """Verifier and key are 32 bytes each and never the same bytes."""
    derived = derive_keys(b"secret", new_salt(), TEST)

    assert len(derived.verifier) == len(derived.key) == 32
    assert derived.verifier != derived.key


def test_derive_keys_depends_on_secret_salt_and_profile() -> None:
    """Changing the secret, the salt or the profile changes both outputs."""
    salt = new_salt()
    base = derive_keys(b"secret", salt, TEST)
    variants = [
        derive_keys(b"secreT", salt, TEST),
        derive_keys(b"secret", new_salt(), TEST),
        derive_keys(b"secret", salt, Argon2Profile("other", 2, 8, 1)),
    ]

    for variant in variants:
        assert variant.verifier != base.verifier
        assert variant.key != base.key


def test_derive_keys_refuses_short_salt() -> None:
    """A salt shorter than 16 bytes is refused."""
    with pytest.raises(CryptoError):
        derive_keys(b"secret", bytes(15), TEST)


def test_derived_keys_repr_hides_values() -> None:
    """repr of DerivedKeys shows neither value."""
    derived = derive_keys(b"secret", new_salt(), TEST)

    assert derived.key.hex() not in repr(derived)
    assert derived.verifier.hex() not in repr(derived)


def test_argon2_runs_at_most_one_per_core_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve threads deriving at once never have more Argon2 runs in flight than the process
    has cores, so a burst cannot hold more than cores x the memory cost."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from crypto import _kdf

    real = _kdf._argon2
    in_flight = 0
    most = 0
    lock = threading.Lock()

    def watched(secret: bytes, salt: bytes, profile: _kdf.Argon2Profile) -> bytes:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.05)  # long enough for every thread to arrive while this one runs
        try:
            return real(secret, salt, profile)
        finally:
            with lock:
                in_flight -= 1

    monkeypatch.setattr(_kdf, "_argon2", watched)
    profile = _kdf.profile_named("test", allow_test=True)
    with ThreadPoolExecutor(12) as pool:
        results = list(
            pool.map(lambda n: _kdf.derive_keys(bytes([n]) * 8, b"s" * 16, profile), range(12))
        )

    assert len({r.key for r in results}) == 12
    assert 1 <= most <= _kdf.ARGON2_SLOTS


def test_every_argon2_run_happens_on_the_argon2_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Derivations asked for from many threads run on the process's long-lived Argon2 threads,
    one per core, so each run's memory is reused instead of being left behind in the allocator
    arena of whichever short-lived worker thread asked; hashing and verifying still work."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from typing import Any

    from crypto import _kdf

    names: set[str] = set()
    real_hash = _kdf.hash_secret_raw

    def watched(*args: Any, **kwargs: Any) -> bytes:
        names.add(threading.current_thread().name)
        return real_hash(*args, **kwargs)

    monkeypatch.setattr(_kdf, "hash_secret_raw", watched)
    profile = _kdf.profile_named("test", allow_test=True)
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda n: _kdf.derive_keys(bytes([n]) * 8, b"s" * 16, profile), range(12)))
    stored = _kdf.hash_password("a password", profile)

    assert _kdf.verify_password(stored, "a password")
    assert not _kdf.verify_password(stored, "another one")
    assert names
    assert all(name.startswith("argon2") for name in names), names
    assert len(names) <= _kdf.ARGON2_SLOTS
