"""The HTML report: answer first, every figure embedded, no external loads, byte-identical."""

from __future__ import annotations

import base64
import re

from hwsim.report.html import flatten_assumptions, write_report
from tests.unit.report import synth


def _write(d, **kw):
    args = {"rows": synth.rows(), "per_op": synth.per_op(), "assumptions": synth.assumptions(),
            "unpriced": synth.unpriced(), "meta": synth.meta()}
    args.update(kw)
    return write_report(d, **args)


def test_every_figure_is_embedded(tmp_path):
    page = _write(tmp_path).read_text()
    pngs = sorted((tmp_path / "figures").glob("*.png"))
    # lottery, pareto (1 workload), breakdown, 6 rooflines, sweep over batch
    assert len(pngs) == 10
    assert len(sorted((tmp_path / "figures").glob("*.svg"))) == 10
    assert page.count("<img ") == len(pngs) == int(re.search(r'data-figures-total="(\d+)"', page)[1])
    for p in pngs:
        assert base64.b64encode(p.read_bytes()).decode() in page, p.name


def test_no_external_urls(tmp_path):
    page = _write(tmp_path, assumptions=synth.assumptions(url=False)).read_text()
    assert "http" not in page
    with_url = _write(tmp_path / "u").read_text()
    # a source that is a URL is shown as text, never loaded or linked
    assert "https://www.nvidia.com/a100-datasheet.pdf" in with_url
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//|url\(|@import""", with_url, re.I)
    assert all(s.startswith("data:image/png;base64,") for s in re.findall(r'src="([^"]*)"', with_url))


def test_two_writes_are_byte_identical(tmp_path):
    a = _write(tmp_path / "a").read_bytes()
    again = _write(tmp_path / "a").read_bytes()
    b = _write(tmp_path / "b").read_bytes()
    assert a == again == b
    assert not [p.name for p in (tmp_path / "a").iterdir() if p.name.startswith(".")], "temp file left"


def test_sections_in_order_answer_first(tmp_path):
    page = _write(tmp_path).read_text()
    heads = re.findall(r"<h2>([^<]*)</h2>", page)
    assert heads == ["Answer", "Figures", "Results", "Assumptions", "Unpriced ops"]
    answer = page[page.index("<h2>Answer</h2>"):page.index("<h2>Figures</h2>")]
    assert "wins on eie (12 mJ) and loses on cpu-x (500 mJ, 41.7× worse)" in answer
    assert "NonMaxSuppression" in page[page.index("<h2>Unpriced ops</h2>"):]
    assert "Does pruning win on a sparse accelerator?" in page


def test_results_table_sorted_and_nan_shown_as_na(tmp_path):
    page = _write(tmp_path).read_text()
    table = page[page.index("<h2>Results</h2>"):page.index("<h2>Assumptions</h2>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table)[1:]
    assert len(rows) == 24
    assert "<td>cnn-p90</td>" in rows[0] and "<td>a100</td>" in rows[0]  # 5 mJ: the best
    assert "<td>loihi</td>" in rows[-1] and "n/a" in rows[-1]  # no value: last, not ranked


def test_no_unpriced_section_when_none_and_named_figures(tmp_path):
    meta = synth.meta(figures=["lottery_matrix", {"name": "roofline", "key": ["cnn", "eie"]}, "serving_curve",
                               "nonsense"])
    page = _write(tmp_path, unpriced=[], meta=meta).read_text()
    assert "<h2>Unpriced ops</h2>" not in page
    assert page.count("<img ") == 2
    assert "unknown figure &#x27;nonsense&#x27;" in page
    assert "serving_curve: " in page or "no serving rows" in page


def test_flatten_assumptions_by_hand():
    flat = flatten_assumptions(synth.assumptions(url=False))
    assert ("devices.a100.peak_flops_per_s", "3.12e+14", "NVIDIA A100 datasheet, table 1") in flat
    assert ("economics.pue", "1.1", "") in flat
    assert ("devices.eie.pe_count", "64", "Han et al. 2016, ISCA, sec. 4") in flat
    assert not any(name.endswith("sources") or ".sources." in name for name, _, _ in flat)
    nested = flatten_assumptions({"gpu": {"hbm": {"bw": 2.0}}, "sources": {"gpu": {"hbm": {"bw": "spec"}}}})
    assert nested == [("gpu.hbm.bw", "2", "spec")]


def test_flatten_assumptions_runner_shapes():
    tree = {"economics": {"pue": 1.58, "pricing": "capex"}, "economics_sources": "EIA 2023",
            "devices": {"eie": {"energy": {"mac_j": {"fp32": 2.9e-12}, "dram_byte_j": 1.6e-10},
                                "tensor_flops_per_s": {"bf16": 3e14, "int8": 6e14},
                                "efficiency": {"matmul": {"peak_fraction": 0.7}},
                                "sources": {"energy.mac_j": "Horowitz 2014", "tensor_flops_per_s.bf16": "datasheet",
                                            "efficiency": "calibrated"}}},
            "workloads": [{"type": "inference"}]}
    flat = {n: s for n, _, s in flatten_assumptions(tree)}
    assert flat == {"economics.pue": "EIA 2023", "economics.pricing": "EIA 2023",
                    "devices.eie.energy.mac_j.fp32": "Horowitz 2014", "devices.eie.energy.dram_byte_j": "",
                    "devices.eie.tensor_flops_per_s.bf16": "datasheet", "devices.eie.tensor_flops_per_s.int8": "",
                    "devices.eie.efficiency.matmul.peak_fraction": "calibrated", "workloads.0.type": ""}
