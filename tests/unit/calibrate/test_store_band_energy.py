"""Atomic writes, overwrite protection, the prediction band, energy readers, missing onnxruntime."""

from __future__ import annotations

import math
import os
import sys

import pytest

from hwsim.calibrate import energy, store
from hwsim.errors import ConfigError


def test_interrupted_write_leaves_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "cpu-local.yaml"
    target.write_text("old: 1\n")

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        store.atomic_write_text(target, "new: 2\n")
    assert target.read_text() == "old: 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cpu-local.yaml"]


def test_no_overwrite_without_force(tmp_path):
    target = tmp_path / "x.yaml"
    target.write_text("a: 1\n")
    with pytest.raises(ConfigError, match="force"):
        store.check_writable(target, force=False)
    assert store.check_writable(target, force=True) == target


def test_calibrate_from_records_roundtrip(tmp_path, recorded):
    import json

    from hwsim.calibrate.run import calibrate_from_records
    from hwsim.calibrate.validate import prediction_band
    from hwsim.devices.library import load_device_spec

    meas = tmp_path / "m.json"
    meas.write_text(json.dumps(recorded))
    out, _ = calibrate_from_records(meas, "epyc-9654", tmp_path / "cpu" / "cpu-local.yaml")
    spec = load_device_spec(str(out))
    cal = spec.calibration
    assert cal.source.measurement_sha256 == store.sha256_file(meas)
    assert spec.threads == 1 and spec.op_efficiency
    lo, hi = prediction_band(spec, 1.0)
    assert lo == pytest.approx(cal.band_low) and hi == pytest.approx(cal.band_high) and lo < 1.0 < hi


def test_band_of_uncalibrated_spec_is_nan():
    from hwsim.calibrate.validate import prediction_band
    from hwsim.devices.library import load_device_spec

    assert all(math.isnan(x) for x in prediction_band(load_device_spec("epyc-9654"), 1.0))


def test_rapl_reader_reads_and_unwraps(tmp_path):
    dom = tmp_path / "intel-rapl:0"
    dom.mkdir()
    (dom / "energy_uj").write_text("1000000\n")
    (dom / "max_energy_range_uj").write_text("5000000\n")
    (tmp_path / "intel-rapl:0:0").mkdir()  # sub-zone: not summed
    reader, why = energy.rapl_reader(tmp_path)
    assert why == "" and reader.read() == pytest.approx(1.0)
    assert reader.delta_j(4.5, 0.5) == pytest.approx(1.0)


def test_no_rapl_says_so(tmp_path):
    reader, why = energy.rapl_reader(tmp_path / "absent")
    assert reader is None and "no RAPL" in why
    assert energy.measure_energy(None, lambda: None, 3) is None


def test_missing_onnxruntime_is_config_error(monkeypatch):
    from hwsim.calibrate.measure import measure_model

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ConfigError, match="onnxruntime"):
        measure_model("zoo:mlp")
