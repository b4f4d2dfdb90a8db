"""Bundles in the logic engine: deploy (verified, validated, dry-run), rollback, versions, boot with a broken bundle.

The site and programs of test_logic_engine; bundles built and signed here with keys of the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from actors import Context, make_context
from bms.audit import ListAudit
from bms.clock import ManualClock
from bms.errors import ConfigError, LogicError
from bms.logic import BundleRefused, build, generate_key, load_private_key
from bms.logic.messages import DeployBundle, ListPrograms, ListVersions, RollbackBundle
from bms.messages import GetPriorityArray
from bms.supervision import Health
from tests.actors.test_logic_engine import COUNTER, DOUBLE, FOLLOW, T0, programs, start
from tests.conftest import wait_until


def key(tmp_path: Path, name: str) -> tuple[Path, str]:
    path = tmp_path / f"{name}.key"
    return path, generate_key(path)


def bundle(tmp_path: Path, version: str, signer: Path, **files: str) -> bytes:
    directory = tmp_path / f"bundle-{version}"
    directory.mkdir()
    (directory / "bundle.toml").write_text(f'version = "{version}"\ncreated_by = "test"\n', encoding="utf-8")
    for name, text in files.items():
        (directory / f"{name}.toml").write_text(text, encoding="utf-8")
    return build(directory, load_private_key(signer), now=T0)


def names(logic: object) -> list[str]:
    return [v.name for v in logic.ask(ListPrograms())]  # type: ignore[attr-defined]


def test_a_deployed_bundle_replaces_the_running_set_and_is_audited(ctx: Context, tmp_path: Path) -> None:
    signer, public = key(tmp_path, "a")
    logic = start(ctx, programs(tmp_path, double=DOUBLE), trusted_keys=(public,))
    clock = ctx.clock
    assert isinstance(clock, ManualClock)
    clock.advance(10.0)
    points = ctx.registry.get("points")
    wait_until(lambda: points.ask(GetPriorityArray(point_id="room/out")).levels[11] == 40.0, what="double wrote")
    deployed = logic.ask(DeployBundle(data=bundle(tmp_path, "1.0.0", signer, counter=COUNTER), user="olivia"))
    assert (deployed.version, deployed.active, deployed.user) == ("1.0.0", True, "olivia")
    assert names(logic) == ["counter"]
    assert points.ask(GetPriorityArray(point_id="room/out")).levels[11] is None  # the removed program's level
    wait_until(lambda: ctx.registry.get("audit").ask(ListAudit(action="deployLogicBundle")), what="audit row")
    rows = ctx.registry.get("audit").ask(ListAudit(action="deployLogicBundle"))
    assert [(r.entry.user, r.entry.target) for r in rows] == [("olivia", "logic bundle 1.0.0")]
    assert [(v.version, v.active) for v in logic.ask(ListVersions())] == [("1.0.0", True)]


def test_a_bundle_that_is_unsigned_by_a_trusted_key_invalid_or_failing_its_dry_run_changes_nothing(
        ctx: Context, tmp_path: Path) -> None:
    signer, public = key(tmp_path, "a")
    stranger, _ = key(tmp_path, "b")
    logic = start(ctx, programs(tmp_path, double=DOUBLE), trusted_keys=(public,))
    with pytest.raises(BundleRefused, match="unknown key"):
        logic.ask(DeployBundle(data=bundle(tmp_path, "1.0.0", stranger, counter=COUNTER)))
    good = bundle(tmp_path, "1.0.1", signer, counter=COUNTER)
    tampered = good.replace(b"state_set", b"state_sex") if b"state_set" in good else good[:-40] + b"x" * 40
    with pytest.raises(BundleRefused):
        logic.ask(DeployBundle(data=tampered))
    with pytest.raises(ConfigError, match="unknown point 'room/nope'"):
        logic.ask(DeployBundle(data=bundle(tmp_path, "1.1.0", signer, bad=DOUBLE.replace("room/out", "room/nope"))))
    with pytest.raises(LogicError, match="dry run of boom failed"):
        logic.ask(DeployBundle(data=bundle(tmp_path, "1.2.0", signer, boom='lua = \'error("boom")\'\ninterval = 1.0')))
    assert names(logic) == ["double"]
    assert logic.ask(ListVersions()) == []


def test_rollback_goes_back_to_the_previous_version(ctx: Context, tmp_path: Path) -> None:
    signer, public = key(tmp_path, "a")
    logic = start(ctx, programs(tmp_path), trusted_keys=(public,))
    with pytest.raises(ConfigError, match="no bundle is deployed"):
        logic.ask(RollbackBundle(user="olivia"))
    logic.ask(DeployBundle(data=bundle(tmp_path, "1.0.0", signer, counter=COUNTER)))
    logic.ask(DeployBundle(data=bundle(tmp_path, "2.0.0", signer, counter=COUNTER, follow=FOLLOW)))
    assert names(logic) == ["counter", "follow"]
    back = logic.ask(RollbackBundle(user="olivia"))
    assert (back.version, back.active) == ("1.0.0", True)
    assert names(logic) == ["counter"]
    with pytest.raises(ConfigError, match="first deployed: no previous version"):
        logic.ask(RollbackBundle(user="olivia"))
    wait_until(lambda: ctx.registry.get("audit").ask(ListAudit(action="rollbackLogicBundle")), what="audit row")
    rows = ctx.registry.get("audit").ask(ListAudit(action="rollbackLogicBundle"))
    assert [(r.entry.user, r.entry.target) for r in rows] == [("olivia", "logic bundle 1.0.0")]


def test_the_last_good_bundle_runs_on_boot_and_one_that_fails_to_start_rolls_back_by_itself(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    a, public_a = key(tmp_path, "a")
    b, public_b = key(tmp_path, "b")
    directory = programs(tmp_path, double=DOUBLE)
    first = make_context(clock, tmp_path)
    try:
        logic = start(first, directory, trusted_keys=(public_a, public_b))
        logic.ask(DeployBundle(data=bundle(tmp_path, "1.0.0", a, counter=COUNTER)))
        logic.ask(DeployBundle(data=bundle(tmp_path, "2.0.0", b, counter=COUNTER, follow=FOLLOW)))
    finally:
        first.supervisor.stop_all(timeout=5)
    second = make_context(clock, tmp_path)
    try:
        logic = start(second, directory, trusted_keys=(public_a, public_b))
        assert names(logic) == ["counter", "follow"]  # the last good bundle, not the directory
    finally:
        second.supervisor.stop_all(timeout=5)
    third = make_context(clock, tmp_path)
    try:
        logic = start(third, directory, trusted_keys=(public_a,))  # key b is no longer trusted here
        assert names(logic) == ["counter"]
        versions = logic.ask(ListVersions())
        assert [(v.version, v.status, v.active) for v in versions] == [("1.0.0", "good", True), ("2.0.0", "failed", False)]
        assert "unknown key" in versions[1].detail
        health = third.health.get("logic")
        assert health is not None and health.state == Health.DEGRADED
        assert "bundle 2.0.0 failed to start" in health.reason and "rolled back to bundle 1.0.0" in health.reason
    finally:
        third.supervisor.stop_all(timeout=5)
