"""TicketTracker on the `jira` library (REST API v2), its blocking calls run in worker threads of its own.

The client is made on first use (its construction asks `serverInfo`), with `max_retries=0`: retries and their
timing belong to the outbox and the circuit breaker, not to a sleep inside a thread. Errors become the port's:
unavailable (no answer, timeouts, 429, 5xx; `Retry-After` kept) or refused (any other 4xx). A `JIRAError` is
never turned into text: its `str()` can list the request's headers (`Authorization` among them) and the
answer's headers and body. Every
string sent passes `redact` once more (the tracker's last line; the core redacts before rendering).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from jira import JIRA, JIRAError

from bot.domain.outbound import Attachment, Link, TicketDraft, TrackerRefused, TrackerUnavailable
from bot.domain.text import Text
from bot.worker_threads import WorkerThreads
from integrations import jira_wiki

log = logging.getLogger("warroom.jira")
T = TypeVar("T")
DEFAULT_PRIORITIES = {"SEV0": "Highest", "SEV1": "High", "SEV2": "High", "SEV3": "Medium", "SEV4": "Low"}
ATTACHMENT_MAX = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class JiraOptions:
    """How a ticket maps onto the project's fields (from warroom.yml `jira`)."""

    project: str
    issue_type: str = "Task"
    summary: str = "[{severity}] {ref}: {title}"
    labels: tuple[str, ...] = ("warroom", "incident")
    priority_field: str | None = "priority"
    priorities: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PRIORITIES))
    severity_field: str | None = None
    services_field: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 10.0


def _jql(value: str) -> str:
    """A JQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(value: str) -> str:
    """Jira labels hold no spaces."""
    return "-".join(value.split())[:255]


def issue_fields(draft: TicketDraft, options: JiraOptions) -> dict[str, Any]:
    """The `fields` of a create request: project, type, summary, description, labels, priority from severity,
    severity and services where configured, and the configured static fields."""
    values = {"severity": draft.severity.value, "ref": draft.ref, "title": draft.title,
              "services": ", ".join(draft.services), "status": draft.status.value}  # fmt: skip
    fields: dict[str, Any] = dict(options.fields)
    fields.update(
        project={"key": options.project},
        issuetype={"name": options.issue_type},
        summary=jira_wiki.summary(options.summary.format_map(values)),
        description=description(draft),
        labels=list(dict.fromkeys([*(_label(x) for x in options.labels), _label(draft.label)])),
    )
    priority = options.priorities.get(draft.severity.value)
    if options.priority_field and priority:
        fields[options.priority_field] = {"name": priority}
    if options.severity_field:
        fields[options.severity_field] = {"value": draft.severity.value}
    if options.services_field and draft.services:
        svc = list(draft.services)
        fields[options.services_field] = [{"name": s} for s in svc] if options.services_field == "components" else svc
    return fields


def description(draft: TicketDraft) -> str:
    """The description in wiki markup: the facts, the core's text, the links."""
    lines = [
        f"*Severity:* {draft.severity.value}",
        f"*Status:* {draft.status.value}",
        f"*Declared:* {draft.declared_at:%Y-%m-%d %H:%M} UTC",
    ]
    if draft.services:
        lines.append("*Services:* " + jira_wiki.escape(", ".join(draft.services)))
    body = jira_wiki.render(draft.description)
    links = [f"* {jira_wiki.link(x)}" for x in draft.links]
    text = "\n".join([*lines, "", body, *(["", "*Links*", *links] if links else [])])
    return jira_wiki.cut(text, jira_wiki.TEXT_MAX)


