"""Weather-normalised baselines (ASHRAE Guideline 14, IPMVP Option C): degree days, change-point
models, their statistics and the avoided energy use with its uncertainty.

Periods (days or months) carry their consumption ``y``, their number of days ``n`` and the daily mean
outdoor temperatures of their days. With balance temperatures ``th`` (heating) and ``tc`` (cooling),
heating degree days are ``sum(max(0, th - t))`` over the period's days and cooling degree days
``sum(max(0, t - tc))``. The models, on those degree days:

* ``3PH`` (heating): ``y = b0 * n + bh * HDD(th)``
* ``3PC`` (cooling): ``y = b0 * n + bc * CDD(tc)``
* ``5P``: ``y = b0 * n + bh * HDD(th) + bc * CDD(tc)``, ``th <= tc``

For daily periods (``n = 1``) these are the classic change-point models (a flat base and a straight
line below ``th`` / above ``tc``). The balance temperatures are searched on a grid (``step`` degrees
between the coldest and warmest day) for the least squared error; slopes must not be negative (a
heating slope that falls as it gets colder is no heating). Each candidate is an ordinary
least-squares fit solved from its normal equations, all candidates at once.

Statistics (p = the model's parameters, balance temperatures included: 3 or 5):
``R2 = 1 - SSE/SST``; ``CV(RMSE) = sqrt(SSE / (n - p)) / mean(y)``; ``NMBE = sum(y - yhat) / ((n - p) mean(y))``.
Guideline 14-2014's acceptance of a baseline model: CV(RMSE) at most 20 % (less than 12 months of
reporting data), 25 % (12 to 60 months) or 30 % (more); NMBE within +-0.5 %; and we report the R2 > 0.75
long used with it (Guideline 14-2002).

Savings: avoided energy use = the baseline model's prediction for the reporting periods' weather minus
the metered use. Its uncertainty (Guideline 14, Annex B, the fractional savings uncertainty):
``U = t * 1.26 * CV * E_base * sqrt((n / n') * (1 + 2 / n') / m)``, with ``E_base`` the predicted
reporting use, ``n`` baseline points, ``m`` reporting points, ``n' = n (1 - rho) / (1 + rho)``
(``rho`` the lag-1 autocorrelation of the baseline residuals, for daily data) and ``t`` Student's t at
the confidence level with ``n' - p`` degrees of freedom. Guideline 14 asks for an uncertainty under
50 % of the savings at 68 % confidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
import numpy.typing as npt

ModelKind = Literal["3PH", "3PC", "5P", "auto"]
FloatArray = npt.NDArray[np.float64]
R2_MIN = 0.75
NMBE_MAX = 0.005


def cvrmse_limit(reporting_months: float) -> float:
    """Guideline 14-2014's largest CV(RMSE) of a baseline model for this much reporting data."""
    return 0.20 if reporting_months < 12 else 0.25 if reporting_months <= 60 else 0.30


def t_quantile(confidence: float, dof: float) -> float:
    """Two-sided Student's t for ``confidence`` (0.68, 0.90, 0.95) with ``dof`` degrees of freedom
    (the Cornish-Fisher expansion around the normal quantile: within 0.1 % for dof >= 5)."""
    z = NormalDist().inv_cdf((1.0 + confidence) / 2.0)
    v = max(dof, 1.0)
    return (z + (z**3 + z) / (4 * v) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
            + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4))


