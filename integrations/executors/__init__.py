"""Executors of remediation steps (the `bot.domain.execution.Executor` port): `dry_run` (says exactly what would
run), `command` (allow-listed programs), `kubectl` and `http` (allow-listed URLs). Commands run from argv lists,
never through a shell; their output is capped and redacted before it leaves the executor."""
