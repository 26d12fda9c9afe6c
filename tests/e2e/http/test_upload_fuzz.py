"""A bounded upload fuzz run: a few thousand generated files through POST /api/predictions.

Truncated, bit-flipped, wrong-type, random and odd-chunked PNGs and JPEGs with hostile file
names, eight to a request: no answer is a 5xx, every refusal is 413/415/422 with its code,
and the image store holds exactly the images of the stored predictions (nothing left behind
by a refused file). Seeded, so a failure names a case that can be replayed.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable

import pytest
from PIL import Image

from tests.e2e.http.conftest import ApiFactory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CASES = 2400
PER_REQUEST = 8
SEED = 9


def _encoded(fmt: str, size: tuple[int, int], mode: str, rng: random.Random) -> bytes:
    image = Image.frombytes(mode, size, rng.randbytes(size[0] * size[1] * len(mode)))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc & 0xFFFFFFFF)


def _odd_png(base: bytes, rng: random.Random) -> bytes:
    """A valid PNG with a chunk inserted after IHDR: unknown, bad CRC, huge or repeated."""
    head, rest = base[:33], base[33:]  # signature + IHDR
    choice = rng.randrange(5)
    if choice == 0:
        extra = _chunk(b"zzZz", rng.randbytes(rng.randrange(0, 64)))
    elif choice == 1:
        extra = _chunk(b"tEXt", b"k\x00" + rng.randbytes(32), crc=rng.getrandbits(32))
    elif choice == 2:
        extra = struct.pack(">I", 0x7FFFFFFF) + b"IDAT" + rng.randbytes(16)
    elif choice == 3:
        extra = head[8:33]  # a second IHDR
    else:
        extra = _chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(rng.randbytes(200)))
    return head + extra + rest


def _mutate(base: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:  # truncated
        return base[: rng.randrange(0, len(base))]
    if kind == 1:  # bit flips
        data = bytearray(base)
        for _ in range(rng.randrange(1, 16)):
            position = rng.randrange(len(data))
            data[position] ^= 1 << rng.randrange(8)
        return bytes(data)
    if kind == 2:  # a run overwritten with noise
        start = rng.randrange(len(base))
        return base[:start] + rng.randbytes(rng.randrange(1, 64)) + base[start + 64 :]
    if kind == 3:  # the right magic, then noise
        return base[:8] + rng.randbytes(rng.randrange(0, 2048))
    if kind == 4:  # the header of another format
        magic = rng.choice([b"GIF89a", b"BM", b"%PDF-1.7", b"II*\x00", b"RIFF\x00\x00WEBP", b"<"])
        return magic + base[len(magic) :]
    return rng.randbytes(rng.randrange(0, 4096))  # nothing like an image


def _name(rng: random.Random, index: int) -> str:
    stem = rng.choice(
        ["scan", "é\u200bx", "a\x00b", "../../etc/passwd", "\u202egnp.exe", "n" * 300, ""]
    )
    return f"{stem}-{index}.{rng.choice(['png', 'jpg', 'dcm', ''])}"


def generate(count: int, seed: int = SEED) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    bases: list[Callable[[], bytes]] = [
        lambda: _encoded("PNG", (rng.randrange(1, 96), rng.randrange(1, 96)), "L", rng),
        lambda: _encoded("PNG", (rng.randrange(1, 64), rng.randrange(1, 64)), "RGB", rng),
        lambda: _encoded("JPEG", (rng.randrange(8, 96), rng.randrange(8, 96)), "RGB", rng),
    ]
    cases = []
    for index in range(count):
        base = rng.choice(bases)()
        roll = rng.random()
        if roll < 0.1:
            data = base  # some valid images, so stored ones are checked too
        elif roll < 0.3 and base.startswith(b"\x89PNG"):
            data = _odd_png(base, rng)
        else:
            data = _mutate(base, rng)
        cases.append((_name(rng, index), data))
    return cases


async def test_thousands_of_hostile_uploads_give_no_5xx_and_leave_no_file(
    make_api: ApiFactory, record_property: pytest.RecordProperty
) -> None:
    cases = generate(CASES)
    statuses: dict[int, int] = {}
    async with make_api(max_files_per_request=PER_REQUEST) as api:
        account = await api.account()
        for start in range(0, len(cases), PER_REQUEST):
            batch = cases[start : start + PER_REQUEST]
            files = [("file", (name, data, "application/octet-stream")) for name, data in batch]
            r = await api.client.post("/api/predictions", files=files, headers=account.headers)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            assert r.status_code < 500, (start, r.text)
            assert r.status_code in {201, 207, 413, 415, 422}, (start, r.text)
            for result in r.json()["results"]:
                if not result["stored"]:
                    assert result["error"]["status_code"] in {413, 415, 422}, result
                    assert result["error"]["code"], result
        stored: set[str] = set()
        offset = 0
        while True:
            page = await api.client.get(
                "/api/predictions", params={"offset": offset, "limit": 200}, headers=account.headers
            )
            items = page.json()["items"]
            stored |= {item["image_sha256"] for item in items}
            offset += len(items)
            if not items:
                break
        on_disk = {path.stem for path in api.settings.image_dir.rglob("*") if path.is_file()}
    assert on_disk == stored
    assert stored, "some generated images are valid and must have been stored"
    record_property("fuzz_cases", len(cases))
    record_property("fuzz_statuses", statuses)
