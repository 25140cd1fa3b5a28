"""Principals and their API keys: who may call the HTTP service, and for what.

A principal has one role, narrowed by a scope:

- ``agency``: submits records as one catalogue source (so only the record types the catalogue lets
  that source submit) and amends only its own records;
- ``relying_party``: asks for decisions on the actions it is registered for, always with a purpose;
- ``subject``: reads its own file, nobody else's;
- ``reviewer``: reads a subject's file for a stated purpose (objections, appeals, repair) and records
  the amendments its decisions entail;
- ``admin``: manages keys.

Keys are 256-bit random values from :mod:`secrets`, shown once and stored as sha256: a fast hash is
enough for a value nobody can guess, and it lets each request be authenticated with one dict lookup.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from xinyong.audit import utc_now
from xinyong.model.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from xinyong.model.identifiers import SchemeRegistry, default_schemes
from xinyong.policy.decide import action_covers
from xinyong.policy.schema import ACTION_PATTERN
from xinyong.store.protocol import FullStore, KeyRow

if TYPE_CHECKING:
    from xinyong.policy.loader import LoadedPolicy
    from xinyong.service.registry import Registry

KEY_PREFIX = "xy_"


class Role(StrEnum):
    AGENCY = "agency"
    RELYING_PARTY = "relying_party"
    SUBJECT = "subject"
    REVIEWER = "reviewer"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a key's id, holder name, role and scope (never the key or its hash)."""

    id: str
    name: str
    role: Role
    source: str | None = None
    subject: str | None = None
    actions: tuple[str, ...] = ()
    created_at: datetime | None = None
    revoked_at: datetime | None = None
    holder: str | None = None

    @property
    def person(self) -> str:
        """The stable id of the person or institution holding the key (its name for keys created without
        one): what "the same reviewer" compares, across rotated keys."""
        return self.holder or self.name

    @property
    def actor(self) -> str:
        """How the audit log names the caller: role, holder and key id."""
        return f"{self.role.value}:{self.person}#{self.id}"

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = " or ".join(r.value for r in roles)
            raise Forbidden(f"a {self.role.value} key may not do this; it needs a {allowed} key", field="role")

    def may_check(self, action: str) -> None:
        """A relying party may check only the actions it is registered for (or their sub-actions)."""
        self.require(Role.RELYING_PARTY)
        if not any(action_covers(a, action) for a in self.actions):
            raise Forbidden(f"this key is not registered for action {action!r}; registered: "
                            f"{', '.join(self.actions)}", field="action")

    def may_read_file(self, subject: str) -> None:
        """A subject reads only its own file; reviewers read files for their cases."""
        self.require(Role.SUBJECT, Role.REVIEWER)
        if self.role is Role.SUBJECT and subject != self.subject:
            raise Forbidden("a subject key may read only its own file", field="subject")

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "holder": self.person, "role": self.role.value, "source": self.source,
                "subject": self.subject, "actions": list(self.actions),
                "created_at": self.created_at.isoformat() if self.created_at else None,
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _principal(row: KeyRow) -> Principal:
    return Principal(row.id, row.name, Role(row.role), row.source, row.subject, row.actions, row.created_at,
                     row.revoked_at, row.holder)


def skeleton(text: str) -> str:
    """A name's look, after Unicode TR 39's idea of a skeleton: NFKC, case-folded, each character replaced
    by the smallest code point it is confusable with (the confusables data of ``confusable_homoglyphs``),
    so "Li" and "Lі" (a Cyrillic і) have the same skeleton. Hand-written on purpose: the library answers
    "is this confusable", not "are these two the same"."""
    from confusable_homoglyphs import confusables

    data = confusables.confusables_data
    out = []
    for ch in unicodedata.normalize("NFKC", text).casefold():
        alts = [h["c"] for h in data.get(ch, []) if len(h["c"]) == 1]
        out.append(min([ch, *alts]))
    return "".join(out).strip()


