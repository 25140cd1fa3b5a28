"""What a measure does to an action, and the kinds of list: the words a policy and an assessment share.

Kept apart from the assessment models so that reading a policy (``xinyong policy lint``) does not build
the models of results it never produces."""

from __future__ import annotations

from enum import StrEnum


class Effect(StrEnum):
    """What a measure does to an action. Precedence when several apply: deny > review > benefit > allow."""

    DENY = "deny"
    REVIEW = "review"
    BENEFIT = "benefit"
    ALLOW = "allow"

    @property
    def precedence(self) -> int:
        return _PRECEDENCE[self]


_PRECEDENCE = {Effect.DENY: 3, Effect.REVIEW: 2, Effect.BENEFIT: 1, Effect.ALLOW: 0}


class ListKind(StrEnum):
    RED = "red"
    BLACK = "black"
