"""The pydantic-error formatter works for any model (the rules file today, runbook front matter next)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings

from bot.config import AppConfig, ConfigError, parse_config
from bot.config.errors import env_problems, problems


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    argv: list[str] = Field(min_length=1)
    risk: str = "low"

    @field_validator("risk")
    @classmethod
    def _risk(cls, value: str) -> str:
        if value not in ("low", "medium", "high"):
            raise ValueError(f"unknown risk {value!r}")
        return value


class Runbook(BaseModel):
    """A stand-in for the runbook front matter the lint will check."""

    model_config = ConfigDict(extra="forbid")

    id: str
    steps: list[Step] = []


def errors_of(model: type[BaseModel], data: dict) -> list[str]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return problems(info.value, model)


def test_another_model_gets_its_own_key_paths_and_allowed_keys():
    lines = errors_of(Runbook, {"id": "disk-full", "steps": [{"argv": ["df"]}, {"argv": [], "riks": "low"}]})
    assert lines == [
        "steps[1].argv: List should have at least 1 item after validation, not 0",
        "steps[1].riks: unknown key 'riks' (expected one of: argv, risk)",
    ]
    assert errors_of(Runbook, {"steps": [{"argv": ["x"], "risk": "extreme"}]}) == [
        "id: required key is missing",
        "steps[0].risk: unknown risk 'extreme'",
    ]


def test_the_rules_file_still_names_the_keys_its_model_allows():
    with pytest.raises(ConfigError) as info:
        parse_config("grouping:\n  by: [service]\n  windw: 5\n")
    allowed = ", ".join(AppConfig.model_fields["grouping"].annotation.model_fields)
    assert info.value.problems == [f"grouping.windw: unknown key 'windw' (expected one of: {allowed})"]


class Env(BaseSettings):
    token: SecretStr = Field(validation_alias="SOME_TOKEN")
    port: int = Field(validation_alias="SOME_PORT")


def test_environment_problems_name_variables_and_never_echo_a_secret():
    with pytest.raises(ValidationError) as info:
        Env.model_validate({"SOME_TOKEN": 12345, "SOME_PORT": "eighty"})
    lines = env_problems(info.value, Env)
    assert lines[0].startswith("SOME_TOKEN: ") and "12345" not in lines[0]
    assert lines[1].startswith("SOME_PORT: ") and "(got 'eighty')" in lines[1]
