"""`warroom runbooks lint` with Prometheus' own parser (promtool from Debian's `prometheus` package)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.runbook_lint import PromtoolMissing, find_promtool, lint
from tests.unit.test_runbooks import GOOD

LIBRARY = Path(__file__).resolve().parents[2] / "runbooks"


@pytest.fixture
def promtool() -> str:
    found = find_promtool()
    if found is None:
        message = "promtool is not installed: run make servers (Debian `prometheus`)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def test_the_shipped_library_is_clean(promtool: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runbooks", "lint", str(LIBRARY)]) == 0
    err = capsys.readouterr().err
    assert "runbook(s) valid, no problems" in err


def test_bad_promql_is_named_by_file_and_line(
    promtool: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = GOOD.replace("[{{window}}]))", "[{{window}}])")  # unclosed parenthesis
    (tmp_path / "sample.md").write_text(broken)
    line = broken.splitlines().index(next(x for x in broken.splitlines() if "promql:" in x)) + 1
    assert main(["runbooks", "lint", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'sample.md'}:{line}: PromQL:" in out
    assert "unclosed left parenthesis" in out


def test_a_missing_field_and_a_duplicate_id_fail_the_lint(promtool: str, tmp_path: Path) -> None:
    (tmp_path / "sample.md").write_text(GOOD.replace("    prior: 0.3\n", ""))
    other = tmp_path / "more"
    other.mkdir()
    (other / "sample.md").write_text(GOOD)
    (other / "second.md").write_text(GOOD.replace("id: sample", "id: second"))
    _, findings = lint([tmp_path, other], promtool=promtool)
    shown = [str(f) for f in findings]
    assert any(s.startswith(f"{tmp_path / 'sample.md'}:9: hypotheses.0.prior: Field required") for s in shown), shown
    # the broken file did not load, so the second copy is the first valid one; a third would be a duplicate
    (tmp_path / "third").mkdir()
    (tmp_path / "third" / "second.md").write_text(GOOD.replace("id: sample", "id: second"))
    _, findings = lint([other, tmp_path / "third"], promtool=promtool)
    assert [str(f) for f in findings] == [
        f"{tmp_path / 'third' / 'second.md'}:2: id: duplicate id 'second' (also in {other / 'second.md'})"
    ]


def test_valid_promql_that_promtool_accepts_passes(promtool: str, tmp_path: Path) -> None:
    (tmp_path / "sample.md").write_text(GOOD)
    loaded, findings = lint([tmp_path], promtool=promtool)
    assert findings == [] and [r.id for r in loaded.runbooks] == ["sample"]


def test_a_missing_promtool_is_an_error_not_a_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sample.md").write_text(GOOD)
    monkeypatch.setenv("WARROOM_PROMTOOL", str(tmp_path / "no-such-promtool"))
    with pytest.raises(PromtoolMissing):
        lint([tmp_path])
    assert main(["runbooks", "lint", str(tmp_path)]) == 2


def test_no_runbooks_is_a_finding(tmp_path: Path) -> None:
    _, findings = lint([tmp_path / "absent"], promql=False)
    assert [f.message for f in findings] == ["no such file or directory"]


def test_a_step_whose_sample_value_its_executor_would_refuse_is_a_finding(tmp_path: Path) -> None:
    text = GOOD.replace('params:\n  threshold: "0.05"', 'params:\n  threshold: "0.05"\n  replicas: "many"').replace(
        '-n, "{{namespace}}"]', '-n, "{{namespace}}", "--replicas={{replicas}}"]'
    )
    (tmp_path / "sample.md").write_text(text)
    _, findings = lint([tmp_path], promql=False)
    (finding,) = findings
    line = text.splitlines().index(next(x for x in text.splitlines() if "argv:" in x)) + 1
    assert finding.line == line and "remediation[0].argv" in finding.message and "{{replicas}}" in finding.message


def test_an_http_step_must_be_method_url_and_body(tmp_path: Path) -> None:
    text = GOOD.replace("executor: kubectl", "executor: http")
    (tmp_path / "sample.md").write_text(text)
    _, findings = lint([tmp_path], promql=False)
    assert [f.message for f in findings] == [
        "remediation[0].argv: refused: an http step's argv is [METHOD, URL] or [METHOD, URL, JSON body]"
    ]
