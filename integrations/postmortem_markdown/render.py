"""The post-mortem view model -> Markdown, through a Jinja2 template in a sandboxed environment.

Markdown is not HTML, so Jinja's autoescape is off; instead the template never sees raw data: the context is
built here with every string from the incident, its alerts and its people already escaped for Markdown
(`markdown.inline` / `markdown.block`, code spans for queries), times as `YYYY-MM-DD HH:MM:SS UTC`. A custom
template can only place those values; the sandbox keeps it away from Python internals. A template is checked
when it is loaded (compiled and rendered once against a sample), so a broken one is reported at start-up.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.domain.mttx import Milestones
from bot.domain.postmortem import ActionItem, Entry, Figure, PostmortemDoc, RootCause
from bot.domain.text import Text, visible
from integrations.postmortem_markdown import markdown as md

DEFAULT_TEMPLATE = Path(__file__).with_name("default.md.j2")
TEMPLATE_MAX = 256 * 1024
_TICKS = re.compile(r"`+")


class TemplateProblem(ValueError):
    """The post-mortem template cannot be used (missing, not UTF-8, invalid, fails to render); says why."""


def when(at: datetime | None) -> str:
    """`2026-11-23 09:00:00 UTC`, or `n/a`."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at is not None else "n/a"


def code(data: object) -> str:
    """Data as an inline code span on one line (a query): fenced by more backticks than it holds."""
    text = " ".join(visible(str(data)).split())
    if not text:
        return ""
    fence = "`" * (max((len(m) for m in _TICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _text(value: Text | None) -> str:
    return md.render(value) if value is not None else "n/a"


def _entry(e: Entry) -> dict[str, str]:
    return {"at": when(e.at), "text": md.render(e.text)}


def _figure(f: Figure) -> dict[str, Any]:
    return {
        "name": md.inline(f.name), "meaning": md.inline(f.meaning), "value": md.inline(f.value), "seconds": f.seconds,
        "target": md.inline(f.target) if f.target else None, "met": f.met,
    }  # fmt: skip


def _root_cause(r: RootCause | None) -> dict[str, Any] | None:
    if r is None:
        return None
    evidence = [
        {"query": code(e.query), "verdict": md.inline(e.verdict), "observed": md.inline(e.observed),
         "threshold": md.inline(e.threshold), "detail": md.inline(e.detail)}
        for e in r.evidence
    ]  # fmt: skip
    return {
        "title": md.inline(r.title), "service": md.inline(r.service), "cause": md.inline(r.cause),
        "posterior": md.inline(r.posterior), "confirmed_by": _text(r.confirmed_by),
        "confirmed_at": when(r.confirmed_at), "evidence": evidence,
    }  # fmt: skip


def _item(i: ActionItem) -> dict[str, str]:
    due: date | None = i.due
    return {
        "id": md.inline(i.id), "text": md.inline(i.text), "owner": _text(i.owner),
        "due": due.isoformat() if due else "no due date", "added_by": _text(i.added_by),
    }  # fmt: skip


def _milestones(m: Milestones) -> dict[str, str]:
    return {k: when(v) for k, v in asdict(m).items()}


def lines(items: tuple[str, ...]) -> list[str]:
    """Each item on one line, escaped."""
    return [md.inline(x) for x in items]


def context(doc: PostmortemDoc) -> dict[str, Any]:
    """What a template sees: every string escaped for Markdown already, times formatted."""
    return {
        "ref": md.inline(doc.ref), "version": doc.version, "generated_at": when(doc.generated_at),
        "title": md.inline(doc.title), "summary": md.block(doc.summary), "severity": md.inline(doc.severity),
        "worst_severity": md.inline(doc.worst_severity), "status": md.inline(doc.status),
        "declared_by": _text(doc.declared_by), "commander": _text(doc.commander),
        "jira_key": md.inline(doc.jira_key) if doc.jira_key else None, "services": lines(doc.services),
        "regions": lines(doc.regions), "alertnames": lines(doc.alertnames), "alert_count": doc.alert_count,
        "impact_duration": md.inline(doc.impact_duration), "milestones": _milestones(doc.milestones),
        "figures": [_figure(f) for f in doc.figures], "timeline": [_entry(e) for e in doc.timeline],
        "timeline_omitted": doc.timeline_omitted, "root_cause": _root_cause(doc.root_cause),
        "ruled_out": lines(doc.ruled_out), "actions_taken": [_entry(e) for e in doc.actions_taken],
        "action_items": [_item(i) for i in doc.action_items], "went_well": lines(doc.went_well),
        "went_poorly": lines(doc.went_poorly), "lucky": lines(doc.lucky),
    }  # fmt: skip


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > TEMPLATE_MAX:
            raise TemplateProblem(f"post-mortem template {path}: larger than {TEMPLATE_MAX} bytes")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateProblem(f"post-mortem template {path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise TemplateProblem(f"post-mortem template {path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise TemplateProblem(f"post-mortem template {path}: {exc.strerror or exc}") from None


class MarkdownPostmortem:
    """A PostmortemRenderer: Markdown from the built-in template, or from the one at `template` (checked now)."""

    def __init__(self, template: Path | None = None, *, sample: PostmortemDoc | None = None) -> None:
        path = template or DEFAULT_TEMPLATE
        self.path = path
        try:
            self.template = _environment().from_string(_read(path))
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f" line {line}" if line else ""
            raise TemplateProblem(f"post-mortem template {path}{where}: {exc}") from None
        if sample is not None:
            self.render(sample)

    def render(self, doc: PostmortemDoc) -> str:
        """The post-mortem in Markdown (TemplateProblem when the template fails on it)."""
        try:
            return self.template.render(context(doc))
        except TemplateError as exc:
            raise TemplateProblem(f"post-mortem template {self.path}: {exc}") from None


def sample_doc() -> PostmortemDoc:
    """A small post-mortem that fills every section, to check a template against when it is loaded."""
    from bot.domain.events import Event, EventKind
    from bot.domain.incident import Incident, Severity, Status
    from bot.domain.postmortem import Sources, postmortem

    t0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    inc = Incident(1, "INC-20260101-001", "Checkout errors", Severity.SEV2, Status.RESOLVED, t0, "U0ALICE",
                   services=["checkout"], alert_count=1, summary="Rolled back")  # fmt: skip
    log = [
        Event(1, 1, "c", 1, t0, "alertmanager", EventKind.DECLARED.value, "declared", {"severity": "SEV2"}),
        Event(2, 1, "c", 2, t0, "U0ALICE", EventKind.ACKNOWLEDGED.value, "acknowledged the incident"),
        Event(3, 1, "c", 3, t0, "U0ALICE", EventKind.ACTION_ITEM_ADDED.value, "added an action item",
              {"item": "ai-1", "text": "Add a canary", "owner": "U0BOB", "due": "2026-01-15"}),
        Event(4, 1, "c", 4, t0, "U0ALICE", EventKind.RESOLVED.value, "resolved the incident", {"summary": "x"}),
    ]  # fmt: skip
    return postmortem(Sources(inc, log), version=1, generated_at=t0)
