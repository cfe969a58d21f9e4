"""Running the vrrules command in-process (click's CliRunner isolation around ``main``) and
the files bad invocations point at."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import SPECS
from vrrules.cli import main

EXIT_CODES = {0, 1, 2, 3, 4, 130}


@dataclass(frozen=True)
class Ran:
    """What one invocation printed and returned."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("error[")]


def run(args: Sequence[str], env: dict[str, str | None] | None = None) -> Ran:
    """``vrrules ARGS`` through the real top-level handler, stdout and stderr kept apart."""
    runner = CliRunner()
    with runner.isolation(env=env) as (out, err, _):
        code = main(list(args))
    return Ran(code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace"))


def assert_clean_failure(ran: Ran, exit_code: int, code: str | None = None) -> None:
    """No traceback, the documented exit code, and exactly one ``error[code]:`` line."""
    assert "Traceback" not in ran.out + ran.err, ran.err
    assert ran.code == exit_code, (ran.code, ran.err, ran.out[:400])
    assert len(ran.error_lines) == 1, ran.err
    if code is not None:
        assert ran.error_lines[0].startswith(f"error[{code}]: "), ran.err


@dataclass(frozen=True)
class Files:
    """A demo store and the files bad invocations name."""

    tmp: Path
    store: Path
    bundle: Path
    digest: Path
    junk: Path
    random: Path
    empty: Path
    folder: Path
    empty_folder: Path
    bad_specs: Path
    bad_cases: Path
    cases: Path
    csv: Path
    bad_csv: Path
    deep: Path
    facts: Path
    wrong_digest: Path
    big: Path
    checkpoint: Path  # signed by signer, with its .leaves beside it
    unsigned: Path  # the same store, unsigned, no leaves
    memory_checkpoint: Path  # of another store's log, which this store does not extend
    ahead_checkpoint: Path  # of the demo store's log grown further: the store does not extend it
    bad_leaves: Path  # a checkpoint whose .leaves file is junk
    signer: Path
    verifier: Path
    other_verifier: Path  # a key that signed nothing here
    partial0: Path
    partial1: Path
    broken_invariant: Path  # tiers, its Tier 3 rule assigning Tier 1
    misfit_examples: Path  # tiers, an example naming a fact and a rule that do not exist

    def fill(self, args: Sequence[str]) -> list[str]:
        values = {name: str(getattr(self, name)) for name in self.__dataclass_fields__}
        values["specs"] = str(SPECS)
        values["missing"] = str(self.tmp / "missing-file")
        return [arg.format(**values) for arg in args]

    def store_copy(self, name: str) -> Path:
        copy = self.tmp / name
        shutil.copy(self.store, copy)
        return copy


GOOD_CASES = """\
cases:
  - case_ref: IMP-0001
    opened_on: 2025-11-03
    steps:
      - record: referral_received
        payload: {received_on: 2025-11-03, source: employer}
      - record: assessment_completed
        payload:
          assessed_on: 2025-11-10
          kind: initial
          depth: detailed
          assessor_id: vrp_1
          domains_examined: [health, physical]
          obstacles: [physical]
          support_needed: [workplace_assessment]
      - decide: tiers
  - case_ref: IMP-0002
    opened_on: 2025-11-04
    steps:
      - record: referral_received
        payload: {received_on: 2025-11-04, source: employer}
"""

MISFIT_EXAMPLES = """\
family: tiers
examples:
  - name: a misspelt fact and a rule that does not exist
    at: 2025-11-10
    given: {assessment_complete: true}
    expect: {fired: [tier-one]}
"""

BAD_CASES = (
    GOOD_CASES
    + """\
  - case_ref: IMP-0003
    opened_on: 2025-11-05
    steps:
      - record: referral_received
        payload: {received_on: 2025-13-05, source: employer}
"""
)


def _authoring_folders(tmp: Path) -> tuple[Path, Path]:
    """Specs ``vrrules check`` refuses although they load: a broken invariant, misfit examples."""
    tiers = (SPECS / "tiers" / "2025.1.yaml").read_text()
    slip = tiers.index("tier: 3", tiers.index("id: tier-3-integrated-intervention"))
    broken_invariant = tmp / "broken-invariant"
    broken_invariant.mkdir()
    (broken_invariant / "2025.1.yaml").write_text(tiers[:slip] + "tier: 1" + tiers[slip + 7 :])
    misfit_examples = tmp / "misfit-examples"
    misfit_examples.mkdir()
    (misfit_examples / "2025.1.yaml").write_text(tiers)
    (misfit_examples / "examples.yaml").write_text(MISFIT_EXAMPLES)
    return broken_invariant, misfit_examples


def _checkpoints(tmp: Path, store: Path) -> tuple[Path, Path, Path, Path, Path]:
    """Two key pairs; the store's checkpoint signed (with leaves) and unsigned; checkpoints of
    an empty log and of the store grown further; one with a junk leaves file."""
    assert run(["key", "--signing", "auditor.example", "--out", str(tmp / "auditor")]).code == 0
    assert run(["key", "--signing", "stranger.example", "--out", str(tmp / "stranger")]).code == 0
    checkpoint = tmp / "kept.checkpoint"
    signed = ["--signing-key", str(tmp / "auditor.key")]
    assert run(["audit", "checkpoint", "--store", str(store), *signed, "--out", str(checkpoint)]).code == 0
    unsigned = tmp / "unsigned.checkpoint"
    assert (
        run(["audit", "checkpoint", "--store", str(store), "--no-leaves", "--out", str(unsigned)]).code == 0
    )
    # another store's log (not an empty one: every log extends the empty log, whatever its origin)
    other = tmp / "other" / "other.db"
    other.parent.mkdir()
    (tmp / "other-cases.yaml").write_text(GOOD_CASES)
    assert run(["import", str(tmp / "other-cases.yaml"), "--store", str(other)]).code == 0
    memory_checkpoint = tmp / "other.checkpoint"
    assert run(["audit", "checkpoint", "--store", str(other), "--out", str(memory_checkpoint)]).code == 0
    ahead = tmp / "ahead" / store.name  # the same origin, two cases more
    ahead.parent.mkdir()
    shutil.copy(store, ahead)
    (tmp / "more-cases.yaml").write_text(GOOD_CASES)
    assert run(["import", str(tmp / "more-cases.yaml"), "--store", str(ahead)]).code == 0
    ahead_checkpoint = tmp / "ahead.checkpoint"
    assert run(["audit", "checkpoint", "--store", str(ahead), "--out", str(ahead_checkpoint)]).code == 0
    bad_leaves = tmp / "bad-leaves.checkpoint"
    shutil.copy(checkpoint, bad_leaves)
    Path(f"{bad_leaves}.leaves").write_bytes(b"not 32-byte hashes")
    Path(tmp / "taken.checkpoint.leaves").write_bytes(b"")  # an output's .leaves that exists
    return checkpoint, unsigned, memory_checkpoint, ahead_checkpoint, bad_leaves


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    tmp = tmp_path_factory.mktemp("cli")
    store = tmp / "demo.db"
    ran = run(["demo", "--store", str(store)])
    # exit 1 is a finding (a decision that does not replay): the store is still there to use
    assert ran.code in (0, 1) and store.exists(), ran.err
    checkpoint, unsigned, memory_checkpoint, ahead_checkpoint, bad_leaves = _checkpoints(tmp, store)
    bundle = tmp / "all.bundle.json"
    anchored = ["--checkpoint", str(checkpoint)]
    assert run(["audit", "bundle", "--store", str(store), *anchored, "--out", str(bundle)]).code == 0
    partials = [tmp / "part-0.json", tmp / "part-1.json"]
    for share, partial in enumerate(partials):
        ran = run(["audit", "verify", "--store", str(store), "--shard", f"{share}/2", "--out", str(partial)])
        assert ran.code == 0, ran.err
    digest = tmp / "kept.digest"
    assert run(["audit", "digest", "--store", str(store), "--out", str(digest)]).code == 0
    (tmp / "junk.txt").write_text("not a store, not a digest, not YAML cases at all\n")
    (tmp / "random.bin").write_bytes(bytes(range(256)) * 40)
    (tmp / "empty.txt").write_text("")
    (tmp / "folder").mkdir()
    (tmp / "folder" / "x.txt").write_text("x")
    (tmp / "empty-folder").mkdir()
    bad_specs = tmp / "bad-specs"
    bad_specs.mkdir()
    source = Path(__file__).parent.parent / "bad_specs" / "condition_fact_unknown.yaml"
    (bad_specs / "bad.yaml").write_text(source.read_text())
    broken_invariant, misfit_examples = _authoring_folders(tmp)
    (tmp / "cases.yaml").write_text(GOOD_CASES)
    (tmp / "bad-cases.yaml").write_text(BAD_CASES)
    (tmp / "rates.csv").write_text("location,lodging,meals\nSeattle,200.00,80.00\nOther,110.00,68.00\n")
    (tmp / "bad-rates.csv").write_text("where,how much\nSeattle,lots\n")
    (tmp / "deep.yaml").write_text("a: " + "[" * 3000 + "]" * 3000 + "\n")
    (tmp / "facts.yaml").write_text("nonsense_fact: 3\n")
    (tmp / "wrong.digest").write_text("0" * 64 + "\n")
    (tmp / "big.yaml").write_text("# padding\n" * 120_000)
    return Files(
        tmp=tmp,
        store=store,
        bundle=bundle,
        digest=digest,
        junk=tmp / "junk.txt",
        random=tmp / "random.bin",
        empty=tmp / "empty.txt",
        folder=tmp / "folder",
        empty_folder=tmp / "empty-folder",
        bad_specs=bad_specs,
        bad_cases=tmp / "bad-cases.yaml",
        cases=tmp / "cases.yaml",
        csv=tmp / "rates.csv",
        bad_csv=tmp / "bad-rates.csv",
        deep=tmp / "deep.yaml",
        facts=tmp / "facts.yaml",
        wrong_digest=tmp / "wrong.digest",
        big=tmp / "big.yaml",
        checkpoint=checkpoint,
        unsigned=unsigned,
        memory_checkpoint=memory_checkpoint,
        ahead_checkpoint=ahead_checkpoint,
        bad_leaves=bad_leaves,
        signer=tmp / "auditor.key",
        verifier=tmp / "auditor.pub",
        other_verifier=tmp / "stranger.pub",
        partial0=partials[0],
        partial1=partials[1],
        broken_invariant=broken_invariant,
        misfit_examples=misfit_examples,
    )
