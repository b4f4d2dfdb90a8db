"""DeviceLiveness: the one Unknown / Up / Down state machine of both bridges, and the health it gives."""

from __future__ import annotations

import pytest

from bms.devices import DeviceLiveness, LivenessState, liveness_health
from bms.supervision import Health

UNKNOWN, UP, DOWN = LivenessState.UNKNOWN, LivenessState.UP, LivenessState.DOWN


def run(live: DeviceLiveness, steps: str) -> list[tuple[LivenessState, float | bool | None, float]]:
    """Apply outcomes at t = 0, 10, 20...: ``a`` answered, ``f`` failed. Each: (state, what it returned, backoff)."""
    seen: list[tuple[LivenessState, float | bool | None, float]] = []
    for n, step in enumerate(steps):
        now = 10.0 * n
        returned = live.answered(now) if step == "a" else live.failed(now, f"no answer at {now:g}")
        seen.append((live.state, returned, live.backoff))
    return seen


@pytest.mark.parametrize(("steps", "expected"), [
    # never answered: Unknown, then Down at the third failure (not unknown forever)
    ("fff", [(UNKNOWN, False, 0.0), (UNKNOWN, False, 0.0), (DOWN, True, 2.0)]),
    # first answer: Up; failures below down_after keep it Up
    ("aff", [(UP, None, 0.0), (UP, False, 0.0), (UP, False, 0.0)]),
    # down says so once; the backoff doubles, capped at 8 s
    ("afffff", [(UP, None, 0.0), (UP, False, 0.0), (UP, False, 0.0), (DOWN, True, 2.0), (DOWN, False, 4.0),
                (DOWN, False, 8.0)]),
    ("affffffa", [(UP, None, 0.0), (UP, False, 0.0), (UP, False, 0.0), (DOWN, True, 2.0), (DOWN, False, 4.0),
                  (DOWN, False, 8.0), (DOWN, False, 8.0), (UP, 40.0, 0.0)]),
    # an answer between failures starts the count again
    ("affaffa", [(UP, None, 0.0), (UP, False, 0.0), (UP, False, 0.0), (UP, None, 0.0), (UP, False, 0.0),
                 (UP, False, 0.0), (UP, None, 0.0)]),
    # Down from Unknown, then the first answer: Up, with how long it was down
    ("fffa", [(UNKNOWN, False, 0.0), (UNKNOWN, False, 0.0), (DOWN, True, 2.0), (UP, 10.0, 0.0)]),
])
def test_transitions(steps: str, expected: list[tuple[LivenessState, float | bool | None, float]]) -> None:
    assert run(DeviceLiveness(down_after=3, backoff=1.0, max_backoff=8.0), steps) == expected


def test_a_device_is_unknown_until_it_first_answers() -> None:
    live = DeviceLiveness()
    assert live.state is UNKNOWN and not live.up and not live.down and live.may_poll(0.0)
    live.failed(0.0, "no answer")
    assert live.state is UNKNOWN and live.reason == "no answer"
    assert live.answered(1.0) is None
    assert live.state is UP and live.reason == "" and live.failures == 0


def test_the_backoff_holds_polls_back_while_down() -> None:
    live = DeviceLiveness(down_after=2, backoff=5.0, max_backoff=300.0)
    live.answered(0.0)
    assert not live.failed(100.0, "no answer") and live.may_poll(100.0)  # still Up: the normal pace
    assert live.failed(110.0, "no answer") and live.retry_at == 120.0
    assert not live.may_poll(119.9) and live.may_poll(120.0)
    live.failed(120.0, "no answer")
    assert live.retry_at == 140.0


def test_any_answer_ends_the_down_state_at_once_whatever_the_backoff() -> None:
    live = DeviceLiveness(down_after=1, backoff=60.0, max_backoff=3600.0)
    live.failed(0.0, "no answer")
    live.failed(120.0, "no answer")
    assert live.down and live.retry_at == 360.0
    assert live.answered(130.0) == 130.0  # a write went through, long before the next retry
    assert live.up and live.may_poll(130.0) and live.backoff == 0.0


@pytest.mark.parametrize("settings", [{"down_after": 0}, {"backoff": 0.0}, {"backoff": -1.0}])
def test_bad_settings_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DeviceLiveness(**settings)  # type: ignore[arg-type]


def devices(**states: str) -> dict[str, DeviceLiveness]:
    found = {}
    for device_id, steps in states.items():
        live = DeviceLiveness(down_after=1)
        for n, step in enumerate(steps):
            live.answered(n) if step == "a" else live.failed(n, "no answer")
        found[device_id] = live
    return found


@pytest.mark.parametrize(("states", "problems", "expected"), [
    ({"ahu1": "a", "vav1": "a"}, (), (Health.HEALTHY, "2 of 2 devices answering")),
    # a device that never answered is not counted as answering, and is named
    ({"ahu1": "a", "vav1": "a", "vav2": "a", "vav3": ""}, (),
     (Health.HEALTHY, "3 of 4 devices answering; 1 not answered yet: vav3")),
    ({"ahu1": "", "vav1": ""}, (), (Health.HEALTHY, "0 of 2 devices answering; 2 not answered yet: ahu1, vav1")),
    # Degraded as soon as one device is known down
    ({"ahu1": "a", "vav1": "af"}, (), (Health.DEGRADED, "1 of 2 devices down: vav1 (no answer)")),
    ({"ahu1": "", "vav1": "f"}, (),
     (Health.DEGRADED, "1 of 2 devices down: vav1 (no answer); 1 not answered yet: ahu1")),
    ({"ahu1": "a"}, ("devices.lost.address: required", "devices.odd.profile: no profile"),
     (Health.DEGRADED, "2 not polled: devices.lost.address: required (and 1 more)")),
    ({f"vav{n}": "f" for n in range(7)}, (),
     (Health.DEGRADED, "7 of 7 devices down: " + ", ".join(f"vav{n} (no answer)" for n in range(5)) + " and 2 more")),
])
def test_health(states: dict[str, str], problems: tuple[str, ...], expected: tuple[Health, str]) -> None:
    assert liveness_health(devices(**states), problems) == expected
