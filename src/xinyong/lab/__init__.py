"""The policy lab: synthetic populations for demos, simulations and benchmarks.

A synthetic population is seeded and reproducible; its fairness attributes live in their own file,
apart from the records (charter rule 3).
"""

from xinyong.lab.bulk import BulkSummary, generate_bulk_records
from xinyong.lab.population import PopulationSummary, generate_population

__all__ = ["BulkSummary", "PopulationSummary", "generate_bulk_records", "generate_population"]
