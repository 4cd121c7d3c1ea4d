"""`warroom runbooks lint`: every runbook file checked, with file and line for each finding.

Checks: the pydantic schema (`bot.domain.runbook`), ids equal to file names and unique, every placeholder
defined (built in or a param), every remediation argv rendered with sample values as its executor would take it
(`bot.domain.execution.build_request`: the values' patterns, the http argv shape), and every PromQL expression
(hypothesis queries and verifications, rendered with sample values) parsed by Prometheus itself: each is wrapped
in a recording rule of one temporary rules file that `promtool check rules` reads (Debian's `prometheus` package
ships promtool).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from bot.domain.execution import ExecutionRefused, build_request
from bot.domain.golden_signals import GOLDEN_SIGNALS
from bot.domain.neighbourhood import ScanScope, scan_queries
from bot.domain.runbook import BUILTIN_PLACEHOLDERS, UndefinedPlaceholder, render
from bot.runbooks import Finding, Loaded, load_paths

PROMTOOL_ENV = "WARROOM_PROMTOOL"
PROMTOOL_TIMEOUT = 60.0
_FAILURE = re.compile(r'group "q(\d+)", rule \d+, "[^"]*": (.*)')


class PromtoolMissing(RuntimeError):
    """promtool is not installed (or WARROOM_PROMTOOL does not point at it)."""


def find_promtool() -> str | None:
    """$WARROOM_PROMTOOL, else promtool on PATH, else None."""
    override = os.environ.get(PROMTOOL_ENV)
    if override:
        return override if os.access(override, os.X_OK) else None
    return shutil.which("promtool")


def promql_expressions(loaded: Loaded) -> list[tuple[str, int, str]]:
    """(path, line, expression) of every PromQL query of the loaded runbooks, rendered with sample values,
    and of the built-in golden-signal hypotheses and scan queries (named `golden-signals:<id>`, `scan:<name>`)."""
    out = [
        (f"golden-signals:{t.id}", 0, render(t.query.promql, BUILTIN_PLACEHOLDERS))
        for t in GOLDEN_SIGNALS
        if t.query.promql is not None
    ]
    scope = ScanScope("checkout", "shop", ("payments.api", "postgres"))
    out.extend((f"scan:{q.name}", 0, q.promql) for q in scan_queries(scope))
    for runbook in loaded.runbooks:
        values = runbook.sample_values()
        for path, query in runbook.queries():
            if query.promql is None:
                continue
            line = loaded.line_of(runbook.id, (*path, "promql"))
            try:
                out.append((loaded.files[runbook.id], line, render(query.promql, values)))
            except UndefinedPlaceholder:  # already a finding of the schema pass
                continue
    return out


def check_promql(expressions: list[tuple[str, int, str]], promtool: str) -> list[Finding]:
    """Findings for the expressions promtool cannot parse (one rules file, one group per expression)."""
    if not expressions:
        return []
    groups = [
        {"name": f"q{i}", "rules": [{"record": "warroom:runbook_lint", "expr": expr}]}
        for i, (_, _, expr) in enumerate(expressions)
    ]
    with tempfile.TemporaryDirectory(prefix="warroom-lint-") as tmp:
        rules = Path(tmp) / "rules.yml"
        rules.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=10_000))
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [promtool, "check", "rules", "--lint=none", str(rules)],
            capture_output=True,
            text=True,
            timeout=PROMTOOL_TIMEOUT,
            check=False,
        )
    findings = []
    for line in (result.stdout + result.stderr).splitlines():
        match = _FAILURE.search(line)
        if match:
            path, at, _ = expressions[int(match.group(1))]
            findings.append(Finding(path, at, f"PromQL: {match.group(2)}"))
    if result.returncode != 0 and not findings:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        findings.append(Finding("promtool", 0, "check rules failed: " + " / ".join(tail)))
    return findings


def check_steps(loaded: Loaded) -> list[Finding]:
    """Every remediation argv and rollback, rendered with sample values as its executor would get it: a sample
    value its placeholder's pattern refuses, or an http step that is not [METHOD, URL, JSON body], is a finding."""
    findings: list[Finding] = []
    for runbook in loaded.runbooks:
        values = runbook.sample_values()
        for i, step in enumerate(runbook.remediation):
            for key, template in (("argv", step.argv), ("rollback", step.rollback)):
                if template is None or runbook.undefined_placeholders():
                    continue  # undefined placeholders are already findings of the schema pass
                try:
                    build_request(action_id=step.id, executor=step.executor, template=template, values=values)
                except ExecutionRefused as exc:
                    line = loaded.line_of(runbook.id, ("remediation", i, key))
                    findings.append(Finding(loaded.files[runbook.id], line, f"remediation[{i}].{key}: {exc.reason}"))
    return findings


def lint(paths: list[Path], *, promql: bool = True, promtool: str | None = None) -> tuple[Loaded, list[Finding]]:
    """Load and check every runbook under `paths`; (what loaded, every finding sorted by file and line).

    With `promql` (the default) a missing promtool raises PromtoolMissing: the check is never skipped
    silently.
    """
    loaded = load_paths(paths)
    findings = [*loaded.findings, *check_steps(loaded)]
    if promql:
        tool = promtool or find_promtool()
        if tool is None:
            raise PromtoolMissing(
                "promtool not found: install Debian's `prometheus` package (make servers) or set WARROOM_PROMTOOL"
            )
        findings.extend(check_promql(promql_expressions(loaded), tool))
    findings.sort(key=lambda f: (f.path, f.line, f.message))
    return loaded, findings
