"""The ``vrrules`` command line: one click command tree, one way to fail.

:func:`main` runs the tree and turns whatever goes wrong into one line on stderr,
``error[code]: ...``, and a documented exit code (see :mod:`vrrules.cli.errors`); with
``--json`` it also prints an error document on stdout. ``--debug`` adds the traceback.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import click

from vrrules.cli.errors import EXIT_INTERRUPTED, describe
from vrrules.cli.output import dumps
from vrrules.cli.root import cli

__all__ = ["cli", "main"]


def _flags(args: Sequence[str]) -> set[str]:
    return set(args[: args.index("--")] if "--" in args else args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``vrrules`` with ``argv`` (default: the process's arguments); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    flags = _flags(args)
    json_mode = "--json" in flags
    debug = "--debug" in flags or os.environ.get("VRRULES_DEBUG", "") not in ("", "0")
    try:
        result = cli.main(args=args, prog_name="vrrules", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except SystemExit as done:  # click's own exit on a closed pipe
        return done.code if isinstance(done.code, int) else 1
    except BrokenPipeError:
        sys.stderr.close()
        return EXIT_INTERRUPTED + 11  # 141, as a shell reports SIGPIPE
    except BaseException as error:  # the one place every failure becomes one coded line
        if isinstance(error, click.exceptions.NoArgsIsHelpError):
            click.echo(error.ctx.get_help() if error.ctx is not None else "", err=False)
            return 0
        problem = describe(error)
        if debug and problem.code != "usage":
            traceback.print_exception(error, file=sys.stderr)
        if json_mode:
            try:
                click.echo(dumps(problem.as_dict()))
            except Exception:  # details that do not serialise: the code and message still go out
                click.echo(dumps({"error": {"code": problem.code, "message": problem.message}}))
        click.echo(problem.line(), err=True)
        return problem.exit_code
    return result if isinstance(result, int) else 0
