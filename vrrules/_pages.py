"""The package's HTML pages: jinja2 templates under ``vrrules/templates/`` (autoescape on,
undefined names refused).

Every page vrrules writes (the audit and what-if reports, the handbook) is a template there,
shipped in the wheel inside the package; values are escaped unless they are marked as HTML
already (``markupsafe.Markup``: the handbook's rendered Markdown).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

__all__ = ["render"]


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("vrrules", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, **context: Any) -> str:
    """The template ``name`` (e.g. ``"report.html.j2"``) filled with ``context``."""
    return _environment().get_template(name).render(**context)
