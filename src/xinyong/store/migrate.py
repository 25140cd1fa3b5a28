"""Numbered schema migrations: ``migrations/NNN_name.sql`` applied in order, recorded in schema_migrations.

The files are plain, portable SQL statements separated by ``;`` at line ends, shared by DuckDB and
PostgreSQL. Where a dialect must differ, ``NNN_name.postgres.sql`` (or ``.duckdb.sql``) replaces the
portable file of that number for that dialect; a number with only a dialect file is that dialect's alone.
A migration is applied in one transaction with its schema_migrations row, so a crash leaves either the
old or the new schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+(?:\.(duckdb|postgres))?\.sql$")


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


def migrations(dialect: str = "duckdb") -> list[Migration]:
    """Every migration shipped with the package for ``dialect``, in version order."""
    portable: dict[int, Migration] = {}
    own: dict[int, Migration] = {}
    for entry in resources.files("xinyong.store").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if not m or m.group(2) not in (None, dialect):
            continue
        found = own if m.group(2) else portable
        version = int(m.group(1))
        if version in found:
            raise RuntimeError(f"two migrations share the number {version}: {entry.name}, {found[version].name}")
        found[version] = Migration(version, entry.name, entry.read_text(encoding="utf-8"))
    return [own.get(v) or portable[v] for v in sorted(portable.keys() | own.keys())]
