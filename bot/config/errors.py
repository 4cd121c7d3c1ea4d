"""Configuration errors: `ConfigError`, and pydantic ValidationErrors as `key.path: problem` lines.

`problems(exc, model)` formats the errors of any pydantic model (the rules file's AppConfig, a runbook's front
matter, ...): key paths as written in YAML, unknown keys with the keys the model allows there, the input quoted
back only when it is short and the error is not about a secret. `env_problems` does the same for settings read
from the environment, naming each variable.
"""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr, ValidationError


class ConfigError(Exception):
    """Invalid settings or rules file; the message has one line per problem (source: key: problem)."""

    def __init__(self, source: str, problems: list[str]) -> None:
        """Keep the source name and the problems (`key: problem` strings) for callers."""
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


_NO_INPUT_ECHO = {"value_error", "assertion_error", "missing", "extra_forbidden"}


def _is_scalar(value: Any) -> bool:
    """Inputs short enough to quote back in an error message."""
    return isinstance(value, str | int | float | bool) and len(str(value)) <= 80


def _clean_message(msg: str) -> str:
    """Drop pydantic's `Value error, ` style prefixes."""
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def format_loc(loc: tuple[int | str, ...]) -> str:
    """('sla', 'SEV9', '[key]') -> 'sla.SEV9'; ('rules', 0, 'severity') -> 'rules[0].severity'."""
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional from a type."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class found by following `loc` from `root`, or None."""
    tp: Any = root
    for part in loc:
        tp = unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif get_origin(tp) is list:
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return None
    tp = unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _message(err: Any, model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """What is wrong, in words: unknown keys name the allowed ones, short inputs are quoted back."""
    msg = _clean_message(err["msg"])
    if err["type"] == "extra_forbidden":
        found = model_at(model, loc[:-1])
        allowed = ", ".join(found.model_fields) if found else ""
        return f"unknown key {loc[-1]!r}" + (f" (expected one of: {allowed})" if allowed else "")
    if err["type"] == "missing":
        return "required key is missing"
    if err["type"] not in _NO_INPUT_ECHO and _is_scalar(err.get("input")):
        return msg + f" (got {err['input']!r})"
    return msg


def problems(exc: ValidationError, model: type[BaseModel]) -> list[str]:
    """Format a ValidationError of `model` as `key.path: problem` lines."""
    errors = exc.errors()
    # An invalid dict key makes errors in its value noise: report only the key.
    bad_keys = {tuple(e["loc"][:-1]) for e in errors if e["loc"] and e["loc"][-1] == "[key]"}
    lines = []
    for err in errors:
        loc = tuple(err["loc"])
        if any(loc[: len(k)] == k and loc[-1] != "[key]" for k in bad_keys):
            continue
        msg = _message(err, model, loc)
        # Model-level validators name the key they blame ("key.path: problem").
        path = format_loc(loc)
        if err["type"] == "value_error" and re.match(r"^[\w\[\].]+: ", msg):
            key, msg = msg.split(": ", 1)
            path = f"{path}.{key}" if path else key
        lines.append(f"{path or 'top level'}: {msg}")
    return lines


def env_problems(exc: ValidationError, model: type[BaseModel]) -> list[str]:
    """Format a ValidationError of settings read from the environment: `VARIABLE: problem` lines.

    Fields are named by their `validation_alias` (the variable); a secret's input is never echoed.
    """
    secret_names = {str(f.validation_alias) for f in model.model_fields.values() if unwrap(f.annotation) is SecretStr}
    lines = []
    for err in exc.errors():
        loc = format_loc(err["loc"])
        msg = _clean_message(err["msg"])
        if loc not in secret_names and err["type"] not in _NO_INPUT_ECHO and _is_scalar(err.get("input")):
            msg += f" (got {err['input']!r})"
        lines.append(f"{loc}: {msg}" if loc else msg)
    return lines
