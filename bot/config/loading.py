"""Reading the rules file: YAML (duplicate keys refused) into a validated `AppConfig`, or a `ConfigError` that
names the file, the key and the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.config.errors import ConfigError, problems
from bot.config.rules import AppConfig

DEFAULT_CONFIG_FILE = Path("warroom.yml")
"""The rules file used when `WARROOM_CONFIG` is not set (relative to the working directory)."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    """Build a mapping, raising on a duplicate key with its position."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, list | dict):
            continue  # unhashable; construct_mapping reports it
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def resolve_config_path(path: Path | str | None) -> Path | None:
    """The rules file to read: `path` when given, else ./warroom.yml when it exists, else None."""
    if path is not None:
        return Path(path)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def parse_config(text: str, source: str = "warroom.yml") -> AppConfig:
    """Parse and validate rules-file text; raise ConfigError naming `source`, the key and the problem."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = "; ".join(p for p in (exc.context, exc.problem) if p)
        raise ConfigError(source, [f"{where}YAML syntax error: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"YAML syntax error: {exc}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        sections = ", ".join(AppConfig.model_fields)
        raise ConfigError(source, [f"top level: expected a mapping of sections ({sections}), got {kind}"])
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, problems(exc, AppConfig)) from None


def load_config(path: Path | str | None = None) -> AppConfig:
    """Load the rules file (`path`, else ./warroom.yml if present, else built-in defaults)."""
    resolved = resolve_config_path(path)
    if resolved is None:
        return AppConfig()
    source = str(resolved)
    try:
        text = resolved.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, ["file not found"]) from None
    except IsADirectoryError:
        raise ConfigError(source, ["is a directory, not a file"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(source, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except OSError as exc:
        raise ConfigError(source, [f"cannot read: {exc.strerror or exc}"]) from None
    config = parse_config(text, source)
    config._source = resolved
    return config
