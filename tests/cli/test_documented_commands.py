"""Every ``vrrules ...`` line in the README and docs/cli.md names a real command with
options it has, and the exit codes documented agree with the code."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.cli.conftest import Files, run
from tests.conftest import SPECS
from vrrules.cli import cli
from vrrules.cli.errors import EXIT_CODES

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "docs" / "cli.md"]


def _command_lines() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for block in re.findall(r"```bash\n(.*?)```", doc.read_text(), flags=re.DOTALL):
            for raw in block.splitlines():
                line = raw.split("  #")[0].strip()
                if line.startswith(("vrrules ", ".venv/bin/vrrules ")) and "$(" not in line:
                    found.append((doc.name, line.removeprefix(".venv/bin/")))
    return found


def _options(command: click.Command) -> set[str]:
    return {name for param in command.params for name in getattr(param, "opts", [])} | {"--help", "-h"}


@pytest.mark.parametrize(("doc", "line"), _command_lines())
def test_documented_command_exists_with_its_options(doc: str, line: str) -> None:
    words = shlex.split(line)[1:]
    command: click.Command = cli
    known = _options(cli)
    while isinstance(command, click.Group):
        while words and words[0].startswith("-"):
            option = words.pop(0)
            assert option.split("=")[0] in known, (doc, line, option)
            if option == "--specs":
                words.pop(0)
        assert words, (doc, line)
        sub = command.commands.get(words.pop(0))
        assert sub is not None, (doc, line)
        command = sub
    known = _options(command)
    for word in words:
        if word.startswith("--"):
            assert word.split("=")[0] in known, (doc, line, word)


def test_documented_commands_cover_the_new_ones() -> None:
    lines = " ".join(line for _, line in _command_lines())
    for command in [
        "vrrules cases",
        "vrrules case show",
        "vrrules decide",
        "vrrules import",
        "vrrules facts",
        "vrrules due",
        "vrrules audit corrections",
    ]:
        assert command in lines, command


def test_exit_codes_are_documented_where_the_code_says() -> None:
    page = (ROOT / "docs" / "cli.md").read_text()
    for code in EXIT_CODES:
        assert f"| `{code}` |" in page, code
    ran = CliRunner().invoke(cli, ["--help"])
    for code in EXIT_CODES:
        assert re.search(rf"^\s+{code}\s", ran.output, flags=re.MULTILINE), code


def test_the_readme_tours_run_on_the_demo_store(
    files: Files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's vrrules lines, verbatim and in order, in a folder holding the demo store
    (the draft specs are the shipped ones; the --workers line is left out: it starts processes)."""
    shutil.copy(files.store, tmp_path / "vrrules-demo.db")
    shutil.copy(files.cases, tmp_path / "new-cases.yaml")
    (tmp_path / "my-draft-specs").symlink_to(SPECS, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    lines = [line for doc, line in _command_lines() if doc == "README.md" and "--workers" not in line]
    assert len(lines) >= 15
    for line in lines:
        ran = run(shlex.split(line)[1:])
        assert ran.code == 0, (line, ran.err)
        assert "Traceback" not in ran.out + ran.err
