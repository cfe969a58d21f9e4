"""The ``vrrules`` command line."""

from vrrules.cli.app import main

__all__ = ["main"]
