"""The runbook library on disk: parse `runbooks/<id>.md` files (problems carry file and line) and load a directory.

The schema is `bot.domain.runbook`; `bot.runbook_lint` adds the checks that need the whole library or
Prometheus' own parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.domain.runbook import Runbook

MAX_FILE_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of a runbook file, at a 1-based line."""

    line: int
    message: str


class RunbookError(ValueError):
    """A runbook file that cannot be used; `problems` each carry a line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"line {p.line}: {p.message}" for p in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem located in a file: `path:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(slots=True)
class Loaded:
    """What loading a directory gave: the valid runbooks (with their files and line maps) and the findings."""

    runbooks: list[Runbook] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # runbook id -> path
    roots: dict[str, tuple[yaml.Node | None, int]] = field(default_factory=dict)  # id -> (YAML root, first line)
    findings: list[Finding] = field(default_factory=list)

    def line_of(self, runbook_id: str, path: tuple[str | int, ...]) -> int:
        """The file line of a front-matter path of a loaded runbook."""
        root, first = self.roots[runbook_id]
        return node_line(root, path, first)


def split_front_matter(text: str) -> tuple[str, str, int]:
    """(front matter YAML, Markdown body, the file line where the YAML starts); RunbookError without it."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise RunbookError([Problem(1, "a runbook starts with a `---` line, then YAML front matter, then `---`")])
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), 2
    raise RunbookError([Problem(1, "the front matter is not closed by a `---` line")])


def node_line(root: yaml.Node | None, path: tuple[str | int, ...], first_line: int) -> int:
    """The file line of the deepest YAML node on `path` (the parent's line when a key is missing)."""
    node = root
    line = first_line + (root.start_mark.line if root is not None else 0)
    for key in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(key):
                    child = v
                    line = first_line + k.start_mark.line
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            child = node.value[key]
            line = first_line + child.start_mark.line
        if child is None:
            break
        node = child
    return line


def parse_runbook(text: str, *, expected_id: str | None = None) -> tuple[Runbook, yaml.Node | None, int]:
    """Parse and validate one runbook file's text: (runbook, YAML root node, first YAML line); RunbookError."""
    front, body, first = split_front_matter(text)
    try:
        root = yaml.compose(front, Loader=yaml.SafeLoader)
        data = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first + mark.line if mark is not None else 1
        raise RunbookError([Problem(line, f"YAML: {getattr(exc, 'problem', None) or exc}")]) from None
    if not isinstance(data, dict):
        raise RunbookError([Problem(first, "the front matter must be a mapping of keys")])
    if "body" in data:
        raise RunbookError([Problem(node_line(root, ("body",), first), "body: the body is the Markdown after ---")])
    try:
        runbook = Runbook.model_validate({**data, "body": body})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            where = ".".join(str(p) for p in loc) or "front matter"
            problems.append(Problem(node_line(root, loc, first), f"{where}: {err['msg']}"))
        raise RunbookError(sorted(problems, key=lambda p: p.line)) from None
    problems = [
        Problem(node_line(root, path, first), f"{'.'.join(map(str, path))}: undefined placeholder {{{{{name}}}}}")
        for path, name in runbook.undefined_placeholders()
    ]
    if expected_id is not None and runbook.id != expected_id:
        problems.append(Problem(node_line(root, ("id",), first), f"id: {runbook.id!r} must equal the file name"))
    if problems:
        raise RunbookError(problems)
    return runbook, root, first


def default_directory() -> Path:
    """`./runbooks` when it exists, else the library shipped next to the `bot` package (a source checkout)."""
    here = Path("runbooks")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parent.parent / "runbooks"


def runbook_files(paths: list[Path]) -> tuple[list[Path], list[Finding]]:
    """The `*.md` files named or inside the named directories (sorted per directory), and missing paths."""
    files: list[Path] = []
    missing: list[Finding] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.md")))
        elif path.is_file():
            files.append(path)
        else:
            missing.append(Finding(str(path), 0, "no such file or directory"))
    return files, missing


def load_paths(paths: list[Path]) -> Loaded:
    """Parse every runbook file of the given files and directories; a duplicate id is a finding (first wins)."""
    files, missing = runbook_files(paths)
    loaded = Loaded(findings=missing)
    for path in files:
        shown = str(path)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                loaded.findings.append(Finding(shown, 1, f"file larger than {MAX_FILE_BYTES} bytes"))
                continue
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            loaded.findings.append(Finding(shown, 1, f"cannot read: {exc}"))
            continue
        try:
            runbook, root, first = parse_runbook(text, expected_id=path.stem)
        except RunbookError as exc:
            loaded.findings.extend(Finding(shown, p.line, p.message) for p in exc.problems)
            continue
        if runbook.id in loaded.files:
            line = node_line(root, ("id",), first)
            other = loaded.files[runbook.id]
            loaded.findings.append(Finding(shown, line, f"id: duplicate id {runbook.id!r} (also in {other})"))
            continue
        loaded.runbooks.append(runbook)
        loaded.files[runbook.id] = shown
        loaded.roots[runbook.id] = (root, first)
    if not files and not missing:
        loaded.findings.append(Finding(", ".join(map(str, paths)), 0, "no runbooks (*.md) found"))
    return loaded