class JiraTracker:
    """Tickets in one Jira project."""

    def __init__(
        self,
        *,
        url: str,
        user: str,
        token: str,
        options: JiraOptions,
        redact: Callable[[str], str] = lambda s: s,
        threads: WorkerThreads | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._auth = (user, token)
        self.options = options
        self.redact = redact
        self.threads = threads or WorkerThreads("jira", size=1)
        self._client: JIRA | None = None

    # -- the port --------------------------------------------------------------------------------

    async def find(self, label: str) -> str | None:
        """The key of the newest ticket of the project carrying `label`."""
        jql = f"project = {_jql(self.options.project)} AND labels = {_jql(_label(label))} ORDER BY created DESC"

        def search(j: JIRA) -> str | None:
            found = j.search_issues(jql, maxResults=1, fields="key", json_result=True, validate_query=False)
            issues = found.get("issues") if isinstance(found, dict) else None
            return str(issues[0]["key"]) if issues else None

        return await self._run("search", search)

    async def create(self, ticket: TicketDraft) -> str:
        """Create the issue; its key."""
        fields = self._scrub(issue_fields(ticket, self.options))
        return await self._run("create issue", lambda j: str(j.create_issue(fields=fields).key))

    async def update(self, key: str, ticket: TicketDraft) -> None:
        """Set the summary, the priority and the severity field from the ticket again."""
        every = issue_fields(ticket, self.options)
        names = ["summary", self.options.priority_field, self.options.severity_field]
        fields = self._scrub({k: every[k] for k in names if k and k in every})
        await self._run("update", lambda j: j.issue(key, fields="summary").update(fields=fields))

    async def comment(self, key: str, body: Text | str, links: Sequence[Link] = ()) -> str:
        """Add a comment in wiki markup (links after the text, one a line); its id."""
        markup = jira_wiki.render(body) + "".join(f"\n{jira_wiki.link(x)}" for x in links)
        markup = self.redact(jira_wiki.cut(markup, jira_wiki.TEXT_MAX))
        return await self._run("comment", lambda j: str(j.add_comment(key, markup).id))

    async def transition(self, key: str, names: Sequence[str]) -> str | None:
        """Move the issue by the first available transition named (or leading to a status named) in `names`."""
        wanted = [n.casefold() for n in names]

        def move(j: JIRA) -> str | None:
            available = j.transitions(key)
            for name in wanted:
                for t in available:
                    target = str((t.get("to") or {}).get("name") or "")
                    if name in (str(t.get("name", "")).casefold(), target.casefold()):
                        j.transition_issue(key, str(t["id"]))
                        return target or str(t.get("name"))
            return None

        return await self._run("transition", move)

    async def attach(self, key: str, attachment: Attachment) -> None:
        """Attach a file (at most 10 MiB); a text file is redacted first."""
        data = attachment.data
        if len(data) > ATTACHMENT_MAX:
            raise TrackerRefused(f"attachment {len(data)} bytes is over {ATTACHMENT_MAX}")
        if attachment.is_text:
            data = self.redact(data.decode("utf-8", errors="replace")).encode()
        name = self.redact(attachment.filename)
        await self._run("attach", lambda j: j.add_attachment(key, attachment=io.BytesIO(data), filename=name))

    async def close(self) -> None:
        """Wait for the calls in flight, then close the client's connections."""

        def finish() -> None:
            if self._client is not None:
                self._client.close()  # type: ignore[no-untyped-call]

        await self.threads.close(finish)

    # -- plumbing ---------------------------------------------------------------------------------

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list):
            return [self._scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        return value

    def _jira(self) -> JIRA:
        if self._client is None:
            self._client = JIRA(
                server=self.url, basic_auth=self._auth, max_retries=0, timeout=self.options.timeout,
                get_server_info=True, validate=False, options={"rest_api_version": "2"},
            )  # fmt: skip
        return self._client

    async def _run(self, what: str, call: Callable[[JIRA], T]) -> T:
        def job() -> T:
            try:
                return call(self._jira())
            except JIRAError as exc:
                raise self._error(what, exc) from None
            except requests.RequestException as exc:
                raise TrackerUnavailable(f"Jira {what}: {type(exc).__name__} (no answer)") from None
            except (KeyError, ValueError, TypeError) as exc:  # an answer that is not Jira's
                raise TrackerUnavailable(f"Jira {what}: unexpected answer ({type(exc).__name__})") from None

        return await self.threads.run(job)

    def _error(self, what: str, exc: JIRAError) -> TrackerRefused | TrackerUnavailable:
        """The port's error for a Jira answer, from its status and error messages only (never `str(exc)`)."""
        status = exc.status_code
        said = self.redact(str(exc.text or ""))[:300]
        message = f"Jira {what}: HTTP {status}" + (f": {said}" if said else "")
        if status is None or status in (408, 429) or status >= 500:
            return TrackerUnavailable(message, retry_after=_retry_after(exc))
        return TrackerRefused(message)


def _retry_after(exc: JIRAError) -> float | None:
    """Seconds from the answer's `Retry-After` header (seconds form), if any."""
    headers = getattr(exc.response, "headers", None) or {}
    value = str(headers.get("Retry-After") or "")
    return float(value) if value.isdigit() else None
