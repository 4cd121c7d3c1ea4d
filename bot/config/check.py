"""`warroom check-config`: validate the settings and the rules file, and say what the bot will do."""

from __future__ import annotations

from bot.config.errors import ConfigError
from bot.config.loading import load_config
from bot.config.response_rules import response_lines
from bot.config.rules import AppConfig
from bot.config.settings import Settings
from bot.exposure import exposure_lines


def check_config(settings: Settings) -> tuple[bool, str]:
    """Validate settings and rules file; return (ok, a human summary or the errors), never a secret."""
    errors: list[str] = [f"environment: {p}" for p in settings.problems()]
    config: AppConfig | None = None
    try:
        config = load_config(settings.config_path)
    except ConfigError as exc:
        errors.extend(str(exc).splitlines())
    if errors:
        return False, "configuration errors:\n" + "\n".join(f"  {e}" for e in errors)
    assert config is not None

    rules_file = "built-in defaults (no warroom.yml found)" if config.source is None else str(config.source.resolve())
    if settings.slack_configured:
        slack = "configured (Socket Mode)" if settings.socket_mode else "configured (HTTP mode)"
    else:
        slack = "not configured"
    if settings.local_mode:
        why = "forced by WARROOM_LOCAL_MODE" if settings.local_mode_setting else "no SLACK_BOT_TOKEN"
        mode = f"local ({why})"
        if settings.local_mode_public and not settings.listens_on_loopback:
            mode += ", listening beyond loopback (WARROOM_LOCAL_MODE_PUBLIC=true)"
    else:
        mode = "Slack"
    teams = ", ".join(sorted(config.teams)) or "none"
    integrations = {
        "jira": settings.jira_enabled,
        "pagerduty": settings.pagerduty_enabled,
        "prometheus": settings.prometheus_url is not None,
        "discord alerts": settings.discord_alerts_webhook_url is not None,
        "discord reports": settings.discord_reports_webhook_url is not None,
    }
    lines = [
        "configuration OK",
        f"  rules file:       {rules_file}",
        f"  severity rules:   {len(config.severity_rules)}",
        f"  teams:            {len(config.teams)} ({teams})",
        f"  on-call users:    {len(config.oncall.users)}",
        f"  approvers:        {len(config.approvers.users)} users, {len(config.approvers.usergroup)} user groups;"
        f" {config.permissions.major_changes.value} may lower or resolve SEV0/SEV1",
        f"  silences:         {len(config.silences)}",
        f"  escalation tiers: {len(config.escalation.tiers)}",
        *response_lines(config, settings),
        f"  grouping:         by {', '.join(config.grouping.by)}; "
        f"window {config.grouping.correlation_window_minutes} min; "
        f"auto-declare at {config.grouping.auto_declare_at.value} and above",
        f"  database:         {settings.database_url_display}",
        f"  listen:           {settings.host}:{settings.port}",
        f"  slack:            {slack}",
        f"  mode:             {mode}",
        "  integrations:     " + ", ".join(f"{k} {'on' if v else 'off'}" for k, v in integrations.items()),
        *exposure_lines(settings),
    ]
    return True, "\n".join(lines)
