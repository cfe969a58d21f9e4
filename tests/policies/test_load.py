"""The strict YAML reader: safe data only, every duplicate and tag refused, lines kept."""

from __future__ import annotations

from vrrules.policies.yamlsource import read_yaml


def test_dates_stay_text_and_lines_are_kept() -> None:
    document, problems = read_yaml("a: 2025-07-01\nb:\n  - x\n  - y\n", "f.yaml")
    assert problems == [] and document is not None
    assert document.data == {"a": "2025-07-01", "b": ["x", "y"]}
    assert document.line_of(("b", 1)) == 4
    assert document.line_of(("b", 7, "deeper")) == 2  # falls back to the nearest known path


def test_nested_duplicate_keys_are_found() -> None:
    _, problems = read_yaml("a:\n  b: 1\n  b: 2\n", "f.yaml")
    assert [p.code for p in problems] == ["yaml_duplicate_key"]
    assert problems[0].line == 3 and "first on line 2" in problems[0].message


def test_every_python_tag_is_refused_and_nothing_runs(tmp_path: object) -> None:
    for tag in [
        "!!python/object/apply:os.system ['true']",
        "!!python/name:os.system",
        "!include other.yaml",
        "!!binary aGVsbG8=",
    ]:
        _, problems = read_yaml(f"a: {tag}\n", "f.yaml")
        assert [p.code for p in problems] == ["yaml_tag_refused"], tag


def test_billion_laughs_is_refused_quickly() -> None:
    text = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    _, problems = read_yaml(text, "f.yaml")
    assert problems and all(p.code == "yaml_alias_refused" for p in problems)


def test_two_documents_are_a_syntax_error() -> None:
    _, problems = read_yaml("a: 1\n---\nb: 2\n", "f.yaml")
    assert [p.code for p in problems] == ["yaml_syntax"]