@dataclass(frozen=True, slots=True)
class Periods:
    """Baseline or reporting data: per period its consumption, days, and its days' mean temperatures
    (``temps``: periods x longest period, NaN-padded)."""

    y: FloatArray
    n: FloatArray
    temps: FloatArray

    @classmethod
    def daily(cls, y: Sequence[float], temps: Sequence[float]) -> Periods:
        t = np.asarray(temps, dtype=np.float64)
        return cls(np.asarray(y, dtype=np.float64), np.ones(len(t)), t.reshape(-1, 1))

    @classmethod
    def grouped(cls, y: Sequence[float], days: Sequence[Sequence[float]]) -> Periods:
        width = max((len(d) for d in days), default=1)
        temps = np.full((len(days), width), np.nan)
        for i, d in enumerate(days):
            temps[i, : len(d)] = d
        return cls(np.asarray(y, dtype=np.float64), np.array([len(d) for d in days], dtype=np.float64), temps)

    def hdd(self, th: FloatArray) -> FloatArray:
        """Heating degree days of each period (columns) at each balance temperature (rows)."""
        return np.asarray(np.nansum(np.maximum(0.0, th[:, None, None] - self.temps[None]), axis=2), dtype=np.float64)

    def cdd(self, tc: FloatArray) -> FloatArray:
        return np.asarray(np.nansum(np.maximum(0.0, self.temps[None] - tc[:, None, None]), axis=2), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Model:
    """A fitted change-point model and its statistics (Guideline 14's)."""

    kind: str
    base: float  # b0: consumption per day not explained by weather
    heating_slope: float  # per heating degree day
    cooling_slope: float  # per cooling degree day
    heating_balance: float | None
    cooling_balance: float | None
    n: int
    params: int
    r2: float
    cvrmse: float
    nmbe: float
    mean: float
    rho: float  # lag-1 autocorrelation of the residuals

    def predict(self, periods: Periods) -> FloatArray:
        out = self.base * periods.n
        if self.heating_balance is not None:
            out = out + self.heating_slope * periods.hdd(np.array([self.heating_balance]))[0]
        if self.cooling_balance is not None:
            out = out + self.cooling_slope * periods.cdd(np.array([self.cooling_balance]))[0]
        return np.asarray(out, dtype=np.float64)

    def acceptable(self, reporting_months: float = 12.0) -> dict[str, bool]:
        """Guideline 14's tests: R2, CV(RMSE) (for the reporting data's length), NMBE."""
        return {"r2": self.r2 >= R2_MIN, "cvrmse": self.cvrmse <= cvrmse_limit(reporting_months),
                "nmbe": abs(self.nmbe) <= NMBE_MAX}


def grid(temps: FloatArray, step: float) -> FloatArray:
    lo, hi = float(np.nanmin(temps)), float(np.nanmax(temps))
    first = math.ceil(lo / step) * step
    return np.arange(first, hi + step / 2, step, dtype=np.float64)


def _solve(xtx: FloatArray, xty: FloatArray) -> FloatArray:
    """Batched solve of normal equations; singular systems give NaN coefficients."""
    det = np.linalg.det(xtx)
    ok = np.abs(det) > 1e-9 * np.maximum(1.0, np.abs(xtx).max(axis=(-1, -2)) ** xtx.shape[-1])
    out = np.full(xty.shape, np.nan)
    if ok.any():
        out[ok] = np.linalg.solve(xtx[ok], xty[ok][..., None])[..., 0]
    return out


def _search(kind: str, p: Periods, step: float) -> tuple[float, FloatArray, float | None, float | None]:
    """(SSE, coefficients [b0, bh, bc], th, tc) of the best candidate of ``kind``."""
    y, n = p.y, p.n
    g = grid(p.temps, step)
    yy, ny, nn = float(y @ y), float(n @ y), float(n @ n)
    if kind in ("3PH", "3PC"):
        d = p.hdd(g) if kind == "3PH" else p.cdd(g)  # (k, periods)
        xtx = np.empty((len(g), 2, 2))
        xtx[:, 0, 0] = nn
        xtx[:, 0, 1] = xtx[:, 1, 0] = d @ n
        xtx[:, 1, 1] = np.einsum("ij,ij->i", d, d)
        xty = np.stack([np.full(len(g), ny), d @ y], axis=1)
        b = _solve(xtx, xty)
        sse = yy - np.einsum("ij,ij->i", b, xty)
        sse[~(b[:, 1] > 0)] = np.inf
        i = int(np.argmin(sse))
        coef = np.array([b[i, 0], b[i, 1] if kind == "3PH" else 0.0, b[i, 1] if kind == "3PC" else 0.0])
        return float(sse[i]), coef, (float(g[i]) if kind == "3PH" else None), (float(g[i]) if kind == "3PC" else None)
    h, c = p.hdd(g), p.cdd(g)  # (k, periods) each
    k = len(g)
    xtx = np.empty((k, k, 3, 3))
    xtx[..., 0, 0] = nn
    xtx[..., 0, 1] = xtx[..., 1, 0] = (h @ n)[:, None]
    xtx[..., 0, 2] = xtx[..., 2, 0] = (c @ n)[None, :]
    xtx[..., 1, 1] = np.einsum("ij,ij->i", h, h)[:, None]
    xtx[..., 2, 2] = np.einsum("ij,ij->i", c, c)[None, :]
    xtx[..., 1, 2] = xtx[..., 2, 1] = h @ c.T
    xty = np.empty((k, k, 3))
    xty[..., 0] = ny
    xty[..., 1] = (h @ y)[:, None]
    xty[..., 2] = (c @ y)[None, :]
    b = _solve(xtx, xty)
    sse = yy - np.einsum("ijk,ijk->ij", b, xty)
    valid = (b[..., 1] > 0) & (b[..., 2] > 0) & (g[:, None] <= g[None, :])
    sse[~valid] = np.inf
    i, j = (int(x) for x in np.unravel_index(int(np.argmin(sse)), sse.shape))
    return float(sse[i, j]), b[i, j].copy(), float(g[i]), float(g[j])


def fit(periods: Periods, kind: ModelKind = "auto", step: float = 0.5) -> Model:
    """The best change-point model of ``kind`` (``auto``: of 3PH, 3PC and 5P whose slopes are significant
    -- t of at least 2 -- the lowest CV(RMSE)).

    ValueError when there are too few periods or no model of that shape fits (a slope would be negative).
    """
    if len(periods.y) < 6:
        raise ValueError(f"{len(periods.y)} periods: a baseline needs at least 6")
    kinds: tuple[str, ...] = ("3PH", "3PC", "5P") if kind == "auto" else (kind,)
    best: Model | None = None
    for k in kinds:
        sse, coef, th, tc = _search(k, periods, step)
        if not math.isfinite(sse):
            continue
        model = _model(k, periods, coef, th, tc)
        if kind == "auto" and not _significant(model, periods):
            continue
        if best is None or model.cvrmse < best.cvrmse:
            best = model
    if best is None:
        raise ValueError(f"no {kind} model fits: the consumption does not rise with heating or cooling degree days")
    return best


def _significant(model: Model, p: Periods, t_min: float = 2.0) -> bool:
    """Whether each slope of ``model`` is at least ``t_min`` standard errors from zero (how ``auto``
    keeps a 5P model from fitting noise with a slope the data do not support)."""
    columns = [p.n]
    if model.heating_balance is not None:
        columns.append(p.hdd(np.array([model.heating_balance]))[0])
    if model.cooling_balance is not None:
        columns.append(p.cdd(np.array([model.cooling_balance]))[0])
    x = np.column_stack(columns)
    resid = p.y - model.predict(p)
    mse = float(resid @ resid) / max(len(p.y) - model.params, 1)
    try:
        cov = np.linalg.inv(x.T @ x) * mse
    except np.linalg.LinAlgError:
        return False
    slopes = [s for s in (model.heating_slope if model.heating_balance is not None else None,
                          model.cooling_slope if model.cooling_balance is not None else None) if s is not None]
    se = np.sqrt(np.diag(cov)[1:])
    return all(abs(s) >= t_min * e for s, e in zip(slopes, se, strict=True))


def _model(kind: str, p: Periods, coef: FloatArray, th: float | None, tc: float | None) -> Model:
    params = 5 if kind == "5P" else 3
    draft = Model(kind=kind, base=float(coef[0]), heating_slope=float(coef[1]), cooling_slope=float(coef[2]),
                  heating_balance=th, cooling_balance=tc, n=len(p.y), params=params, r2=0.0, cvrmse=0.0,
                  nmbe=0.0, mean=0.0, rho=0.0)
    r2, cv, nmbe, mean, rho = statistics(p.y, draft.predict(p), params)
    return Model(kind=kind, base=draft.base, heating_slope=draft.heating_slope, cooling_slope=draft.cooling_slope,
                 heating_balance=th, cooling_balance=tc, n=len(p.y), params=params, r2=r2, cvrmse=cv, nmbe=nmbe,
                 mean=mean, rho=rho)


def statistics(y: FloatArray, yhat: FloatArray, params: int) -> tuple[float, float, float, float, float]:
    """(R2, CV(RMSE), NMBE, mean, lag-1 autocorrelation of residuals) of a fit with ``params`` parameters."""
    y = np.asarray(y, dtype=np.float64)
    resid = y - yhat
    mean = float(y.mean())
    dof = max(len(y) - params, 1)
    sse = float(resid @ resid)
    sst = float(((y - mean) ** 2).sum())
    r2 = 1.0 - sse / sst if sst > 0 else 0.0
    cv = math.sqrt(sse / dof) / mean if mean else math.inf
    nmbe = float(resid.sum()) / (dof * mean) if mean else math.inf
    centred = resid - resid.mean()
    denom = float(centred @ centred)
    rho = float(centred[1:] @ centred[:-1]) / denom if denom > 0 and len(y) > 2 else 0.0
    return r2, cv, nmbe, mean, rho


@dataclass(frozen=True, slots=True)
class Savings:
    """Avoided energy use over a reporting span, with its uncertainty at ``confidence``."""

    baseline_kwh: float  # the model's prediction for the reporting weather
    metered_kwh: float
    avoided_kwh: float
    uncertainty_kwh: float
    confidence: float
    fraction: float  # avoided / baseline
    m: int
    acceptable: bool  # the uncertainty is under half the savings (Guideline 14's test at 68 %)


def savings(model: Model, reporting: Periods, confidence: float = 0.90, autocorrelated: bool = True) -> Savings:
    """Avoided energy use of ``reporting`` against ``model``, with Guideline 14's uncertainty."""
    predicted = model.predict(reporting)
    base = float(predicted.sum())
    metered = float(reporting.y.sum())
    avoided = base - metered
    m = len(reporting.y)
    uncertainty = _uncertainty(model, base, m, confidence, autocorrelated)
    at68 = _uncertainty(model, base, m, 0.68, autocorrelated)
    return Savings(baseline_kwh=base, metered_kwh=metered, avoided_kwh=avoided, uncertainty_kwh=uncertainty,
                   confidence=confidence, fraction=avoided / base if base else 0.0, m=m,
                   acceptable=avoided > 0 and at68 < 0.5 * avoided)


def _uncertainty(model: Model, base: float, m: int, confidence: float, autocorrelated: bool) -> float:
    n = float(model.n)
    rho = min(max(model.rho, 0.0), 0.95) if autocorrelated else 0.0
    effective = n * (1.0 - rho) / (1.0 + rho)
    t = t_quantile(confidence, max(effective - model.params, 1.0))
    return t * 1.26 * model.cvrmse * base * math.sqrt((n / effective) * (1.0 + 2.0 / effective) / max(m, 1))


def degree_days(temps: Sequence[float], heating: float, cooling: float) -> tuple[float, float]:
    """(HDD, CDD) of daily mean temperatures at the given balance temperatures."""
    t = np.asarray(temps, dtype=np.float64)
    return float(np.maximum(0.0, heating - t).sum()), float(np.maximum(0.0, t - cooling).sum())


__all__ = ["Model", "Periods", "Savings", "cvrmse_limit", "degree_days", "fit", "savings", "statistics", "t_quantile"]
