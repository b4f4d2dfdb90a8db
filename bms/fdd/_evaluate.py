"""Evaluating the G36 rules: over a whole series at once (:func:`evaluate`) or sample by sample
(:class:`LiveUnit`), with the same equations and the same persistence.

Samples are taken every ``params.sample`` seconds. Each input is the rolling average of its last
``smoothing`` seconds (missing samples left out). A rule is *decided* at a sample when the unit is in
one of the rule's operating states and the rule has a full window: ``window`` seconds of samples since
the operating state last changed plus ``mode_delay`` (a state change restarts the window, except for
FC4, which counts the changes). The moving average of the condition over the window raises the
fault at ``persistence`` or above and clears it at ``clear_below`` or below; in between, and while the
rule is not decided, the fault keeps its state.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bms.fdd._g36 import OFF, RULES, STATE_NAMES, Array, Flags, Rule, operating_state
from bms.fdd._params import G36Params

HOUR = 3600.0
UNITS = {"sat": "°C", "mat": "°C", "rat": "°C", "oat": "°C", "sat_sp": "°C", "erv_lat": "°C", "fan_speed": "%",
         "oa_damper": "%", "heating": "%", "cooling": "%", "dsp": "Pa", "dsp_sp": "Pa", "fan_status": "",
         "state_changes": "/h"}


def _delay(p: G36Params, rule: Rule) -> int:
    return max(0, round(p.mode_delay / p.sample)) if rule.resets else 0


def rolling_mean(values: Array, k: int) -> Array:
    """The mean of the last ``k`` samples (this one included) of each sample, NaN left out (NaN if all are)."""
    if k <= 1:
        return values
    valid = ~np.isnan(values)
    sums = np.concatenate(([0.0], np.cumsum(np.where(valid, values, 0.0))))
    counts = np.concatenate(([0], np.cumsum(valid)))
    hi = np.arange(1, len(values) + 1)
    lo = np.maximum(hi - k, 0)
    n = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (sums[hi] - sums[lo]) / np.maximum(n, 1), np.nan)


def state_changes(state: npt.NDArray[np.int8], k: int) -> Array:
    """Changes of operating state within the last ``k`` samples of each sample."""
    changed = np.concatenate(([0], (state[1:] != state[:-1]).astype(np.int64)))
    cs = np.concatenate(([0], np.cumsum(changed)))
    hi = np.arange(1, len(state) + 1)
    return (cs[hi] - cs[np.maximum(hi - k, 0)]).astype(np.float64)


def persist(cond: Flags, state: npt.NDArray[np.int8], rule: Rule, p: G36Params) -> Flags:
    """Whether the fault is active at each sample (see the module's rules)."""
    n = len(cond)
    w = p.samples(p.window)
    idx = np.arange(n)
    if rule.resets:
        starts = np.zeros(n, dtype=np.int64)
        changes = np.flatnonzero(state[1:] != state[:-1]) + 1
        starts[changes] = changes
        seg_start = np.maximum.accumulate(starts)
    else:
        seg_start = np.zeros(n, dtype=np.int64)
    in_states = np.isin(state, rule.states)
    cs = np.concatenate(([0], np.cumsum(cond & in_states)))
    full = (idx + 1 - (seg_start + _delay(p, rule))) >= w
    share = (cs[idx + 1] - cs[np.maximum(idx + 1 - w, 0)]) / w
    decided = full & in_states
    raising = decided & (share >= p.persistence)
    clearing = decided & (share <= p.clear_below)
    last = np.maximum.accumulate(np.where(raising | clearing, idx, -1))
    active: Flags = (last >= 0) & raising[np.maximum(last, 0)]
    return active


def smoothed_inputs(raw: Mapping[str, Array], p: G36Params) -> dict[str, Array]:
    k = p.samples(p.smoothing)
    return {role: rolling_mean(np.asarray(v, dtype=np.float64), k) for role, v in raw.items()}


@dataclass
class BatchResult:
    """Operating states and, per rule that could run, the active flag of each sample."""

    state: npt.NDArray[np.int8]
    inputs: dict[str, Array]
    active: dict[str, Flags] = field(default_factory=dict)


def evaluate(raw: Mapping[str, Array], p: G36Params, rules: Sequence[Rule] = RULES) -> BatchResult:
    """The rules whose roles ``raw`` has, over the samples of ``raw`` (arrays of equal length)."""
    x = smoothed_inputs(raw, p)
    have = set(x)
    if not have.issuperset(("oa_damper", "cooling", "fan_speed")):
        n = len(next(iter(x.values()))) if x else 0
        return BatchResult(np.zeros(n, dtype=np.int8), x)
    state = operating_state(x, p)
    x["state_changes"] = state_changes(state, p.samples(HOUR))
    result = BatchResult(state, x)
    for r in rules:
        if not have.issuperset(r.roles):
            continue
        with np.errstate(invalid="ignore"):
            cond = r.condition(x, p)
        result.active[r.id] = persist(np.asarray(cond, dtype=bool), state, r, p)
    return result


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def explain(rule: Rule, means: Mapping[str, float], state: int, seconds: float) -> str:
    """What was observed, which inputs, for how long."""
    shown = [*rule.roles, *(("state_changes",) if rule.id == "FC4" else ())]
    values = ", ".join(f"{role} {means[role]:.1f}{UNITS.get(role, '')}" for role in shown
                       if role in means and not np.isnan(means[role]))
    return (f"{rule.id} {rule.title}: {rule.equation} held for {duration(seconds)} in {STATE_NAMES.get(state, '?')}"
            f" ({values})")


# ------------------------------------------------------------------ live


@dataclass
class _RuleState:
    window: deque[bool]
    count: int = 0  # samples since the window last restarted
    hits: int = 0
    active: bool = False


@dataclass(frozen=True)
class Transition:
    """A fault raised or cleared at a sample."""

    rule: Rule
    active: bool
    at: float
    state: int
    explanation: str
    means: dict[str, float]


class LiveUnit:
    """One air handler evaluated sample by sample, exactly as :func:`evaluate` does over a series."""

    def __init__(self, roles: Iterable[str], p: G36Params, rules: Sequence[Rule] = RULES) -> None:
        self.p = p
        self.roles = tuple(roles)
        have = set(self.roles)
        self.runs_state = have.issuperset(("oa_damper", "cooling", "fan_speed"))
        self.rules = [r for r in rules if have.issuperset(r.roles)] if self.runs_state else []
        k = p.samples(p.smoothing)
        self.history: dict[str, deque[float]] = {role: deque(maxlen=k) for role in self.roles}
        w = p.samples(p.window)
        self.rule_states = {r.id: _RuleState(deque(maxlen=w)) for r in self.rules}
        self.state = -1
        self.changes: deque[bool] = deque(maxlen=p.samples(HOUR))
        self.sums: dict[str, deque[dict[str, float]]] = {}
        self.recent: deque[dict[str, float]] = deque(maxlen=w)

    def active(self) -> list[str]:
        return [rid for rid, s in self.rule_states.items() if s.active]

    def sample(self, at: float, values: Mapping[str, float | None]) -> list[Transition]:
        """Take one sample (``values`` by role; missing or None: no value) and return what changed."""
        means: dict[str, float] = {}
        for role, hist in self.history.items():
            v = values.get(role)
            hist.append(float("nan") if v is None else float(v))
            good = [h for h in hist if h == h]
            means[role] = sum(good) / len(good) if good else float("nan")
        if not self.runs_state:
            return []
        x = {role: np.array([m]) for role, m in means.items()}
        state = int(operating_state(x, self.p)[0])
        changed = self.state != -1 and state != self.state
        self.changes.append(changed)
        self.state = state
        means["state_changes"] = float(sum(self.changes))
        x["state_changes"] = np.array([means["state_changes"]])
        self.recent.append(means)
        out: list[Transition] = []
        w = self.p.samples(self.p.window)
        for r in self.rules:
            s = self.rule_states[r.id]
            if changed and r.resets:
                s.window.clear()
                s.count, s.hits = 0, 0
            s.count += 1
            with np.errstate(invalid="ignore"):
                hit = bool(r.condition(x, self.p)[0]) and state in r.states
            if s.count > _delay(self.p, r):
                if len(s.window) == w:
                    s.hits -= s.window[0]
                s.window.append(hit)
                s.hits += hit
            if len(s.window) < w or state not in r.states:
                continue
            share = s.hits / w
            if not s.active and share >= self.p.persistence:
                s.active = True
            elif s.active and share <= self.p.clear_below:
                s.active = False
            else:
                continue
            avg = self._window_means()
            text = explain(r, avg, state, w * self.p.sample) if s.active else \
                f"{r.id} cleared: the condition held for {share:.0%} of the last {duration(w * self.p.sample)}"
            out.append(Transition(r, s.active, at, state, text, avg))
        return out

    def _window_means(self) -> dict[str, float]:
        keys = self.recent[-1].keys() if self.recent else ()
        found: dict[str, float] = {}
        for key in keys:
            good = [m[key] for m in self.recent if m.get(key, float("nan")) == m.get(key, float("nan"))]
            found[key] = sum(good) / len(good) if good else float("nan")
        return found


__all__ = ["OFF", "BatchResult", "LiveUnit", "Transition", "evaluate", "explain", "persist", "rolling_mean",
           "smoothed_inputs", "state_changes"]
