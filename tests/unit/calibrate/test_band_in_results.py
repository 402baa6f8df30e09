"""A calibrated device's predictions carry their p10–p90 band in price results and rows."""

from __future__ import annotations

from pathlib import Path

import pytest

import hwsim
from hwsim.devices import make_device
from hwsim.rollup import price_on

DATA = Path(__file__).resolve().parents[2] / "data" / "calibration" / "microbench_epyc2.json"


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    pytest.importorskip("scipy", reason="hwsim[calibrate] not installed")
    from hwsim.calibrate import calibrate_from_records

    _, spec = calibrate_from_records(DATA, out=tmp_path_factory.mktemp("cal") / "cpu-local.yaml", force=True)
    return spec


def test_price_carries_the_calibration_band_and_session_cost(calibrated):
    table = hwsim.count_work(hwsim.load_model("zoo:lenet5"))
    result = price_on(table, make_device(calibrated))
    cal = calibrated.calibration
    ops = float(result.costs.latency_s.sum())
    assert result.latency_s == pytest.approx(ops + cal.session_overhead_s)
    lo, hi = result.latency_band_s
    assert (lo, hi) == pytest.approx((result.latency_s * cal.band_low, result.latency_s * cal.band_high))
    doc = result.to_dict()
    assert doc["latency_p10_s"] == pytest.approx(lo) and doc["latency_p90_s"] == pytest.approx(hi)


def test_uncalibrated_devices_have_no_band():
    table = hwsim.count_work(hwsim.load_model("zoo:lenet5"))
    result = hwsim.price(table, "xeon-8380")
    assert result.latency_band_s is None and "latency_p10_s" not in result.to_dict()
