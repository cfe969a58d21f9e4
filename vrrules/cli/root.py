"""The root of the ``vrrules`` command tree and its global options.

The tree loads lazily: ``vrrules due``, which a case worker runs every morning against a
store of any size, imports only its own module (:mod:`vrrules.cli.due_commands`) and what it
uses; any other command, ``vrrules --help`` and any look at ``cli.commands`` load the whole
tree (:mod:`vrrules.cli.app`), which registers every command on this group. The commands and
their behaviour are the same either way; only what is imported differs.
"""

from __future__ import annotations

import importlib
from collections.abc import MutableMapping
from pathlib import Path

import click

from vrrules.cli.common import EPILOG, Group, State
from vrrules.cli.params import ExistingPath

__all__ = ["LIGHT_COMMANDS", "cli"]

# the commands loaded on their own, by module and attribute
LIGHT_COMMANDS = {"due": ("vrrules.cli.due_commands", "due")}

_loading: list[bool] = []


def _load_tree() -> None:
    if not _loading:
        _loading.append(True)  # before the import: the tree registers its commands on this group
        importlib.import_module("vrrules.cli.app")


class _Root(Group):
    """The root group: a command listed in :data:`LIGHT_COMMANDS` is imported alone when it is
    the one asked for; everything else needs the whole tree."""

    @property
    def commands(self) -> MutableMapping[str, click.Command]:
        _load_tree()
        return self._commands

    @commands.setter
    def commands(self, value: MutableMapping[str, click.Command]) -> None:
        self._commands = value

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        light = LIGHT_COMMANDS.get(cmd_name)
        if light is not None and cmd_name not in self._commands:
            module, attribute = light
            self._commands[cmd_name] = getattr(importlib.import_module(module), attribute)
        if cmd_name in self._commands:
            return self._commands[cmd_name]
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Root, epilog=EPILOG, invoke_without_command=False, no_args_is_help=True)
@click.option(
    "--specs",
    type=ExistingPath(what="specs folder or spec file"),
    default=None,
    help="folder of spec files for commands that read specs (default: $VRRULES_SPECS, else specs/)",
)
@click.option("--debug", is_flag=True, help="on a failure, also print the Python traceback (for bug reports)")
@click.version_option(package_name="vrrules", prog_name="vrrules", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, *, specs: Path | None, debug: bool) -> None:
    """vrrules: vocational-rehabilitation policy as YAML specs, decided over a case history.

    \b
    Examples:
      vrrules demo                                  record, decide, replay the samples
      vrrules check specs/                          load every spec, report every problem
      vrrules audit verify --store vrrules-demo.db  chains, replays, digest
      vrrules cases --store vrrules-demo.db --json
    """
    ctx.obj = State(specs=specs, debug=debug)