class Principals:
    """Create, list, revoke and authenticate keys over one store.

    Live keys are cached by hash in memory (filled on first use, updated on every create and revoke in
    this process), so authentication costs a sha256 and a dict lookup, not a query.
    """

    def __init__(self, store: FullStore, schemes: SchemeRegistry | None = None, *,
                 registry: Registry | None = None, today: Callable[[], date] = date.today) -> None:
        self.keys = store.keys
        self.store = store
        self.schemes = schemes or default_schemes()
        self._registry = registry
        self.today = today  # the service's day (fixed in the demo and tests), as decisions use it
        self._live: dict[str, Principal] | None = None
        self._mutex = threading.Lock()

    @property
    def registry(self) -> Registry:
        """The registry whose published policies say which actions are governed (the service's own, when
        it passes it: its versions are loaded once, not on every key)."""
        if self._registry is None:
            from xinyong.service.registry import Registry

            self._registry = Registry(self.store, schemes=self.schemes)
        return self._registry

    def create(self, name: str, role: Role | str, *, source: str | None = None, subject: str | None = None,
               actions: Iterable[str] = (), by: str = "cli", holder: str | None = None,
               force: bool = False) -> tuple[Principal, str]:
        """A new key for a principal; returns the principal and the key (shown once, never stored).

        ``holder``: the stable id of the person or institution (give the same one when rotating keys).
        A holder that only looks like an existing one (a confusable name: "Li" and a Cyrillic "Lі") is
        refused unless ``force``: one reviewer must not pass for another."""
        role = Role(role) if isinstance(role, str) and role in Role._value2member_map_ else role
        if not isinstance(role, Role):
            raise InvalidInput(f"unknown role {role!r}; roles: {', '.join(r.value for r in Role)}", field="role")
        if not name.strip():
            raise InvalidInput("name who holds the key", field="name")
        acts = tuple(dict.fromkeys(a.strip() for a in actions if a.strip()))
        if (source is not None) != (role is Role.AGENCY):
            raise InvalidInput("an agency key needs --source, and only an agency key takes one", field="source")
        if (subject is not None) != (role is Role.SUBJECT):
            raise InvalidInput("a subject key needs --subject, and only a subject key takes one", field="subject")
        if bool(acts) != (role is Role.RELYING_PARTY):
            raise InvalidInput("a relying-party key needs at least one --action it is registered for, and "
                               "only a relying-party key takes actions", field="actions")
        for a in acts:  # the same spelling as a measure's action, so a registration can match one
            if not re.fullmatch(ACTION_PATTERN, a):
                raise InvalidInput(f"action {a!r} is not a dotted action id like transport.flight.purchase",
                                   field="actions")
        with self.store.lock:
            if acts:
                self._refuse_ungoverned(acts)
            if source is not None and not self.keys.source_exists(source):
                raise NotFound(f"source {source!r} is not registered in the catalogue; publish policies "
                               "first", field="source")
            subject_key = self.schemes.parse(subject).key if subject is not None else None
            person = (holder or "").strip() or None
            if not force:
                self._refuse_lookalike(person or name.strip())
            key = KEY_PREFIX + secrets.token_urlsafe(32)
            row = KeyRow(secrets.token_hex(6), name.strip(), role.value, source, subject_key, acts,
                         hash_key(key), utc_now(), by, holder=person)
            self.keys.add(row)
            principal = _principal(row)
            if self._live is not None:
                self._live[row.key_hash] = principal
        return principal, key

    def governed_actions(self) -> set[str]:
        """The actions the measures of the policies in force govern: of each policy, the version in force
        today and its latest (published to take effect later), never a version they superseded. The
        versions are those the store holds now (another process may have published since)."""
        self.registry.versions(current=True)
        in_force: dict[str, LoadedPolicy] = {}
        for day in (self.today(), None):
            try:
                in_force.update({lp.policy.ref: lp for lp in self.registry.policies(day)})
            except NotFound:
                continue  # nothing published, or nothing in force yet
        return {m.action for lp in in_force.values() for m in lp.policy.measures}

    def _refuse_ungoverned(self, actions: tuple[str, ...]) -> None:
        """A relying party registers only for actions a published measure governs (the action itself, a
        sub-action, or a family of them): a key for anything else would check what no rule restricts."""
        governed = self.governed_actions()
        for a in actions:
            if not any(action_covers(g, a) or action_covers(a, g) for g in governed):
                raise InvalidInput(f"no published measure governs action {a!r}; a relying party registers for "
                                   "actions the published policies restrict (see GET /v1/policies)",
                                   field="actions")

    def _refuse_lookalike(self, person: str) -> None:
        mine = skeleton(person)
        for p in map(_principal, self.keys.all()):
            if p.person != person and skeleton(p.person) == mine:
                raise InvalidInput(f"holder {person!r} looks like the existing holder {p.person!r} (key {p.id}): "
                                   "a different person needs a name that reads differently; the same person "
                                   f"rotates keys with --holder {p.person!r}; --force if they are truly "
                                   "different", field="holder")

    def revoke(self, key_id: str, by: str = "cli", reason: str = "revoked") -> Principal:
        with self.store.lock:
            row = self.keys.revoke(key_id, by, reason)
            if self._live is not None:
                self._live.pop(row.key_hash, None)
        return _principal(row)

    def list(self) -> list[Principal]:
        with self.store.lock:
            return [_principal(r) for r in self.keys.all()]

    def warm(self) -> None:
        """Load the live keys now (at startup), so that no request waits for the store to authenticate."""
        with self._mutex, self.store.lock:
            if self._live is None:
                self._live = {r.key_hash: _principal(r) for r in self.keys.all() if r.revoked_at is None}

    def reload(self) -> bool:
        """Re-read the live keys (the caller holds the store lock): a key created or revoked by another
        process (another worker, ``xinyong keys revoke``) takes effect here too. True if anything changed.
        The key table is small (one row per key of an institution or person), so this is one cheap query,
        run by the server's follow loop."""
        fresh = {r.key_hash: _principal(r) for r in self.keys.all() if r.revoked_at is None}
        with self._mutex:
            changed = self._live is None or fresh.keys() != self._live.keys()
            if changed:
                self._live = fresh
        return changed

    def authenticate(self, key: str | None) -> Principal:
        """The principal holding ``key``; :class:`Unauthenticated` if missing, unknown or revoked."""
        if not key:
            raise Unauthenticated("an API key is required: send 'Authorization: Bearer <key>'")
        if self._live is None:
            self.warm()
        assert self._live is not None
        principal = self._live.get(hash_key(key))
        if principal is None:
            raise Unauthenticated("the API key is unknown or revoked")
        return principal

    def live(self, key_id: str, key_hash: str) -> Principal | None:
        """The principal of a key signed in earlier (a browser session holds its id and hash, never the
        key), or None once the key is revoked: revoking a key ends its sessions at once."""
        if self._live is None:
            self.warm()
        assert self._live is not None
        principal = self._live.get(key_hash)
        return principal if principal is not None and principal.id == key_id else None


@dataclass(frozen=True)
class DemoKey:
    principal: Principal
    key: str


def create_demo_keys(store: FullStore, subject: str) -> dict[str, DemoKey]:
    """Keys for the demo server: an airline, a court enforcement bureau, one subject, two reviewers (an appeal
    goes to the one who did not decide the objection), an admin."""
    p = Principals(store)
    out = {}
    for label, name, role, kw in (
        ("airline", "Demo Airlines ticketing", Role.RELYING_PARTY,
         {"actions": ["transport.flight.purchase"]}),
        ("agency", "Demo court enforcement bureau", Role.AGENCY, {"source": "court.enforcement"}),
        ("subject", "the demo debtor", Role.SUBJECT, {"subject": subject}),
        ("reviewer", "Demo credit office reviewer", Role.REVIEWER, {}),
        ("reviewer2", "Demo appeals reviewer", Role.REVIEWER, {}),  # an appeal goes to a different reviewer
        ("admin", "Demo key administrator", Role.ADMIN, {}),
    ):
        principal, key = p.create(name, role, by="demo", **kw)
        out[label] = DemoKey(principal, key)
    return out
