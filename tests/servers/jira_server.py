"""A loopback Jira that speaks enough of REST API v2 for the `jira` library: serverInfo, create and get an
issue, search by label (JQL `labels = "..."`), comments, transitions (To Do -> Done -> Closed, and Reopen),
attachments. Basic auth is checked. It can be taken down (`mode = "503"`, or `"drop"`: the connection closes
without an answer), can fail the next requests with given statuses, and can lose the answer to a create after
the issue was made (`drop_create_reply`). Every request is recorded, bodies included, for leak checks.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

WORKFLOW = {
    "To Do": [("21", "Start", "In Progress"), ("31", "Done", "Done")],
    "In Progress": [("31", "Done", "Done")],
    "Done": [("41", "Reopen", "To Do"), ("51", "Close Issue", "Closed")],
    "Closed": [("41", "Reopen", "To Do")],
}


@dataclass
class Issue:
    key: str
    fields: dict[str, Any]
    status: str = "To Do"
    comments: list[str] = field(default_factory=list)
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    updates: int = 0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class JiraServer:
    """`JiraServer(project="OPS").start()`; `.url`; `.issues` by key; `.requests`; `.stop()`."""

    def __init__(self, *, project: str = "OPS", user: str = "bot@example.com", token: str = "jira-test-token") -> None:
        self.project, self.user, self.token = project, user, token
        self.issues: dict[str, Issue] = {}
        self.requests: list[Seen] = []
        self.mode = "up"  # "up", "503", "drop"
        self.fail_next: list[int] = []
        self.fail_on: list[tuple[str, str, int]] = []  # (method, path regex, status): the next such request fails
        self.drop_create_reply = False
        self.lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._ids = itertools.count(10000)
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def creates(self) -> int:
        """Create requests that made an issue."""
        return len(self.issues)

    def calls(self, method: str, pattern: str) -> list[Seen]:
        """Recorded requests of this method whose path matches the regex."""
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    def everything_sent(self) -> str:
        """Every request's path, headers and body as text (for asserting that nothing leaked)."""
        return "\n".join(f"{r.method} {r.path} {r.headers} {r.body.decode('utf-8', 'replace')}" for r in self.requests)

    def start(self) -> JiraServer:
        jira = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with jira.lock:
                    jira.requests.append(Seen(self.command, self.path, dict(self.headers), body))
                    answer = jira._answer(self.command, self.path, self.headers, body)
                if answer is None:  # drop the connection without an answer
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                status, payload, headers = answer
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- the API ------------------------------------------------------------------------------------------

    def _answer(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any, dict[str, str]] | None:
        if self.mode == "drop":
            return None
        if self.mode == "503":
            return 503, {"errorMessages": ["Jira is down for maintenance"]}, {"Retry-After": "120"}
        if self.fail_next:
            status = self.fail_next.pop(0)
            return status, {"errorMessages": [f"injected {status}"]}, {}
        for i, (m, pattern, status) in enumerate(self.fail_on):
            if m == method and re.search(pattern, path):
                del self.fail_on[i]
                return status, {"errorMessages": [], "errors": {"priority": f"injected {status}"}}, {}
        expected = "Basic " + base64.b64encode(f"{self.user}:{self.token}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {"errorMessages": ["You are not authenticated."]}, {}
        url = urllib.parse.urlsplit(path)
        route = url.path.removeprefix("/rest/api/2/")
        query = urllib.parse.parse_qs(url.query)
        if route == "serverInfo":
            return 200, {"baseUrl": self.url, "version": "9.12.0", "versionNumbers": [9, 12, 0],
                         "deploymentType": "Server", "serverTitle": "loopback"}, {}  # fmt: skip
        if route == "field" and method == "GET":
            names = ["summary", "description", "labels", "priority", "issuetype", "project", "components", "status"]
            return 200, [{"id": n, "key": n, "name": n.capitalize(), "custom": False} for n in names], {}
        if route == "search" and method == "GET":
            return 200, self._search(query.get("jql", [""])[0]), {}
        if route == "issue" and method == "POST":
            return self._create(json.loads(body or b"{}"))
        m = re.fullmatch(r"issue/([A-Z]+-\d+)(/comment|/transitions|/attachments)?", route)
        if m is None or m.group(1) not in self.issues:
            return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."]}, {}
        issue, sub = self.issues[m.group(1)], m.group(2)
        if sub is None and method == "GET":
            return 200, self._issue_json(issue), {}
        if sub is None and method == "PUT":
            issue.fields.update(json.loads(body).get("fields") or {})
            issue.updates += 1
            return 204, None, {}
        if sub == "/comment" and method == "POST":
            issue.comments.append(json.loads(body)["body"])
            return 201, {"id": str(next(self._ids)), "body": issue.comments[-1]}, {}
        if sub == "/transitions" and method == "GET":
            return (
                200,
                {"transitions": [{"id": i, "name": n, "to": {"name": to}} for i, n, to in WORKFLOW[issue.status]]},
                {},
            )
        if sub == "/transitions" and method == "POST":
            wanted = str(json.loads(body)["transition"]["id"])
            target = next((to for i, _, to in WORKFLOW[issue.status] if i == wanted), None)
            if target is None:
                return 400, {"errorMessages": [f"transition {wanted} is not valid from {issue.status}"]}, {}
            issue.status = target
            return 204, None, {}
        if sub == "/attachments" and method == "POST":
            if headers.get("X-Atlassian-Token") != "no-check":
                return 403, {"errorMessages": ["XSRF check failed"]}, {}
            name, data = _multipart_file(headers.get("Content-Type", ""), body)
            issue.attachments.append((name, data))
            return 200, [{"id": str(next(self._ids)), "filename": name, "size": len(data)}], {}
        return 405, {"errorMessages": [f"{method} {route} is not supported here"]}, {}

    def _search(self, jql: str) -> dict[str, Any]:
        m = re.search(r'labels\s*=\s*"([^"]+)"', jql)
        label = m.group(1) if m else None
        found = [i for i in self.issues.values() if label is None or label in i.fields.get("labels", [])]
        found.sort(key=lambda i: int(i.key.split("-")[1]), reverse=True)
        return {"startAt": 0, "maxResults": 50, "total": len(found), "issues": [self._issue_json(i) for i in found]}

    def _create(self, payload: dict[str, Any]) -> tuple[int, Any, dict[str, str]] | None:
        fields = payload.get("fields") or {}
        missing = [f for f in ("project", "summary", "issuetype") if not fields.get(f)]
        if missing:
            return 400, {"errorMessages": [], "errors": {f: f"{f} is required." for f in missing}}, {}
        if fields["project"].get("key") != self.project:
            return 400, {"errorMessages": [], "errors": {"project": "project is required"}}, {}
        key = f"{self.project}-{next(self._numbers)}"
        self.issues[key] = Issue(key, fields)
        if self.drop_create_reply:
            self.drop_create_reply = False
            return None
        return 201, {"id": str(next(self._ids)), "key": key, "self": f"{self.url}/rest/api/2/issue/{key}"}, {}

    def _issue_json(self, issue: Issue) -> dict[str, Any]:
        fields = {**issue.fields, "status": {"name": issue.status}}
        return {"id": issue.key.split("-")[1], "key": issue.key, "self": f"{self.url}/rest/api/2/issue/{issue.key}",
                "fields": fields}  # fmt: skip


def _multipart_file(content_type: str, body: bytes) -> tuple[str, bytes]:
    """The file name and bytes of the one file part of a multipart body."""
    boundary = content_type.split("boundary=")[-1].encode()
    for part in body.split(b"--" + boundary):
        head, _, data = part.partition(b"\r\n\r\n")
        m = re.search(rb'filename="([^"]*)"', head)
        if m:
            return m.group(1).decode(), data.removesuffix(b"\r\n")
    return "", b""


@pytest.fixture
def jira_server() -> Iterator[JiraServer]:
    """A loopback Jira (project OPS, user bot@example.com, token jira-test-token)."""
    server = JiraServer().start()
    try:
        yield server
    finally:
        server.stop()
