"""``[notify]``: recipients, routing rules with their escalation, time windows, retries, flood digests.

The section is the notifier's model as much as its configuration: the
routing and escalation decisions read these Structs directly. Ranges and
kinds are declared on the fields; what spans fields (a rule naming a
recipient or a window that does not exist, two recipients of one name, a
timezone the system does not know) is :meth:`NotifySection.config_problems`,
which the settings walk reports with the rest, one line each, as
``file: notify.rules[0].recipients[1]: no recipient named 'bob' (did you mean 'bobby'?)``.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Severity = Literal["low", "medium", "high", "critical"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ClockTime = Annotated[str, Meta(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$", description="a time of day HH:MM")]
Name = Annotated[str, Meta(pattern=r"^[\w.-]+$", description="a name of letters, digits, '_', '.' or '-'")]
AppriseUrl = Annotated[str, Meta(pattern=r"^[A-Za-z][A-Za-z0-9+.-]*://", description="an apprise URL (scheme://...)")]
Seconds = Annotated[float, Meta(gt=0)]
MAX_ESCALATION = 2  # steps after the rule's own recipients: three levels in all


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class Recipient(_Strict, frozen=True):
    """Somebody (or some channel) to notify, through one apprise URL: ``mailto://``, ``json://``, ``ntfy://`` ..."""

    name: Name
    url: AppriseUrl
    enabled: bool = True
    secret: str = ""  # json:// and jsons://: the HMAC-SHA256 key of the signed webhook (see [webhooks])

    @property
    def scheme(self) -> str:
        """The channel, as the log shows it (never the URL: it may carry a password)."""
        return self.url.split("://", 1)[0].lower()


class TimeWindow(_Strict, frozen=True):
    """Some hours of some days in the site's timezone; ``end`` before ``start`` runs past midnight."""

    days: list[Weekday] = msgspec.field(default_factory=lambda: list(WEEKDAYS))  # type: ignore[arg-type]
    start: ClockTime = "00:00"
    end: ClockTime = "24:00"


def default_windows() -> dict[str, TimeWindow]:
    return {
        "business-hours": TimeWindow(days=["mon", "tue", "wed", "thu", "fri"], start="07:00", end="18:00"),
        "weekends": TimeWindow(days=["sat", "sun"]),
    }


class EscalationStep(_Strict, frozen=True):
    """Not acknowledged ``after_minutes`` after the previous level was notified: notify these too."""

    after_minutes: Seconds
    recipients: list[str]


class RoutingRule(_Strict, frozen=True):
    """Which alarms go to whom, and when. Empty filters match everything.

    An alarm matches when its severity is in ``severities`` (and at least
    ``min_severity``), its class in ``classes``, the point or a node above
    it carries every tag of ``tags``, the point is in the subtree of one of
    ``under``, one window of ``during`` is open and no window of
    ``outside`` is (``outside = ["business-hours"]``: after hours).
    """

    name: Name
    recipients: list[str]
    severities: list[Severity] = []
    min_severity: Severity | None = None
    classes: list[str] = []
    tags: list[str] = []
    under: list[str] = []
    during: list[str] = []
    outside: list[str] = []
    escalation: list[EscalationStep] = []


class RetryPolicy(_Strict, frozen=True):
    """A delivery that fails is tried again after ``initial * factor ** (n - 1)`` s (at most ``max_delay``)."""

    max_attempts: Annotated[int, Meta(ge=1, le=100)] = 6
    initial: Seconds = 30.0
    factor: Annotated[float, Meta(ge=1.0)] = 2.0
    max_delay: Seconds = 1800.0
    failing_after: Annotated[int, Meta(ge=1)] = 3  # failed attempts in a row that make a recipient failing

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        return float(min(self.max_delay, self.initial * self.factor ** max(0, attempts - 1)))


class NotifySection(_Strict, frozen=True):
    """``[notify]`` in bms.toml."""

    recipients: list[Recipient] = []
    rules: list[RoutingRule] = []
    windows: dict[str, TimeWindow] = {}  # beside (or replacing) the built-in business-hours and weekends
    retry: RetryPolicy = RetryPolicy()
    digest_interval: Seconds = 300.0  # while a flood lasts, one digest per recipient this often
    timezone: str = ""  # of the time windows; empty: the site's
    tick: Seconds = 1.0  # how often escalations, digests and retries are looked at
    keep_days: Seconds = 365.0  # notifications.db keeps this many days

    @property
    def all_windows(self) -> dict[str, TimeWindow]:
        """The built-in windows (business-hours, weekends) with the file's own over them."""
        return {**default_windows(), **self.windows}

    def recipient(self, name: str) -> Recipient | None:
        for r in self.recipients:
            if r.name == name:
                return r
        return None

    def config_problems(self) -> list[tuple[str, str]]:
        """What spans fields, as (key path, message): unknown names, duplicates, an unknown timezone."""
        from bms.config import timezone_problem

        problems: list[tuple[str, str]] = []
        names = [r.name for r in self.recipients]
        for i, name in enumerate(names):
            if name in names[:i]:
                problems.append((f"recipients[{i}].name", f"a second recipient named {name!r}"))
        rules = [r.name for r in self.rules]
        for i, rule in enumerate(self.rules):
            where = f"rules[{i}]"
            if rule.name in rules[:i]:
                problems.append((f"{where}.name", f"a second rule named {rule.name!r}"))
            problems += _names(f"{where}.recipients", rule.recipients, names, "recipient", required=True)
            problems += _names(f"{where}.during", rule.during, list(self.all_windows), "window")
            problems += _names(f"{where}.outside", rule.outside, list(self.all_windows), "window")
            if len(rule.escalation) > MAX_ESCALATION:
                problems.append((f"{where}.escalation", f"at most {MAX_ESCALATION} steps (three levels in all), "
                                                        f"got {len(rule.escalation)}"))
            for j, step in enumerate(rule.escalation):
                problems += _names(f"{where}.escalation[{j}].recipients", step.recipients, names, "recipient",
                                   required=True)
        if self.timezone:
            why = timezone_problem(self.timezone)
            if why:
                problems.append(("timezone", why))
        return problems


def _names(where: str, given: list[str], known: list[str], what: str, required: bool = False) -> list[tuple[str, str]]:
    if required and not given:
        return [(where, f"must name at least one {what}")]
    out = []
    for k, name in enumerate(given):
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            out.append((f"{where}[{k}]", f"no {what} named {name!r}{hint}"))
    return out
