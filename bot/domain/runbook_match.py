"""Which runbooks fit an incident: ranked by alert name, labels, keywords and service (pure)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.domain.runbook import Runbook

EXACT_NAME = 5.0
LABEL = 3.0
KEYWORD = 1.0
MAX_KEYWORDS = 3
SERVICE = 2.0
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_GLOB_CHARS = set("*?[]")


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What matching looks at: the alert names, label values, free text and services of an incident."""

    alertnames: tuple[str, ...] = ()
    labels: tuple[Mapping[str, str], ...] = ()
    text: str = ""
    services: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        labels: Iterable[Mapping[str, str]],
        annotations: Iterable[Mapping[str, str]] = (),
        *,
        title: str = "",
        service_labels: Sequence[str] = ("service", "job"),
    ) -> IncidentFacts:
        """Facts from alerts' labels and annotations (summary, description) and the incident title."""
        label_sets = tuple(dict(x) for x in labels)
        names = tuple(dict.fromkeys(x["alertname"] for x in label_sets if x.get("alertname")))
        services: list[str] = []
        for x in label_sets:
            for key in service_labels:
                if x.get(key):
                    services.append(x[key])
                    break
        texts = [title, *(" ".join(_words(n)) for n in names)]
        texts.extend(x[k] for x in label_sets for k in ("job", "service", "container") if x.get(k))
        for a in annotations:
            texts.extend(a.get(k, "") for k in ("summary", "description", "message"))
        return cls(names, label_sets, " ".join(t for t in texts if t), tuple(dict.fromkeys(services)))


@dataclass(frozen=True, slots=True)
class RunbookMatch:
    """A runbook that fits, its score and why."""

    runbook: Runbook
    score: float
    reasons: tuple[str, ...]


def _words(name: str) -> list[str]:
    """`HighErrorRate` -> [High, Error, Rate]; `node_filesystem` -> [node, filesystem]."""
    return [w for part in re.split(r"[^A-Za-z0-9]+", name) for w in _CAMEL.split(part) if w]


def _is_glob(pattern: str) -> bool:
    return any(ch in _GLOB_CHARS for ch in pattern)


def _name_score(pattern: str, name: str) -> float:
    """5 for an exact name, 2-4 for a glob (more literal characters score higher), 0 otherwise."""
    if not _is_glob(pattern):
        return EXACT_NAME if pattern.lower() == name.lower() else 0.0
    if not fnmatch.fnmatchcase(name.lower(), pattern.lower()):
        return 0.0
    literal = sum(1 for ch in pattern if ch not in _GLOB_CHARS)
    return 2.0 + min(2.0, literal / 8)


def _keyword_in(keyword: str, text: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(keyword.lower())}(?![A-Za-z0-9])", text) is not None


def score_runbook(runbook: Runbook, facts: IncidentFacts) -> RunbookMatch | None:
    """How well one runbook fits; None when it does not (or is scoped to other services)."""
    reasons: list[str] = []
    score = 0.0
    if runbook.services:
        hit = next((s for s in facts.services for p in runbook.services if fnmatch.fnmatchcase(s, p)), None)
        if hit is None:
            return None
        score += SERVICE
        reasons.append(f"service {hit}")
    best_name = max(
        ((_name_score(p, n), n) for p in runbook.match.alertnames for n in facts.alertnames),
        default=(0.0, ""),
    )
    if best_name[0] > 0:
        score += best_name[0]
        reasons.append(f"alert {best_name[1]}")
    for key, pattern in runbook.match.labels.items():
        values = [x[key] for x in facts.labels if key in x]
        if any(fnmatch.fnmatchcase(v.lower(), pattern.lower()) for v in values):
            score += LABEL
            reasons.append(f"label {key}")
    text = facts.text.lower()
    found = [k for k in runbook.match.keywords if _keyword_in(k, text)][:MAX_KEYWORDS]
    if found:
        score += KEYWORD * len(found)
        reasons.append("keywords " + ", ".join(found))
    only_service = bool(runbook.services) and len(reasons) == 1
    if score <= 0 or only_service:
        return None
    return RunbookMatch(runbook, score, tuple(reasons))


def rank_runbooks(runbooks: Iterable[Runbook], facts: IncidentFacts, *, limit: int = 3) -> list[RunbookMatch]:
    """The best-fitting runbooks, best first (ties by id), at most `limit`."""
    matches = [m for r in runbooks if (m := score_runbook(r, facts)) is not None]
    matches.sort(key=lambda m: (-m.score, m.runbook.id))
    return matches[:limit]
