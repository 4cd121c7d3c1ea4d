"""Replies about diagnosis, as neutral Text (the chat port escapes the data): the hypotheses of an incident
and a runbook for people."""

from __future__ import annotations

import re

from bot.domain.hypotheses import Status, Verdict
from bot.domain.incident import Incident
from bot.domain.root_cause import StoredHypothesis
from bot.domain.runbook import Runbook
from bot.domain.text import Mention, Strong, Text

REPLY_MAX = 3500  # an ephemeral reply stays readable; the rest is in the API
EVIDENCE_SHOWN = 2
_HEADING = re.compile(r"^#{1,6}\s+(.*)\Z")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
VERDICT = {Verdict.SUPPORTS: "supports", Verdict.CONTRADICTS: "contradicts", Verdict.INCONCLUSIVE: "inconclusive"}


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def _status(h: StoredHypothesis) -> Text:
    if h.status is Status.OPEN:
        return Text.of("open")
    who = Mention(h.decided_by) if h.decided_by and Mention(h.decided_by).valid else (h.decided_by or "someone")
    return Text.of(h.status.value, " by ", who)


def hypotheses_text(incident: Incident, hypotheses: list[StoredHypothesis], *, enabled: bool) -> Text:
    """The hypotheses of an incident, highest posterior first, with their strongest evidence."""
    if not hypotheses:
        why = "the diagnosis has not run yet" if enabled else "diagnostics are off (set PROMETHEUS_URL or AWS_REGION)"
        return Text.of(f":mag: No hypotheses for {incident.ref}: {why}.")
    text = Text.of(":mag: ", Strong(f"Hypotheses for {incident.ref}"), " (highest posterior first)")
    if incident.root_cause:
        text = Text.of(text, "\n:dart: Root cause: ", incident.root_cause)
    for i, h in enumerate(hypotheses, start=1):
        rank = f"#{h.rank}" if h.rank else "—"
        line = Text.of(f"\n{i}. {rank} ", Strong(h.title), f" — {_pct(h.prior)} → {_pct(h.posterior)} · ")
        line = Text.of(line, _status(h), " · blames ", h.service or "no single component", f" ({h.cause.value})")
        for e in h.evidence[:EVIDENCE_SHOWN]:
            line = Text.of(line, f"\n      {VERDICT[e.verdict]}: ", e.detail or e.query)
        if len(text.data()) + len(line.data()) > REPLY_MAX:
            return Text.of(text, f"\n…and more in GET /api/v1/incidents/{incident.ref}/hypotheses")
        text = Text.of(text, line)
    return text


def _body(markdown: str) -> Text:
    """The runbook's Markdown as Slack reads it: headings in bold, `**x**` as bold, the rest as written."""
    parts: list[Text] = []
    for raw in markdown.strip().splitlines():
        heading = _HEADING.match(raw)
        if heading:
            parts.append(Text.of(Strong(heading.group(1).strip())))
        else:
            parts.append(Text.of(_BOLD.sub(r"\1", raw)))
    return Text.join("\n", parts)


def runbook_text(runbook: Runbook, *, matched_for: str | None = None) -> Text:
    """A runbook for people: title, summary, the causes it tests, the remediation steps, then its body."""
    head = Text.of(":blue_book: ", Strong(f"{runbook.title}"), f" (`{runbook.id}`)")
    if matched_for:
        head = Text.of(head, f" — best match for {matched_for}")
    lines = [head]
    if runbook.summary:
        lines.append(Text.of(runbook.summary))
    if runbook.hypotheses:
        causes = ", ".join(f"{h.title} ({h.cause.value})" for h in runbook.hypotheses)
        lines.append(Text.of(Strong("Tests"), ": ", causes))
    for s in runbook.remediation:
        lines.append(Text.of("• ", Strong(s.title), f" — risk {s.risk.value}, {s.executor}: ", " ".join(s.argv)))
    if runbook.body.strip():
        lines.append(_body(runbook.body))
    text = Text.join("\n", lines)
    if len(text.data()) > REPLY_MAX:
        return Text.of(Text.join("\n", lines[:-1]), "\n(the rest of the runbook is in runbooks/", runbook.id, ".md)")
    return text
