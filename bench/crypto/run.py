"""Benchmark streaming encryption against raw AES-GCM, its memory use, and Argon2id cost."""

import argparse
import hashlib
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from importlib import metadata

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto import PROFILES, StreamEncryptor, decrypt_stream, derive_keys, new_salt, random_key

MIB = 1 << 20
AAD = b"bench|case|file"


class Source:
    """A stream of size_mib MiB made by repeating one random 1 MiB buffer."""

    def __init__(self, size_mib: int) -> None:
        self.size_mib = size_mib
        self.buffer = os.urandom(MIB)

    def pieces(self) -> Iterator[bytes]:
        for _ in range(self.size_mib):
            yield self.buffer

    def chunks(self, chunk: int) -> Iterator[memoryview]:
        view = memoryview(self.buffer)
        for _ in range(self.size_mib):
            for start in range(0, MIB, chunk):
                yield view[start : start + chunk]


def mb_per_s(size_mib: int, seconds: float) -> float:
    return size_mib * MIB / seconds / 1e6


def stream_chunks(
    key: bytes, source: Source, chunk: int, *, digest: bool = True
) -> tuple[bytes, Iterator[bytes]]:
    encryptor = StreamEncryptor(key, AAD, chunk, digest=digest)

    def produce() -> Iterator[bytes]:
        for piece in source.pieces():
            yield from encryptor.update(piece)
        yield encryptor.finalize()

    return encryptor.header, produce()


def raw_chunks(aead: AESGCM, source: Source, chunk: int) -> Iterator[bytes]:
    for counter, piece in enumerate(source.chunks(chunk)):
        yield aead.encrypt(counter.to_bytes(12, "big"), piece, AAD)


def timed_producer(chunks: Iterator[bytes], spent: list[float]) -> Iterator[bytes]:
    """Pass chunks through, adding the time spent making them to spent[0]."""
    clock = time.perf_counter
    while True:
        start = clock()
        item = next(chunks, None)
        spent[0] += clock() - start
        if item is None:
            return
        yield item


def time_stream_encrypt(key: bytes, source: Source, chunk: int, *, digest: bool = True) -> float:
    _, chunks = stream_chunks(key, source, chunk, digest=digest)
    start = time.perf_counter()
    for _ in chunks:
        pass
    return time.perf_counter() - start


def time_raw_encrypt(key: bytes, source: Source, chunk: int, *, with_sha256: bool) -> float:
    aead = AESGCM(key)
    digest = hashlib.sha256()
    start = time.perf_counter()
    for counter, piece in enumerate(source.chunks(chunk)):
        if with_sha256:
            digest.update(piece)
        aead.encrypt(counter.to_bytes(12, "big"), piece, AAD)
    return time.perf_counter() - start


def time_stream_decrypt(key: bytes, source: Source, chunk: int) -> float:
    """Decryption time alone: the time spent producing the ciphertext is subtracted."""
    header, chunks = stream_chunks(key, source, chunk)
    spent = [0.0]
    start = time.perf_counter()
    for _ in decrypt_stream(key, AAD, header, timed_producer(chunks, spent)):
        pass
    return time.perf_counter() - start - spent[0]


def time_raw_decrypt(key: bytes, source: Source, chunk: int) -> float:
    aead = AESGCM(key)
    spent = [0.0]
    produced = timed_producer(raw_chunks(aead, source, chunk), spent)
    start = time.perf_counter()
    for counter, blob in enumerate(produced):
        aead.decrypt(counter.to_bytes(12, "big"), blob, AAD)
    return time.perf_counter() - start - spent[0]


def max_rss_mib() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MIB


