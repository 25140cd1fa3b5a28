"""`xinyong keys create|list|revoke`: API keys for the HTTP service (admin tasks, on the store file).

A key is printed once, when it is created; the store keeps only its sha256. Run these while the server
is stopped (the embedded DuckDB file has one writer) — a running server sees keys created by itself only.
"""

from __future__ import annotations

from typing import Annotated

import typer

from xinyong.cli.options import DEFAULT_DB, ActorOpt, DbOpt, JsonOpt
from xinyong.cli.output import console, err_console, print_json
from xinyong.cli.render import print_table

keys_app = typer.Typer(help="API keys of the HTTP service: principals with a role and scope.",
                       no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who holds the key, e.g. 'China Eastern ticketing'.")],
    role: Annotated[str, typer.Option("--role", help="agency | relying_party | subject | reviewer | admin.")],
    source: Annotated[str | None, typer.Option(help="agency: the catalogue source it submits as.")] = None,
    subject: Annotated[str | None, typer.Option(help="subject: the subject id whose file it reads.")] = None,
    action: Annotated[list[str] | None, typer.Option("--action", help="relying_party: an action it is "
                                                     "registered for (repeat for several).")] = None,
    holder: Annotated[str | None, typer.Option(help="Stable id of the person or institution holding it (a "
                                               "staff or organisation number); the same when rotating keys. "
                                               "Default: the name.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Create it even though the holder looks like an "
                                                        "existing one (a confusable name).")] = False,
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", json_out: JsonOpt = False,
) -> None:
    """Create a key. It is shown once: store it now; only its hash is kept. A holder whose name only looks
    like an existing holder's (e.g. a Cyrillic letter for a Latin one) is refused without --force."""
    from xinyong.service.principals import Principals, Role
    from xinyong.store import open_store

    try:
        as_role = Role(role)
    except ValueError:
        raise typer.BadParameter(f"{role!r} is not a role; choose one of {', '.join(Role)}",
                                 param_hint="--role") from None
    with open_store(db, create=False) as store:
        principal, key = Principals(store).create(name, as_role, source=source, subject=subject,
                                                  actions=action or [], by=actor, holder=holder, force=force)
    if json_out:
        print_json({**principal.as_dict(), "key": key})
        return
    console.print(f"key {principal.id} for {principal.name} ({principal.role.value}) created; it is shown "
                  "once:", markup=False)
    print(key)


@keys_app.command("list")
def keys_list(db: DbOpt = DEFAULT_DB, json_out: JsonOpt = False) -> None:
    """Every key ever issued (never the key itself), with its scope and whether it is revoked."""
    from xinyong.service.principals import Principals
    from xinyong.store import open_store
    with open_store(db, create=False) as store:
        principals = Principals(store).list()
    if json_out:
        print_json([p.as_dict() for p in principals])
        return
    print_table(console, ("id", "holder", "name", "role", "scope", "created", "revoked"), (
        (p.id, p.person, p.name, p.role.value, p.source or p.subject or ", ".join(p.actions) or "-",
         f"{p.created_at:%Y-%m-%d %H:%M}" if p.created_at else "",
         f"{p.revoked_at:%Y-%m-%d %H:%M}" if p.revoked_at else "") for p in principals), ids=("id", "holder"))


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from `keys list`).")],
    reason: Annotated[str, typer.Option(help="Why, for the audit log.")] = "revoked",
    db: DbOpt = DEFAULT_DB, actor: ActorOpt = "cli", json_out: JsonOpt = False,
) -> None:
    """Revoke a key from now on (requests with it get 401)."""
    from xinyong.service.principals import Principals
    from xinyong.store import open_store
    with open_store(db, create=False) as store:
        principal = Principals(store).revoke(key_id, by=actor, reason=reason)
    if json_out:
        print_json(principal.as_dict())
    else:
        err_console.print(f"key {principal.id} ({principal.name}) revoked", markup=False)
