"""Trigger ids, opened views and response_url targets: the state behind modals and interactivity."""

from __future__ import annotations

from .clock import Clock
from .errors import ApiError
from .records import JSON, ResponseTarget, Trigger, View
from .state import WorkspaceState

TRIGGER_TTL = 3.0
"""Slack lets an app use a trigger_id for 3 seconds."""
RESPONSE_URL_USES = 5
"""Slack lets an app post to a response_url up to 5 times."""


class InteractionState(WorkspaceState):
    """Workspace state plus trigger ids, views and response_url targets."""

    def __init__(
        self,
        clock: Clock | None = None,
        base_url: str = "http://127.0.0.1",
        trigger_ttl: float | None = TRIGGER_TTL,
    ) -> None:
        self.trigger_ttl = trigger_ttl
        super().__init__(clock, base_url)

    def _seed_state(self) -> None:
        super()._seed_state()
        self.triggers: dict[str, Trigger] = {}
        self.views: dict[str, View] = {}
        self.response_targets: dict[str, ResponseTarget] = {}

    def new_trigger_id(self, user_id: str = "U0ALICE") -> str:
        """Issue a trigger_id for `user_id`, as Slack does with each command or interaction."""
        with self.lock:
            number = self.ids.count("trigger")
            trigger_id = f"{8_000_000_000_000 + number}.1000000001.{self.ids.digest('trigger')}"
            self.triggers[trigger_id] = Trigger(trigger_id, user_id, self.clock())
            return trigger_id

    def use_trigger(self, trigger_id: str | None) -> Trigger:
        """Spend a trigger_id: unknown -> invalid_trigger_id, used -> exchanged_trigger_id, old -> expired."""
        with self.lock:
            trigger = self.triggers.get(trigger_id or "")
            if trigger is None:
                raise ApiError("invalid_trigger_id")
            if trigger.used:
                raise ApiError("exchanged_trigger_id")
            if self.trigger_ttl is not None and self.clock() - trigger.issued_at > self.trigger_ttl:
                raise ApiError("expired_trigger_id")
            trigger.used = True
            return trigger

    def open_view(self, user: str, payload: JSON, previous: View | None = None) -> View:
        """Record a view opened for `user` and return it."""
        with self.lock:
            view_id = self.ids.next("V0VIEW")
            root = previous.root_view_id if previous else view_id
            view = View(view_id, user, payload, self._view_hash(), root, previous.id if previous else None)
            self.views[view_id] = view
            self.feed.changed()
            return view

    def replace_view(self, view: View, payload: JSON) -> View:
        """Replace an open view's content (views.update) and give it a new hash."""
        with self.lock:
            view.payload, view.hash, view.errors = payload, self._view_hash(), None
            self.feed.changed()
            return view

    def close_view(self, user_id: str, view_id: str) -> View:
        """The user closes a modal (Cancel, or the X): the whole stack it belongs to closes."""
        with self.lock:
            view = self.views.get(view_id)
            if view is None or view.user != user_id:
                raise ApiError("not_found")
            for other in self.views.values():
                if other.root_view_id == view.root_view_id:
                    other.is_open = False
            self.feed.changed()
            return view

    def view(self, view_id: str | None = None, external_id: str | None = None) -> View:
        """Return a view by id or external_id, or answer not_found."""
        with self.lock:
            for view in self.views.values():
                if view.id == view_id or (external_id and view.payload.get("external_id") == external_id):
                    return view
        raise ApiError("not_found")

    def new_response_url(self, user: str, channel: str, message_ts: str | None = None) -> str:
        """Issue a response_url pointing back at the emulator for this user, channel and message."""
        with self.lock:
            token = f"R{self.ids.count('response'):06d}{self.ids.digest('response', 16)}"
            self.response_targets[token] = ResponseTarget(token, user, channel, message_ts)
            return f"{self.base_url}/_emulator/response/{token}"

    def _view_hash(self) -> str:
        return f"{int(self.clock())}.{self.ids.digest('hash', 8)}"
