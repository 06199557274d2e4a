"""The reference list shipped with the code: ``data/districts.csv`` (see ``data/README.md``)."""

from __future__ import annotations

import csv
from pathlib import Path

from service.places.matcher import Place

SEED_FILE = Path(__file__).resolve().parent / "data" / "districts.csv"


def load_seed(path: Path = SEED_FILE) -> list[Place]:
    """Every district of the file, in file order."""
    with path.open(encoding="utf-8", newline="") as f:
        return [
            Place(
                code=row["code"].strip(),
                name=row["name"].strip(),
                name_ur=row["name_ur"].strip(),
                province=row["province"].strip(),
                aliases=tuple(a.strip() for a in (row["aliases"] or "").split("|") if a.strip()),
            )
            for row in csv.DictReader(f)
        ]
