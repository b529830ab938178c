"""Argon2id profiles, password hashes, and the one-run derivation of a verifier and a key."""

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import hash_secret_raw
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from ._errors import CryptoError

T = TypeVar("T")

SALT_SIZE = 16
DERIVED_SIZE = 32
# Distinct HKDF info labels are what make the verifier and the key independent.
VERIFIER_INFO = b"portal/v1/derive/verifier"
KEY_INFO = b"portal/v1/derive/key"


@dataclass(frozen=True)
class Argon2Profile:
    """A named Argon2id cost setting."""

    name: str
    time_cost: int
    memory_cost_kib: int
    parallelism: int

    def __post_init__(self) -> None:
        # Argon2 itself requires at least 8 KiB of memory per lane.
        if self.time_cost < 1 or self.parallelism < 1:
            raise CryptoError("Argon2 time cost and parallelism must be at least 1")
        if self.memory_cost_kib < 8 * self.parallelism:
            raise CryptoError("Argon2 memory must be at least 8 KiB per lane")


PROFILES: Mapping[str, Argon2Profile] = MappingProxyType(
    {
        # OWASP Password Storage Cheat Sheet, first Argon2id option.
        "owasp": Argon2Profile("owasp", time_cost=2, memory_cost_kib=19456, parallelism=1),
        "strong": Argon2Profile("strong", time_cost=3, memory_cost_kib=65536, parallelism=1),
        # Minimum Argon2 allows; only tests may ask for it.
        "test": Argon2Profile("test", time_cost=1, memory_cost_kib=8, parallelism=1),
    }
)
DEFAULT_PROFILE = "owasp"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# Every Argon2id run of this process happens on one of these threads, one per core. More at
# once would finish no sooner (each run is CPU-bound with one lane), but each holds its memory
# cost (19 MiB for "owasp"): a burst on a 40-thread pool would hold 760 MiB at once. And on
# long-lived threads the memory is reused: glibc keeps a freed 19 MiB block in the arena of
# the thread that freed it, so runs spread over many short-lived worker threads each left one
# behind (peak resident memory under bench/load grew by 80 MiB; now by about cores x 19 MiB).
ARGON2_SLOTS = _cores()
_threads = ThreadPoolExecutor(max_workers=ARGON2_SLOTS, thread_name_prefix="argon2")


def _on_argon2_thread(run: Callable[..., T], *args: Any) -> T:
    """run(*args) on an Argon2 thread; the caller waits (without the GIL) for its turn."""
    return _threads.submit(run, *args).result()


def profile_named(name: str, *, allow_test: bool = False) -> Argon2Profile:
    """Look a profile up by name; the "test" profile only when explicitly allowed."""
    profile = PROFILES.get(name)
    if profile is None:
        raise CryptoError(f"unknown Argon2 profile {name!r}; known: {', '.join(PROFILES)}")
    if profile.name == "test" and not allow_test:
        raise CryptoError("the 'test' Argon2 profile is too weak outside tests")
    return profile


def _hasher(profile: Argon2Profile) -> PasswordHasher:
    return PasswordHasher(
        time_cost=profile.time_cost,
        memory_cost=profile.memory_cost_kib,
        parallelism=profile.parallelism,
        hash_len=DERIVED_SIZE,
        salt_len=SALT_SIZE,
        type=Type.ID,
    )


def hash_password(password: str, profile: Argon2Profile) -> str:
    """Hash a password to an Argon2id PHC string carrying its own salt and parameters."""
    return _on_argon2_thread(_hasher(profile).hash, password)


def verify_password(stored: str, password: str) -> bool:
    """True if password matches the PHC string; False on mismatch or a garbled hash."""
    try:
        # verify() reads the parameters from the stored string, so any profile works.
        return _on_argon2_thread(PasswordHasher().verify, stored, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored: str, profile: Argon2Profile) -> bool:
    """True if stored was made with other parameters than profile (or cannot be read)."""
    try:
        return _hasher(profile).check_needs_rehash(stored)
    except InvalidHashError:
        return True


def new_salt() -> bytes:
    """Return 16 random bytes for derive_keys."""
    return os.urandom(SALT_SIZE)


@dataclass(frozen=True, repr=False)
class DerivedKeys:
    """Two independent 32-byte values from one Argon2id run: a stored verifier and a key."""

    verifier: bytes
    key: bytes

    def __repr__(self) -> str:
        return "DerivedKeys(verifier=***, key=***)"


def derive_keys(secret: bytes, salt: bytes, profile: Argon2Profile) -> DerivedKeys:
    """Run Argon2id once over secret and split the output with HKDF-Expand into two values."""
    if len(salt) < SALT_SIZE:
        raise CryptoError("the salt must be at least 16 bytes")
    # One Argon2 run, not two: the attacker's cost per guess equals ours per login.
    master = _on_argon2_thread(_argon2, secret, salt, profile)
    return DerivedKeys(verifier=_expand(master, VERIFIER_INFO), key=_expand(master, KEY_INFO))


def _argon2(secret: bytes, salt: bytes, profile: Argon2Profile) -> bytes:
    return hash_secret_raw(
        secret=secret,
        salt=salt,
        time_cost=profile.time_cost,
        memory_cost=profile.memory_cost_kib,
        parallelism=profile.parallelism,
        hash_len=DERIVED_SIZE,
        type=Type.ID,
    )


def _expand(master: bytes, info: bytes) -> bytes:
    return HKDFExpand(algorithm=hashes.SHA256(), length=DERIVED_SIZE, info=info).derive(master)


def hkdf(secret: bytes, *, salt: bytes | None, info: bytes) -> bytes:
    """Full HKDF-SHA256 (extract and expand) to one 32-byte key."""
    return HKDF(algorithm=hashes.SHA256(), length=DERIVED_SIZE, salt=salt, info=info).derive(secret)
