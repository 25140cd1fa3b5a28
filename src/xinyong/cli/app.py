"""The Typer application and its command groups (each group lives in its own module).

The root group knows its commands by name and builds one only when it is asked for: ``xinyong policy
lint`` imports and builds the ``policy`` group and nothing else, where building every command meant
importing every command module and resolving every command's options (the service, the audit log, the
demo and the server code) on each start. ``--help`` and the completion still see every command: asking
the group for all of them builds all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from functools import cache
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

from xinyong.cli.exitcodes import document, epilog


@cache
def _lists_group() -> typer.Typer:
    from xinyong.cli import case_cmds, registry_cmds

    registry_cmds.lists_app.command("public")(case_cmds.lists_public)
    return registry_cmds.lists_app


@cache
def _audit_group() -> typer.Typer:
    from xinyong.cli import audit_cmds, registry_cmds

    registry_cmds.audit_app.command("verify")(audit_cmds.audit_verify)
    registry_cmds.audit_app.command("keygen")(audit_cmds.audit_keygen)
    registry_cmds.audit_app.command("checkpoint")(audit_cmds.audit_checkpoint)
    return registry_cmds.audit_app


#: Commands and groups of the root, in the order ``--help`` lists them: name -> "module:attribute" (a
#: command function or a ``typer.Typer`` group) or a function in this module that assembles a group.
COMMANDS: dict[str, str | Callable[[], typer.Typer]] = {
    "publish": "xinyong.cli.registry_cmds:publish",
    "ingest": "xinyong.cli.registry_cmds:ingest",
    "evaluate": "xinyong.cli.registry_cmds:evaluate",
    "check": "xinyong.cli.registry_cmds:check",
    "demo": "xinyong.cli.demo_cmd:demo",
    "migrate": "xinyong.cli.serve_cmds:migrate",
    "export": "xinyong.cli.lake_cmds:export",  # the Parquet lake and its engines
    "import-snapshot": "xinyong.cli.lake_cmds:import_snapshot",
    "serve": "xinyong.cli.serve_cmds:serve",  # the HTTP service
    "object": "xinyong.cli.case_cmds:object_cmd",  # due process
    "notices": "xinyong.cli.case_cmds:notices_cmd",
    "status": "xinyong.cli.case_cmds:status_cmd",
    "stats": "xinyong.cli.lab_cmds:stats",  # DP statistics
    "explain": "xinyong.cli.explain_cmd:explain",
    "policy": "xinyong.cli.policy_cmds:policy_app",
    "lists": _lists_group,
    "audit": _audit_group,
    "keys": "xinyong.cli.keys_cmds:keys_app",
    "cases": "xinyong.cli.case_cmds:cases_app",
    "repair": "xinyong.cli.case_cmds:repair_app",
    "lab": "xinyong.cli.lab_cmds:lab_app",  # the policy lab on synthetic populations
}


def _target(name: str) -> Any:
    spec = COMMANDS[name]
    if not isinstance(spec, str):
        return spec()
    module, attribute = spec.split(":")
    return getattr(import_module(module), attribute)


class _LazyCommands(MutableMapping[str, Any]):
    """The root's commands: those registered on the app, and those of :data:`COMMANDS`, built on first
    access (by name: only that one; by iterating the values: all of them)."""

    def __init__(self, built: dict[str, Any], build: Callable[[str], Any]) -> None:
        self._built = dict(built)
        self._build = build

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            self._built[name] = self._build(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self._built]))

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._built))


class LazyGroup(TyperGroup):
    """The root group: the commands of :data:`COMMANDS` are imported and built when first looked up."""

    def __init__(self, *, commands: dict[str, Any] | None = None, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands(commands or {}, self._build)

    def _build(self, name: str) -> Any:
        target, short = _target(name), app.pretty_exceptions_short
        if isinstance(target, typer.Typer):
            document(target, f"{name} ")  # every command's --help states the exit codes
            return get_group_from_info(TyperInfo(target, name=name), pretty_exceptions_short=short,
                                       rich_markup_mode=self.rich_markup_mode, suggest_commands=self.suggest_commands)
        return get_command_from_info(CommandInfo(name, callback=target, epilog=epilog(name)),
                                     pretty_exceptions_short=short, rich_markup_mode=self.rich_markup_mode)


def _root() -> None:
    """Nothing to do before a command (a callback makes the root a group whatever is registered on it)."""


app = typer.Typer(
    name="xinyong",
    cls=LazyGroup,
    callback=_root,
    help=(
        "xinyong (信用): a credit-information platform built for the rule of law.\n\n"
        "Agencies submit adjudicated records; a versioned policy turns them into scores, tiers, lists "
        "and measures; relying parties get decisions with their legal basis, never the data behind "
        "them; subjects see their whole file.\n\n"
        "Start with `xinyong demo`, or `xinyong policy lint policies/` to check policies against the "
        "charter. Typical flow: publish → ingest → evaluate → check / explain → audit verify."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


document(app)  # the root's epilog
