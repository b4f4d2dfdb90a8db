"""Change-point baselines: statistics against numpy least squares, recovery of known balance
temperatures, degree days, Student's t and the savings uncertainty of Guideline 14."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bms.energy import Periods, cvrmse_limit, degree_days, fit, savings, t_quantile


def synthetic(n: int = 730, th: float = 15.0, tc: float = 22.0, noise: float = 4.0, seed: int = 1,
              heating: float = 8.0, cooling: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    days = np.arange(n)
    temps = 12 + 10 * np.sin(2 * np.pi * (days - 100) / 365) + rng.normal(0, 3, n)
    y = 200 + heating * np.maximum(0, th - temps) + cooling * np.maximum(0, temps - tc) + rng.normal(0, noise, n)
    return y, temps


def numpy_fit(y: np.ndarray, temps: np.ndarray, th: float, tc: float, params: int) -> tuple[np.ndarray, float, float, float]:
    """The same model at the same balance temperatures by numpy's least squares, and the statistics by hand."""
    x = np.column_stack([np.ones(len(y)), np.maximum(0, th - temps), np.maximum(0, temps - tc)])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    n = len(y)
    r2 = 1 - (resid @ resid) / ((y - y.mean()) @ (y - y.mean()))
    cv = math.sqrt((resid @ resid) / (n - params)) / y.mean()
    nmbe = resid.sum() / ((n - params) * y.mean())
    return coef, r2, cv, nmbe


def test_the_5p_search_recovers_the_balance_temperatures_and_matches_numpy() -> None:
    y, temps = synthetic()
    model = fit(Periods.daily(y, temps), "5P", step=0.5)
    assert (model.heating_balance, model.cooling_balance) == (15.0, 22.0)
    coef, r2, cv, nmbe = numpy_fit(y, temps, 15.0, 22.0, 5)
    assert [model.base, model.heating_slope, model.cooling_slope] == pytest.approx(coef.tolist(), rel=1e-9)
    assert model.r2 == pytest.approx(r2, rel=1e-9)
    assert model.cvrmse == pytest.approx(cv, rel=1e-9)
    assert model.nmbe == pytest.approx(nmbe, abs=1e-12)
    assert model.acceptable() == {"r2": True, "cvrmse": True, "nmbe": True}


@pytest.mark.parametrize(("kind", "th", "tc"), [("3PH", 16.5, None), ("3PC", None, 19.0)])
def test_three_parameter_models_recover_their_balance_temperature(kind: str, th: float | None, tc: float | None) -> None:
    y, temps = synthetic(th=th if th is not None else -50.0, tc=tc if tc is not None else 99.0, noise=2.0, seed=5)
    model = fit(Periods.daily(y, temps), kind, step=0.5)  # type: ignore[arg-type]
    assert model.heating_balance == th and model.cooling_balance == tc
    coef, r2, cv, _ = numpy_fit(y, temps, th if th is not None else -1e9, tc if tc is not None else 1e9, 3)
    assert model.base == pytest.approx(coef[0], rel=1e-9)
    assert model.r2 == pytest.approx(r2, rel=1e-9) and model.cvrmse == pytest.approx(cv, rel=1e-9)


def test_auto_chooses_the_shape_of_the_data() -> None:
    y, temps = synthetic(tc=99.0, th=14.0, noise=2.0, seed=9)
    assert fit(Periods.daily(y, temps)).kind == "3PH"
    y, temps = synthetic(th=15.0, tc=21.0, noise=2.0, seed=9)
    assert fit(Periods.daily(y, temps)).kind == "5P"


def test_monthly_periods_use_degree_days_per_month() -> None:
    y, temps = synthetic(n=36 * 30, th=15.0, tc=99.0, noise=2.0, seed=2)
    months = [temps[i * 30:(i + 1) * 30].tolist() for i in range(36)]
    totals = [float(y[i * 30:(i + 1) * 30].sum()) for i in range(36)]
    model = fit(Periods.grouped(totals, months), "3PH", step=0.5)
    assert model.heating_balance == pytest.approx(15.0, abs=0.5)
    assert model.base == pytest.approx(200.0, rel=0.02)  # per day
    assert model.heating_slope == pytest.approx(8.0, rel=0.05)


def test_a_consumption_that_falls_with_cold_has_no_heating_model() -> None:
    temps = np.linspace(-5, 30, 60)
    with pytest.raises(ValueError, match="no 3PH model fits"):
        fit(Periods.daily(100 + 2 * temps, temps), "3PH")
    with pytest.raises(ValueError, match="at least 6"):
        fit(Periods.daily([1.0, 2.0], [3.0, 4.0]))


def test_degree_days() -> None:
    assert degree_days([10.0, 15.5, 20.0, 26.0], heating=15.5, cooling=22.0) == (pytest.approx(5.5), pytest.approx(4.0))


@pytest.mark.parametrize(("confidence", "dof", "table"), [(0.95, 10, 2.228), (0.90, 20, 1.725), (0.95, 30, 2.042),
                                                          (0.68, 60, 1.0), (0.90, 1000, 1.646)])
def test_student_t_against_the_table(confidence: float, dof: int, table: float) -> None:
    assert t_quantile(confidence, dof) == pytest.approx(table, abs=0.003)


def test_guideline_14_cvrmse_limits() -> None:
    assert (cvrmse_limit(6), cvrmse_limit(12), cvrmse_limit(61)) == (0.20, 0.25, 0.30)


def test_savings_and_their_uncertainty() -> None:
    y, temps = synthetic(n=365, noise=5.0)
    model = fit(Periods.daily(y, temps), "5P")
    ry, rt = synthetic(n=180, noise=5.0, seed=11)
    reporting = Periods.daily(ry * 0.9, rt)  # 10 % less than the baseline would use
    s = savings(model, reporting, confidence=0.90, autocorrelated=False)
    predicted = float(model.predict(Periods.daily(ry, rt)).sum())
    assert s.baseline_kwh == pytest.approx(predicted)
    assert s.avoided_kwh == pytest.approx(predicted - 0.9 * ry.sum())
    assert s.fraction == pytest.approx(0.1, abs=0.01)
    # Guideline 14: t * 1.26 * CV * E_base * sqrt((1 + 2/n) / m), no autocorrelation
    t = t_quantile(0.90, 365 - 5)
    assert s.uncertainty_kwh == pytest.approx(t * 1.26 * model.cvrmse * predicted * math.sqrt((1 + 2 / 365) / 180))
    assert s.acceptable and s.m == 180
    worse = savings(model, reporting, confidence=0.90)  # residual autocorrelation shrinks n: more uncertainty
    assert worse.uncertainty_kwh >= s.uncertainty_kwh
