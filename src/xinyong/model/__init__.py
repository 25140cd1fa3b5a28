"""Pure domain types: subjects and identifiers, sources and catalogue, records and amendments, assessments.

Nothing here does I/O; every other layer builds on these names (the glossary in DESIGN.md §7).
"""