def traced_peak_mib(run: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / MIB
    finally:
        tracemalloc.stop()


def argon2_median_ms(runs: int) -> dict[str, float]:
    secret = b"ABCDEFGHJKMNPQRS"
    medians = {}
    for name, profile in PROFILES.items():
        times = []
        for _ in range(runs):
            salt = new_salt()
            start = time.perf_counter()
            derive_keys(secret, salt, profile)
            times.append(time.perf_counter() - start)
        medians[name] = statistics.median(times) * 1000
    return medians


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024, help="stream size (default 1024)")
    parser.add_argument("--chunk-kib", type=int, default=64, help="chunk size (default 64)")
    parser.add_argument("--trace-mib", type=int, default=64, help="tracemalloc run size")
    parser.add_argument("--argon2-runs", type=int, default=5, help="runs per profile")
    args = parser.parse_args(argv)
    chunk = args.chunk_kib * 1024
    key = random_key()
    source = Source(args.size_mib)

    print("parameters:")
    print(f"  stream size        {args.size_mib} MiB (1 MiB random buffer repeated)")
    print(f"  chunk size         {chunk} bytes; update() fed 1 MiB pieces")
    print(f"  tracemalloc run    {args.trace_mib} MiB")
    print(f"  argon2 runs        {args.argon2_runs} per profile (median)")
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs"
    print(f"  python             {platform.python_version()} on {machine}")
    print(f"  cryptography       {metadata.version('cryptography')}")
    print(f"  argon2-cffi        {metadata.version('argon2-cffi')}")

    rss_before = max_rss_mib()
    enc = time_stream_encrypt(key, source, chunk)
    enc_plain = time_stream_encrypt(key, source, chunk, digest=False)
    dec = time_stream_decrypt(key, source, chunk)
    rss_growth = max_rss_mib() - rss_before
    raw_enc = time_raw_encrypt(key, source, chunk, with_sha256=False)
    raw_enc_sha = time_raw_encrypt(key, source, chunk, with_sha256=True)
    raw_dec = time_raw_decrypt(key, source, chunk)

    print("throughput (MB/s, 1 MB = 10^6 bytes):")
    print(f"  raw AESGCM encrypt             {mb_per_s(args.size_mib, raw_enc):9.0f}")
    print(f"  raw AESGCM encrypt + SHA-256   {mb_per_s(args.size_mib, raw_enc_sha):9.0f}")
    print(f"  StreamEncryptor (digest=False) {mb_per_s(args.size_mib, enc_plain):9.0f}")
    print(f"  StreamEncryptor (incl SHA-256) {mb_per_s(args.size_mib, enc):9.0f}")
    print(f"  raw AESGCM decrypt             {mb_per_s(args.size_mib, raw_dec):9.0f}")
    print(f"  decrypt_stream                 {mb_per_s(args.size_mib, dec):9.0f}")
    print("ratios (goal >= 0.8):")
    print(f"  StreamEncryptor (digest=False) / raw     {raw_enc / enc_plain:.2f}")
    print(f"  StreamEncryptor (SHA-256) / raw          {raw_enc / enc:.2f}")
    print(f"  StreamEncryptor / raw encrypt + SHA-256  {raw_enc_sha / enc:.2f}")
    print(f"  decrypt_stream  / raw decrypt            {raw_dec / dec:.2f}")

    small = Source(args.trace_mib)
    peak_enc = traced_peak_mib(lambda: time_stream_encrypt(key, small, chunk))
    peak_dec = traced_peak_mib(lambda: time_stream_decrypt(key, small, chunk))
    print("memory (goal flat, < 32 MiB):")
    print(f"  ru_maxrss growth over the {args.size_mib} MiB stream runs  {rss_growth:.1f} MiB")
    print(f"  tracemalloc peak, encrypt {args.trace_mib} MiB          {peak_enc:.2f} MiB")
    print(f"  tracemalloc peak, decrypt {args.trace_mib} MiB          {peak_dec:.2f} MiB")

    print("argon2id derive_keys, median ms:")
    for name, millis in argon2_median_ms(args.argon2_runs).items():
        profile = PROFILES[name]
        print(
            f"  {name:<7} m={profile.memory_cost_kib} KiB t={profile.time_cost} "
            f"p={profile.parallelism}: {millis:8.2f} ms"
        )


if __name__ == "__main__":
    main()
