"""AlarmBook on a manual clock: delays, suppression, the lifecycle, chattering, floods, shelves and restarts."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms.alarms import (
    ACKED,
    NORMAL,
    OUT_OF_SERVICE,
    RTN_UNACK,
    SHELVED,
    SUPPRESSED,
    UNACK,
    AlarmAcknowledged,
    AlarmBook,
    AlarmClass,
    AlarmCleared,
    AlarmDefinition,
    AlarmRaised,
    AlarmRefused,
    AlarmShelved,
    AlarmUnshelved,
    ChangeOfState,
    ChatterRule,
    External,
    FloodRule,
    HighLimit,
    ListAlarms,
    LowLimit,
    PointMeta,
    StaleValue,
    Suppression,
)
from bms.clock import ManualClock
from bms.errors import NotFound
from bms.messages import Message, PointValue, StatusChanged, Value

T0 = 1_700_000_000.0
SAT = "ahu1/sat"
FAN = "ahu1/fan_status"
META = {SAT: PointMeta("Supply air temperature", "°C", frozenset({"ahu1", "plant", "demo"})),
        "vav1/zone_temp": PointMeta("Zone temperature", "°C", frozenset({"vav1", "floor1", "demo"}))}


def high(on: float = 0.0, off: float = 0.0, **kw: object) -> AlarmDefinition:
    return AlarmDefinition(id="sat-high", point=SAT, condition=HighLimit(limit=28.0, deadband=1.0), severity="high",
                           on_delay=on, off_delay=off, **kw)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


def book_of(clock: ManualClock, *definitions: AlarmDefinition, **kw: object) -> AlarmBook:
    book = AlarmBook(clock, meta=META.get, **kw)  # type: ignore[arg-type]
    book.define(definitions)
    return book


def feed(book: AlarmBook, point_id: str, value: Value, flags: tuple[str, ...] = ()) -> list[Message]:
    return book.values([PointValue(point_id, value, book.clock.now(), flags)])


def kinds(out: list[Message]) -> list[str]:
    return [type(m).__name__ for m in out]


def test_a_value_that_stays_above_the_limit_raises_after_the_on_delay_with_no_further_update(clock: ManualClock) -> None:
    book = book_of(clock, high(on=60.0))
    assert feed(book, SAT, 31.25) == []
    clock.advance(59.0)
    assert book.tick() == []
    clock.advance(1.0)
    (raised,) = book.tick()
    assert isinstance(raised, AlarmRaised)
    assert (raised.alarm_id, raised.severity, raised.state, raised.notify, raised.value) == (
        "sat-high", "high", UNACK, True, 31.25)
    assert raised.text == "Supply air temperature above 28°C: 31.25°C"
    assert book.view("sat-high").raised_at == T0 + 60.0


def test_a_value_that_drops_back_before_the_on_delay_raises_nothing(clock: ManualClock) -> None:
    book = book_of(clock, high(on=60.0))
    feed(book, SAT, 31.0)
    clock.advance(30.0)
    feed(book, SAT, 25.0)
    clock.advance(60.0)
    assert book.tick() == [] and book.view("sat-high").state == NORMAL


def test_deadband_and_off_delay_hold_the_alarm_until_the_value_is_well_back(clock: ManualClock) -> None:
    book = book_of(clock, high(off=30.0))
    assert kinds(feed(book, SAT, 29.0)) == ["AlarmRaised"]
    assert feed(book, SAT, 27.5) == []  # below the limit, inside the deadband
    assert feed(book, SAT, 26.5) == []  # out of the deadband: the off-delay starts
    clock.advance(29.0)
    assert book.tick() == []
    clock.advance(1.0)
    (cleared,) = book.tick()
    assert isinstance(cleared, AlarmCleared) and cleared.state == RTN_UNACK  # nobody acknowledged it yet


@pytest.mark.parametrize(("acks_first", "after_clear"), [(True, NORMAL), (False, RTN_UNACK)])
def test_the_lifecycle_through_ack_and_clear(clock: ManualClock, acks_first: bool, after_clear: str) -> None:
    book = book_of(clock, high())
    feed(book, SAT, 30.0)
    if acks_first:
        (acked,) = book.acknowledge(["sat-high"], "olivia")
        assert isinstance(acked, AlarmAcknowledged) and (acked.user, acked.state) == ("olivia", ACKED)
    feed(book, SAT, 20.0)
    assert book.view("sat-high").state == after_clear
    if not acks_first:
        (acked,) = book.acknowledge(["sat-high"], "olivia")
        assert acked.state == NORMAL and book.view("sat-high").acked_by == "olivia"
    with pytest.raises(AlarmRefused, match="normal: nothing to acknowledge"):
        book.acknowledge(["sat-high"], "olivia")
    with pytest.raises(NotFound, match="no alarm 'nope'"):
        book.acknowledge(["nope"], "olivia")


def test_a_class_without_ack_returns_to_normal_by_itself(clock: ManualClock) -> None:
    book = book_of(clock, high(alarm_class="info"), classes={"info": AlarmClass(ack_required=False)})
    feed(book, SAT, 30.0)
    feed(book, SAT, 20.0)
    assert book.view("sat-high").state == NORMAL


def test_ack_many_by_filter_acknowledges_only_what_matches(clock: ManualClock) -> None:
    zone = AlarmDefinition(id="zone-high", point="vav1/zone_temp", condition=HighLimit(limit=26.0), severity="low")
    book = book_of(clock, high(), zone)
    feed(book, SAT, 30.0)
    feed(book, "vav1/zone_temp", 27.0)
    assert book.unacknowledged(under="floor1") == ["zone-high"]
    assert book.unacknowledged(severity="high") == ["sat-high"]
    assert sorted(book.unacknowledged()) == ["sat-high", "zone-high"]
    book.acknowledge(book.unacknowledged(under="plant"), "ops")
    assert [v.alarm_id for v in book.views(ListAlarms(active=True)) if v.state == UNACK] == ["zone-high"]


def test_suppressed_while_the_fan_is_off_and_for_a_settling_time_after_it_starts(clock: ManualClock) -> None:
    book = book_of(clock, high(suppress=Suppression(point=FAN, when=False, settle=300.0)))
    feed(book, FAN, False)
    assert feed(book, SAT, 35.0) == []  # no supply-temperature alarm while the fan is off
    assert book.view("sat-high").state == SUPPRESSED
    feed(book, FAN, True)
    clock.advance(299.0)
    assert book.tick() == [] and book.view("sat-high").state == SUPPRESSED
    clock.advance(1.0)
    assert kinds(book.tick()) == ["AlarmRaised"]  # settled, still too warm
    out = feed(book, FAN, False)  # the fan stops again: the alarm is put away
    assert kinds(out) == ["AlarmCleared"] and out[0].state == SUPPRESSED  # type: ignore[attr-defined]


def test_a_chattering_alarm_is_notified_once_and_quiet_again_after_a_window(clock: ManualClock) -> None:
    book = book_of(clock, high(), chatter=ChatterRule(count=3, window=600.0))
    notified, chattering = [], []
    for _ in range(6):
        raised = [m for m in feed(book, SAT, 30.0) if isinstance(m, AlarmRaised)]
        notified += [r.notify for r in raised]
        chattering += [r.chattering for r in raised]
        book.acknowledge(["sat-high"], "ops")
        feed(book, SAT, 20.0)
        clock.advance(10.0)
    assert chattering == [False, False, True, True, True, True]  # the third raise within the window
    assert notified == [True, True, True, False, False, False]  # notified once as chattering, then quiet
    assert book.view("sat-high").chattering
    clock.advance(600.0)
    book.tick()
    assert not book.view("sat-high").chattering
    (raised,) = [m for m in feed(book, SAT, 30.0) if isinstance(m, AlarmRaised)]
    assert raised.notify and not raised.chattering


def test_a_flood_marks_raises_for_digests(clock: ManualClock) -> None:
    many = [AlarmDefinition(id=f"a{i}", point=f"p/{i}", condition=HighLimit(limit=1.0)) for i in range(5)]
    book = book_of(clock, *many, flood=FloodRule(limit=3, window=600.0))
    floods = [m.flood for i in range(5) for m in feed(book, f"p/{i}", 2.0) if isinstance(m, AlarmRaised)]
    assert floods == [False, False, False, True, True]
    clock.advance(601.0)
    book.acknowledge([f"a{i}" for i in range(5)], "ops")
    feed(book, "p/0", 0.0)
    assert [m.flood for m in feed(book, "p/0", 2.0) if isinstance(m, AlarmRaised)] == [False]


def test_a_shelve_hides_the_alarm_and_ends_by_itself(clock: ManualClock) -> None:
    book = book_of(clock, high())
    feed(book, SAT, 30.0)
    (shelved,) = book.shelve("sat-high", T0 + 3600.0, "sensor being replaced", "olivia")
    assert isinstance(shelved, AlarmShelved) and shelved.reason == "sensor being replaced"
    feed(book, SAT, 20.0)
    raised = [m for m in feed(book, SAT, 31.0) if isinstance(m, AlarmRaised)]
    assert [(r.notify, r.state) for r in raised] == [(False, SHELVED)]  # recorded, not annunciated
    clock.advance(3600.0)
    (back,) = [m for m in book.tick() if isinstance(m, AlarmUnshelved)]
    assert (back.user, back.state) == ("", UNACK)  # still too warm: annunciated again
    with pytest.raises(AlarmRefused, match="needs a reason"):
        book.shelve("sat-high", T0 + 7200.0 + 60, " ", "olivia")
    with pytest.raises(AlarmRefused, match="in the future"):
        book.shelve("sat-high", T0, "x", "olivia")
    book.shelve("sat-high", T0 + 9000.0, "x", "olivia")
    assert book.unshelve("sat-high", "olivia")[0].user == "olivia"  # type: ignore[attr-defined]


def test_stale_and_change_of_state_run_on_the_clock(clock: ManualClock) -> None:
    stale = AlarmDefinition(id="stale", point=SAT, condition=StaleValue(period=300.0))
    change = AlarmDefinition(id="change", point=FAN, condition=ChangeOfState(hold=5.0),
                             alarm_class="events")
    book = book_of(clock, stale, change, classes={"events": AlarmClass(ack_required=False)})
    feed(book, SAT, 20.0)
    feed(book, FAN, False)
    clock.advance(301.0)
    assert [m.alarm_id for m in book.tick() if isinstance(m, AlarmRaised)] == ["stale"]
    assert kinds(feed(book, SAT, 20.5)) == ["AlarmCleared"]
    assert kinds(feed(book, FAN, True)) == ["AlarmRaised"]
    clock.advance(6.0)
    assert kinds(book.tick()) == ["AlarmCleared"] and book.view("change").state == NORMAL


def test_flags_drive_their_conditions_and_unreliable_values_hold_the_state(clock: ManualClock) -> None:
    book = book_of(clock, high())
    feed(book, SAT, 30.0)
    assert book.status(StatusChanged(SAT, ("down",), clock.now())) == []  # nothing known: still in alarm
    assert book.view("sat-high").active
    assert book.status(StatusChanged("other", ("down",), clock.now())) == []


def test_out_of_service_and_back(clock: ManualClock) -> None:
    book = book_of(clock, high(enabled=False))
    assert feed(book, SAT, 35.0) == [] and book.view("sat-high").state == OUT_OF_SERVICE
    assert kinds(book.define([high()])) == ["AlarmRaised"]  # back in service, the value still too high


def test_a_restart_restores_active_alarms_and_resumes_pending_delays(clock: ManualClock) -> None:
    zone = AlarmDefinition(id="zone-high", point="vav1/zone_temp", condition=HighLimit(limit=26.0), on_delay=120.0)
    book = book_of(clock, high(), zone)
    feed(book, SAT, 30.0)
    book.acknowledge(["sat-high"], "ops")
    feed(book, "vav1/zone_temp", 27.0)
    clock.advance(60.0)
    saved = copy.deepcopy(list(book.alarms.values()))
    again = AlarmBook(clock, meta=META.get)
    again.define([high(), zone])
    again.restore(saved)
    feed(again, SAT, 30.0)  # the engine hands it the points' current values at start
    feed(again, "vav1/zone_temp", 27.0)
    assert again.view("sat-high").state == ACKED and again.view("sat-high").acked_by == "ops"
    clock.advance(60.0)
    (raised,) = [m for m in again.tick() if isinstance(m, AlarmRaised)]  # the pending on-delay went on
    assert raised.alarm_id == "zone-high"


def test_a_device_alarm_has_the_same_lifecycle(clock: ManualClock) -> None:
    book = book_of(clock)
    shown = External(SAT, "critical", "AHU-1 SAT high limit (device)")
    (raised,) = book.external("device:ahu1:analog-input,1", shown, True, 31.0)
    assert isinstance(raised, AlarmRaised) and (raised.source, raised.alarm_class) == ("device", "device")
    assert book.external("device:ahu1:analog-input,1", shown, True, 31.5) == []
    book.acknowledge(["device:ahu1:analog-input,1"], "ops")
    assert kinds(book.external("device:ahu1:analog-input,1", shown, False)) == ["AlarmCleared"]
    view = book.view("device:ahu1:analog-input,1")
    assert (view.state, view.source, view.severity) == (NORMAL, "device", "critical")


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(st.floats(20.0, 35.0), st.just(28.0), st.just(27.0), st.just(29.0),
                                 st.floats(allow_nan=True, allow_infinity=True), st.none(), st.just("x")),
                       min_size=1, max_size=40),
       flags=st.lists(st.sampled_from([(), (), (), ("fault",), ("overridden",)]), min_size=40, max_size=40),
       kind=st.sampled_from(["high", "low"]), on=st.sampled_from([0.0, 5.0]), off=st.sampled_from([0.0, 5.0]),
       step=st.sampled_from([1.0, 3.0, 6.0]))
def test_the_fast_path_decides_as_the_general_one(values: list[Value], flags: list[tuple[str, ...]], kind: str,
                                                  on: float, off: float, step: float) -> None:
    """A point read by one limit alarm takes a short cut (a band of values that change nothing); a second
    alarm on it forces the general path: both decide the same, limits, deadbands and delays included."""
    condition = HighLimit(limit=28.0, deadband=1.0) if kind == "high" else LowLimit(limit=28.0, deadband=1.0)
    alarm = AlarmDefinition(id="sat-high", point=SAT, condition=condition, severity="high", on_delay=on,
                            off_delay=off)
    fast_clock, slow_clock = ManualClock(T0), ManualClock(T0)
    fast = book_of(fast_clock, alarm)
    slow = book_of(slow_clock, alarm, AlarmDefinition(id="other", point=SAT, condition=StaleValue(period=1e6)))
    assert SAT in fast._plain and SAT not in slow._plain
    for value, flag in zip(values, flags, strict=False):
        for book, clock in ((fast, fast_clock), (slow, slow_clock)):
            clock.advance(step)
            book.tick()
            feed(book, SAT, value, flag)
        assert fast.view("sat-high") == slow.view("sat-high")
