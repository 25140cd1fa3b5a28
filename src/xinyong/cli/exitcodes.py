"""Exit codes, one convention for every command, stated in each command's ``--help`` epilog.

0: done (the answer may still be negative where a command has no 1 below); 1: the command ran and found
something a script must react to (a denial, rejected rows, a broken audit chain, a failed delivery); 2: the
command could not do what was asked because of its input (a usage error, a bad option, an invalid or
ambiguous identifier, an unreadable file, something named that does not exist) or of its store (held by
another writer, an older schema, a full disk or other storage fault: one message naming the reason, and
nothing stored). A script can then tell "no" from "could not".
"""

from __future__ import annotations

import typer

OK, FINDINGS, INPUT_ERROR = 0, 1, 2

#: what exit code 1 means, per command path (a command not named here never exits 1 on purpose)
FINDINGS_BY_COMMAND = {
    "check": "the decision is deny (with --batch: some decision is deny and every line was decided)",
    "ingest": "some rows were rejected (listed in the rejects file); the others are stored",
    "audit verify": "the hash chain is broken (the first bad entry is named)",
    "notices": "a delivery failed (it is retried on the next run)",
    "policy lint": "a policy breaks the charter",
    "policy test": "a policy test case failed",
    "demo": "the audit log of the demo does not verify",
}
INPUT_ERRORS = ("a usage error, a bad option or date, an invalid or ambiguous identifier, an unreadable "
                "file, something named that does not exist, or a store that cannot be used (busy, older "
                "schema, or a storage fault: disk full, read-only, I/O error; nothing was stored)")


def epilog(command: str) -> str:
    """The ``--help`` epilog of ``command`` (its path, e.g. ``audit verify``)."""
    one = FINDINGS_BY_COMMAND.get(command)
    parts = ["0 done", f"1 {one}" if one else None, f"2 {INPUT_ERRORS}"]
    return "Exit codes: " + "; ".join(p for p in parts if p) + "."


def document(app: typer.Typer, prefix: str = "") -> None:
    """Give every command of ``app`` (and of its groups) the exit-code epilog, unless it has its own."""
    if not prefix and app.info.epilog is None:
        app.info.epilog = ("Exit codes: 0 done; 1 the command found something to act on (a denial, rejected "
                           f"rows, a broken audit chain, a failed delivery: see each command's --help); 2 "
                           f"{INPUT_ERRORS}.")
    for info in app.registered_commands:
        name = info.name or (info.callback.__name__.replace("_", "-") if info.callback else "")
        if info.epilog is None:
            info.epilog = epilog(f"{prefix}{name}")
    for group in app.registered_groups:
        if group.typer_instance is not None:
            document(group.typer_instance, f"{prefix}{group.name} ")
