"""Who may do what, enforced by the use cases: lowering or resolving a SEV0/SEV1, `/incident release`,
`/incident unfreeze`; the approvers group's members looked up through the chat port and cached; the freeze."""

from __future__ import annotations

import pytest

from bot.domain.authority import Approvers, Who
from bot.domain.events import EventKind
from bot.domain.incident import Severity
from bot.domain.ports import ChatError
from bot.services import control, incidents
from bot.services.authority_deps import AuthorityDeps
from bot.services.errors import NotAllowed
from tests.builders import deps_for, sqlite_store


class Groups:
    """A GroupDirectory whose members the test sets, counting the look-ups."""

    def __init__(self, members: dict[str, list[str]]) -> None:
        self.members = members
        self.calls = 0
        self.down = False

    async def group_members(self, group_id: str) -> list[str]:
        self.calls += 1
        if self.down:
            raise ChatError("slack unreachable", code="connection_error")
        return list(self.members[group_id])


@pytest.fixture
async def deps(tmp_path):
    store = await sqlite_store(tmp_path)
    d = deps_for(store)
    d.authority = AuthorityDeps(
        Approvers(users=frozenset({"U0LISTED"}), usergroups=("S0SRELEADS",)), groups=Groups({"S0SRELEADS": ["U0GRP"]})
    )
    yield d
    await store.dispose()


async def _sev1(deps, title: str = "Payments down") -> str:
    return (await incidents.declare(deps, title=title, severity=Severity.SEV1, actor="U0DECL")).incident.ref


async def _kinds(deps, ref) -> list[str]:
    return [e.kind for e in (await incidents.timeline(deps, ref=ref))[1]]


async def test_lowering_or_resolving_a_sev1_is_refused_to_anyone_else_with_the_rule(deps):
    ref = await _sev1(deps)
    await incidents.take_lead(deps, ref=ref, actor="U0CMD")
    before = await _kinds(deps, ref)
    with pytest.raises(NotAllowed) as lowered:
        await incidents.change_severity(deps, ref=ref, severity=Severity.SEV3, actor="U0RANDOM")
    assert lowered.value.rule == (
        "only the commander, @S0SRELEADS or a listed approver may lower the severity of a SEV1 incident"
    )
    with pytest.raises(NotAllowed, match="may resolve a SEV1 incident"):
        await incidents.resolve(deps, ref=ref, actor="U0RANDOM")
    inc = await incidents.get(deps, ref=ref)
    assert inc.severity is Severity.SEV1 and inc.is_open and await _kinds(deps, ref) == before, "nothing changed"
    # raising stays open to anyone; so does everything but lowering and resolving
    assert (await incidents.change_severity(deps, ref=ref, severity=Severity.SEV0, actor="U0RANDOM")).changed
    assert (await incidents.add_note(deps, ref=ref, actor="U0RANDOM", text="seen")).changed


@pytest.mark.parametrize("actor", ["U0CMD", "U0LISTED", "U0GRP"])
async def test_the_commander_a_listed_approver_or_a_group_member_may_lower_and_resolve(deps, actor):
    ref = await _sev1(deps)
    await incidents.take_lead(deps, ref=ref, actor="U0CMD")
    assert (await incidents.change_severity(deps, ref=ref, severity=Severity.SEV2, actor=actor)).changed
    assert (await incidents.change_severity(deps, ref=ref, severity=Severity.SEV1, actor="U0RANDOM")).changed
    assert (await incidents.resolve(deps, ref=ref, actor=actor)).changed


async def test_lesser_incidents_stay_open_to_anyone(deps):
    ref = (await incidents.declare(deps, title="slow", severity=Severity.SEV2, actor="U0DECL")).incident.ref
    assert (await incidents.change_severity(deps, ref=ref, severity=Severity.SEV4, actor="U0RANDOM")).changed
    assert (await incidents.resolve(deps, ref=ref, actor="U0RANDOM")).changed


async def test_permissions_commander_only_and_anyone(deps):
    ref = await _sev1(deps)
    await incidents.take_lead(deps, ref=ref, actor="U0CMD")
    deps.authority.major_changes = Who.COMMANDER
    with pytest.raises(NotAllowed, match="only the commander may resolve"):
        await incidents.resolve(deps, ref=ref, actor="U0LISTED")
    deps.authority.major_changes = Who.ANYONE
    assert (await incidents.resolve(deps, ref=ref, actor="U0RANDOM")).changed


async def test_release_by_the_commander_or_an_approver_only(deps):
    ref = await _sev1(deps)
    await incidents.take_lead(deps, ref=ref, actor="U0CMD")
    with pytest.raises(NotAllowed, match="may release human control"):
        await control.release(deps, ref=ref, actor="U0RANDOM")
    assert (await incidents.get(deps, ref=ref)).human_control
    out = await control.release(deps, ref=ref, actor="U0GRP")
    assert out.changed and not out.incident.human_control
    assert (await _kinds(deps, ref))[-1] == EventKind.CONTROL_RELEASED.value
    again = await control.release(deps, ref=ref, actor="U0RANDOM")
    assert not again.changed and "not under human control" in again.message


async def test_the_freeze_follows_declare_unfreeze_freeze_and_the_last_resolve(deps):
    assert await control.freeze_status(deps) == control.FreezeStatus(False, [], None)
    first = await _sev1(deps)
    declared_at = deps.clock.now()
    deps.clock.advance(60)
    second = await _sev1(deps, "Checkout down")
    status = await control.freeze_status(deps)
    assert status == control.FreezeStatus(True, [first, second], declared_at)
    with pytest.raises(NotAllowed, match="may lift the deploy freeze of a SEV1 incident"):
        await control.unfreeze(deps, ref=first, actor="U0RANDOM")
    assert (await control.unfreeze(deps, ref=first, actor="U0LISTED", reason="hotfix")).changed
    assert (await control.freeze_status(deps)).incidents == [second]
    assert (await control.freeze(deps, ref=first, actor="U0RANDOM")).changed, "anyone may freeze"
    assert not (await control.freeze(deps, ref=first, actor="U0RANDOM")).changed
    await incidents.resolve(deps, ref=second, actor="U0LISTED")
    await incidents.resolve(deps, ref=first, actor="U0LISTED")
    assert await control.freeze_status(deps) == control.FreezeStatus(False, [], None)
    assert EventKind.DEPLOY_UNFROZEN.value in await _kinds(deps, second)


async def test_group_members_are_looked_up_once_a_minute_and_kept_when_slack_is_down(deps):
    groups = deps.authority.groups
    now = deps.clock.now()
    assert (await deps.authority.current(now)).includes("U0GRP")
    assert (await deps.authority.current(now)).includes("U0GRP") and groups.calls == 1, "cached"
    groups.members["S0SRELEADS"] = ["U0NEW"]
    later = deps.clock.advance(61)
    approvers = await deps.authority.current(later)
    assert approvers.includes("U0NEW") and not approvers.includes("U0GRP") and groups.calls == 2
    groups.down = True
    approvers = await deps.authority.current(deps.clock.advance(61))
    assert approvers.includes("U0NEW"), "the members last seen"


async def test_without_a_directory_a_group_has_no_members(deps):
    deps.authority.groups = None
    approvers = await deps.authority.current(deps.clock.now())
    assert approvers.includes("U0LISTED") and not approvers.includes("U0GRP")
