"""Batch evaluation: a policy compiled to SQL (sqlglot) and run where the data is.

The reference evaluator (:mod:`xinyong.policy.evaluate`) defines the semantics; these engines compute
the same scores, tiers and listings for a whole population in one query.
"""

from xinyong.engines.compiler import DIALECTS, CompiledPolicy, compile_policy

__all__ = ["DIALECTS", "CompiledPolicy", "compile_policy"]
