"""`xinyong audit ...`: verify the chain (against signed checkpoints), make keys and checkpoints."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from xinyong.cli.options import DEFAULT_DB, DbOpt, JsonOpt
from xinyong.cli.output import console, err_console, print_json
from xinyong.cli.render import esc

CheckpointsOpt = Annotated[Path | None, typer.Option(
    "--checkpoints", envvar="XINYONG_CHECKPOINTS", help="Directory of signed checkpoints of the chain head.")]


def audit_verify(
    db: DbOpt = DEFAULT_DB, json_out: JsonOpt = False,
    checkpoints: CheckpointsOpt = None,
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", envvar="XINYONG_CHECKPOINT_PUBLIC_KEY", help="The checkpoint key's public half (PEM).")] = None,
    expect_count: Annotated[int | None, typer.Option(help="The log must have exactly this many entries.")] = None,
    expect_head: Annotated[str | None, typer.Option(help="... and this hash at that entry.")] = None,
) -> None:
    """Check the whole hash chain: names the first edited, deleted or reordered entry. With --checkpoints
    (and --public-key) also the end of the log: a cut-off tail or a rewritten last entry is reported;
    --expect-count/--expect-head also catch appends after a known head. Read-only: safe while a server
    runs on PostgreSQL. Exit 0 intact, 1 broken, 2 bad input (e.g. a forged checkpoint)."""
    from xinyong.service.checkpoints import verify_with_checkpoints
    from xinyong.store import open_store

    with open_store(db, read_only=True, create=False, migrate=None) as store:
        out = verify_with_checkpoints(store, checkpoints, public_key, expect_count=expect_count,
                                      expect_head=expect_head)
    result = out.result
    if json_out:
        print_json({**dataclasses.asdict(result), "anchored": out.anchored, "unanchored": out.unanchored})
    elif result.ok:
        anchor = (f"; {out.anchored:,} anchored by the latest checkpoint, {out.unanchored:,} after it"
                  if checkpoints else "; not anchored (pass --checkpoints to check the end of the log)")
        console.print(f"[green]audit log intact[/]: {result.checked:,} entries, head {result.head_hash}{anchor}")
    else:
        console.print(f"[red]audit log broken at entry {result.first_bad_seq}[/]: {esc(result.reason or '')} "
                      f"({result.checked:,} entries verified before it)")
    raise typer.Exit(0 if result.ok else 1)


def audit_keygen(
    out: Annotated[Path, typer.Argument(help="Directory for checkpoint.key (private) and checkpoint.pub.")],
) -> None:
    """Create the Ed25519 key that signs checkpoints. Keep checkpoint.key away from the store's machine
    and its backups; publish checkpoint.pub to whoever verifies."""
    from xinyong.checkpoint import key_id, new_key

    out.mkdir(parents=True, exist_ok=True)
    private, public = new_key()
    key, pub = out / "checkpoint.key", out / "checkpoint.pub"
    if key.exists():
        raise typer.BadParameter(f"{key} exists; refusing to overwrite a signing key", param_hint="OUT")
    key.touch(mode=0o600)
    key.write_bytes(private)
    pub.write_bytes(public)
    err_console.print(f"wrote {key} (private, mode 600) and {pub}; key id {key_id(public)}", markup=False)


def audit_checkpoint(
    db: DbOpt = DEFAULT_DB,
    key: Annotated[Path, typer.Option("--key", envvar="XINYONG_CHECKPOINT_KEY", help="Private key (PEM).")] = Path(
        "checkpoint.key"),
    checkpoints: Annotated[Path, typer.Option("--checkpoints", envvar="XINYONG_CHECKPOINTS",
                                              help="Directory of checkpoints.")] = Path("checkpoints"),
    json_out: JsonOpt = False,
) -> None:
    """Sign the chain head now and write it to the checkpoint directory (the server does this
    periodically and at shutdown when started with --checkpoint-key)."""
    from xinyong.service.checkpoints import write_checkpoint
    from xinyong.store import open_store

    with open_store(db, read_only=True, create=False, migrate=None) as store:
        signed = write_checkpoint(store, key, checkpoints)
    if json_out:
        print_json(None if signed is None else {"count": signed.checkpoint.count, "head": signed.checkpoint.head,
                                                "key_id": signed.key_id})
    elif signed is None:
        console.print("nothing to checkpoint (empty log, or the head is already checkpointed)")
    else:
        console.print(f"checkpoint {signed.checkpoint.count}: {signed.checkpoint.head} (key {signed.key_id})")
