"""Cross-check the database and the image store after a restore (or at any time).

    python scripts/check_image_store.py --database-url URL --image-dir DATA_DIR/images

Every stored prediction names its image (and, for a DICOM upload, its de-identified copy) by
SHA-256; the store keeps it at `ab/cd/<sha256>.png` (`.jpg` for a JPEG kept as uploaded,
`.dcm` for a DICOM copy). Prints how many images the database references, how many are missing
from the store (exit status 1: restore the image store from a newer copy) and how many
files no prediction references (harmless; left alone: an upload in flight writes its image
just before its record commits).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

DIGEST_FILE = re.compile(r"^([0-9a-f]{64})\.(?:png|jpg|dcm)$")
REFERENCED = (
    "SELECT image_sha256 FROM predictions"
    " UNION SELECT dicom_sha256 FROM predictions WHERE dicom_sha256 IS NOT NULL"
)


async def referenced(database_url: str) -> set[str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text(REFERENCED))
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


def stored(image_dir: Path) -> set[str]:
    found = set()
    for path in image_dir.glob("??/??/*"):
        match = DIGEST_FILE.match(path.name)
        if match and path.parent.parent.name == match[1][:2] and path.parent.name == match[1][2:4]:
            found.add(match[1])
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BREASTSCAN_DATABASE_URL"))
    parser.add_argument("--image-dir", type=Path, required=True)
    parser.add_argument("--list", action="store_true", help="print the missing digests")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or BREASTSCAN_DATABASE_URL) is required")
    if not args.image_dir.is_dir():
        parser.error(f"not a directory: {args.image_dir}")
    wanted = asyncio.run(referenced(args.database_url))
    present = stored(args.image_dir)
    missing = sorted(wanted - present)
    orphans = present - wanted
    print(f"referenced {len(wanted)}  missing {len(missing)}  unreferenced {len(orphans)}")
    if args.list:
        for digest in missing:
            print(f"missing {digest}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
