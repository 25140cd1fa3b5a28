"""The policy language: schema, loader with file:line errors, charter linter, reference evaluator, decide.

Pure: no database, engine or web import (enforced by import-linter).
"""
