"""Numbered schema migrations: ``migrations/NNN_name.sql`` applied in order, recorded in schema_migrations.

The files are plain, portable SQL statements separated by ``;`` at line ends, so the same files can
serve a PostgreSQL store. A migration is applied in one transaction with its schema_migrations row, so
a crash leaves either the old or the new schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """Statements split on ``;`` at the end of a line (comments stripped first)."""
        lines = [ln.split("--", 1)[0] for ln in self.sql.splitlines()]
        text = "\n".join(lines)
        return [s.strip() for s in re.split(r";\s*(?:\n|$)", text) if s.strip()]


def migrations() -> list[Migration]:
    """Every migration shipped with the package, in version order."""
    found = []
    for entry in resources.files("xinyong.store").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found
