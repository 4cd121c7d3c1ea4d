"""Stub programs for the executor tests, written into a temporary directory that the executors get first on PATH.

`recorder(bin_dir, name)` writes a program that records what it was given (argv, environment, stdin, whether it
leads its own session) as JSON lines into `<bin_dir>/<name>.calls`, prints what its arguments ask for
(`print=<text>`, `bytes=<n>`) and exits with `exit=<code>`. `sleeper` leaves a grandchild behind and waits; it
writes both pids first, so a test can check that a timeout killed the whole process group.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

RECORDER = """#!{python}
import json, os, sys
record = {{"argv": sys.argv, "env": dict(os.environ), "stdin": sys.stdin.read(),
          "session_leader": os.getsid(0) == os.getpid()}}
with open({calls!r}, "a") as f:
    f.write(json.dumps(record) + "\\n")
code = 0
for arg in sys.argv[1:]:
    if arg.startswith("print="):
        sys.stdout.write(arg[6:] + "\\n")
    elif arg.startswith("stderr="):
        sys.stderr.write(arg[7:] + "\\n")
    elif arg.startswith("bytes="):
        sys.stdout.write("a" * int(arg[6:]))
    elif arg.startswith("exit="):
        code = int(arg[5:])
sys.stdout.flush()
sys.exit(code)
"""

# A shell script as the stub itself (the executor never uses a shell): it starts a grandchild, writes the pids,
# then waits. With `trap '' TERM` (ignore_term) neither of them dies of SIGTERM: only SIGKILL ends them.
SLEEPER = """#!/bin/sh
{trap}
sleep 300 &
echo "$$ $!" > {pids}.tmp
mv {pids}.tmp {pids}
{end}
"""


def recorder(bin_dir: Path, name: str = "recorder") -> Path:
    """Write the recording stub `<bin_dir>/<name>`; returns its path."""
    path = bin_dir / name
    path.write_text(RECORDER.format(python=sys.executable, calls=str(bin_dir / f"{name}.calls")))
    path.chmod(0o755)
    return path


def calls(bin_dir: Path, name: str = "recorder") -> list[dict[str, Any]]:
    """Every call the stub recorded, in order (none when it never ran)."""
    file = bin_dir / f"{name}.calls"
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text().splitlines()]


def sleeper(bin_dir: Path, name: str = "sleeper", *, ignore_term: bool = False, leave: bool = False) -> Path:
    """Write the stub that starts a grandchild and waits for it (or, with `leave`, exits 0 at once, leaving it
    behind); its pids go to `<bin_dir>/<name>.pids`."""
    path = bin_dir / name
    trap = "trap '' TERM" if ignore_term else ""
    end = "exit 0" if leave else "wait"
    path.write_text(SLEEPER.format(trap=trap, pids=str(bin_dir / f"{name}.pids"), end=end))
    path.chmod(0o755)
    return path


def pids(bin_dir: Path, name: str = "sleeper") -> tuple[int, int]:
    """(stub pid, grandchild pid) as the sleeper wrote them."""
    leader, grandchild = (bin_dir / f"{name}.pids").read_text().split()
    return int(leader), int(grandchild)


def is_dead(pid: int) -> bool:
    """True when the process is gone or a zombie (dead, waiting for a parent that may never reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def wait_dead(pid: int, deadline_seconds: float = 10.0) -> bool:
    """Poll until the process is dead, up to a deadline (no fixed sleep: returns as soon as it is)."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if is_dead(pid):
            return True
        time.sleep(0.01)
    return is_dead(pid)


def kill_quietly(pid: int) -> None:
    """Clean up after a failed test (SIGKILL, ignoring a process already gone)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 9)
