#!/usr/bin/env python3
"""Generate SCALE-Sim reference data for hwsim's systolic-array device model.

SCALE-Sim is a *reference*, never a dependency of hwsim.  Run this script in a
throw-away virtual environment:

    python3 -m venv /tmp/scalesim-venv
    /tmp/scalesim-venv/bin/pip install "numpy<2.4" scalesim
    # versions used for the committed data: scalesim 3.0.0, numpy 2.3.5, Python 3.11.7

    cd tests/data/scalesim
    /tmp/scalesim-venv/bin/python make_reference.py            # everything (2 worker processes)
    /tmp/scalesim-venv/bin/python make_reference.py --only layers      # 16 layers x 4 no-stall configs (~6 min)
    /tmp/scalesim-venv/bin/python make_reference.py --only resnet18    # ResNet-18 timing
    /tmp/scalesim-venv/bin/python make_reference.py --only stalls      # small-SRAM config, appended

Outputs (next to this script):
    reference.json              16 layers x 4 large-SRAM configs (+ a 5-layer small-SRAM stall run),
                                compute/total/stall cycles, report rows, config + topology text
    resnet18_128x128_ws.json    whole ResNet-18 (batch 1) on 128x128 WS: wall-clock + per-layer cycles

How SCALE-Sim is driven: through its Python API (the same code path as
``python -m scalesim.scale``), because the CLI in scalesim 3.0.0 ignores ``-s N``
and always writes multi-GB SRAM/DRAM trace CSVs.  The equivalent CLI command is
recorded alongside each run.  The closed-form compute-cycle formulas are
documented in FORMULAS.md and re-checked by this script (``formula_*`` fields).
"""
import argparse
import csv
import io
import json
import math
import os
import platform
import sys
import tempfile
import time
from importlib.metadata import version as pkg_version
from multiprocessing import Pool

HERE = os.path.dirname(os.path.abspath(__file__))
_LAYER_TIMES = []  # per-layer wall-clock of the current SCALE-Sim run

CONFIG_TEMPLATE = """[general]
run_name = {run_name}

[architecture_presets]
ArrayHeight:    {rows}
ArrayWidth:     {cols}
IfmapSramSzkB:   {ifmap_kb}
FilterSramSzkB:  {filter_kb}
OfmapSramSzkB:   {ofmap_kb}
IfmapOffset:    0
FilterOffset:   100000000
OfmapOffset:    200000000
Bandwidth : {bw}
Dataflow : {df}
ReadRequestBuffer: 512
WriteRequestBuffer: 512

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: {bw}
IfmapSRAMBankNum: 1
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: {bw}
FilterSRAMBankNum: 1
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false

[run_presets]
InterfaceBandwidth: USER
UseRamulatorTrace: False
"""
# In USER bandwidth mode scalesim 3.0.0 takes the ifmap/filter DRAM->SRAM
# bandwidth from [layout] IfmapSRAMBankBandwidth / FilterSRAMBankBandwidth and
# the ofmap SRAM->DRAM bandwidth from [architecture_presets] Bandwidth, so all
# three are set to the same value.  Word size is fixed at 1 byte, so 1 kB = 1024 words.

TOPO_HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
LAYOUT_TEXT = "Layer name, unused (custom layouts disabled),\n"  # header-only; scalesim needs the file to exist

# (name, ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filters, stride, note)
# SCALE-Sim does NOT pad: ofmap = ceil((H - F + s) / s).  Ifmap sizes below are
# chosen "pre-padded" so SCALE-Sim's output size equals the PyTorch output size
# (see FORMULAS.md: for stride 2 one must give H_pad - 1, e.g. 229 not 230).
LAYERS = [
    ("r18_conv1_7x7_s2", 229, 229, 7, 7, 3, 64, 2, "ResNet-18/50 stem conv, pad 3 -> 112x112"),
    ("r18_l1_3x3", 58, 58, 3, 3, 64, 64, 1, "ResNet-18 layer1 3x3 conv, pad 1 -> 56x56"),
    ("r18_l2_3x3_s2", 57, 57, 3, 3, 64, 128, 2, "ResNet-18 layer2 first 3x3 stride-2 conv -> 28x28"),
    ("r18_l3_3x3", 16, 16, 3, 3, 256, 256, 1, "ResNet-18 layer3 3x3 conv -> 14x14"),
    ("r18_l4_3x3", 9, 9, 3, 3, 512, 512, 1, "ResNet-18 layer4 3x3 conv -> 7x7"),
    ("r18_l3_down_1x1_s2", 27, 27, 1, 1, 128, 256, 2, "ResNet-18 layer3 downsample 1x1 stride 2 -> 14x14"),
    ("r50_l1_1x1_reduce", 56, 56, 1, 1, 256, 64, 1, "ResNet-50 layer1 bottleneck 1x1 256->64"),
    ("r50_l3_1x1_expand", 14, 14, 1, 1, 256, 1024, 1, "ResNet-50 layer3 bottleneck 1x1 256->1024"),
    ("r50_l4_1x1_reduce", 7, 7, 1, 1, 2048, 512, 1, "ResNet-50 layer4 bottleneck 1x1 2048->512"),
    ("dw_like_3x3_c1", 114, 114, 3, 3, 1, 1, 1, "one channel of a depthwise 3x3 (SCALE-Sim splits DP layers this way)"),
    ("small_ch_3x3", 34, 34, 3, 3, 4, 8, 1, "small-channel 3x3 conv 4->8 -> 32x32"),
    ("gemm_bert_qkv_768x768_t128", 128, 1, 1, 1, 768, 768, 1, "GEMM M=128 tokens, K=768, N=768 as 1x1 conv on 128x1 ifmap"),
    ("gemm_bert_ffn1_768x3072_t128", 128, 1, 1, 1, 768, 3072, 1, "GEMM M=128, K=768, N=3072"),
    ("gemm_bert_ffn2_3072x768_t128", 128, 1, 1, 1, 3072, 768, 1, "GEMM M=128, K=3072, N=768"),
    ("gemm_tall_skinny_4096x64x32", 4096, 1, 1, 1, 64, 32, 1, "tall-skinny GEMM M=4096, K=64, N=32"),
    ("gemv_r50_fc_2048x1000", 1, 1, 1, 1, 2048, 1000, 1, "ResNet-50 FC, batch 1: GEMV M=1, K=2048, N=1000"),
]

BIG_SRAM_KB = 8192      # 8 Mi words per SRAM (active half = 4 Mi words): every operand fits -> no stalls
BIG_BW = 1024           # words/cycle
CONFIGS = [
    dict(name="ws_32x32_bigsram", array_rows=32, array_cols=32, dataflow="ws",
         ifmap_sram_kb=BIG_SRAM_KB, filter_sram_kb=BIG_SRAM_KB, ofmap_sram_kb=BIG_SRAM_KB,
         bandwidth_words_per_cycle=BIG_BW),
    dict(name="ws_128x128_bigsram", array_rows=128, array_cols=128, dataflow="ws",
         ifmap_sram_kb=BIG_SRAM_KB, filter_sram_kb=BIG_SRAM_KB, ofmap_sram_kb=BIG_SRAM_KB,
         bandwidth_words_per_cycle=BIG_BW),
    dict(name="os_64x64_bigsram", array_rows=64, array_cols=64, dataflow="os",
         ifmap_sram_kb=BIG_SRAM_KB, filter_sram_kb=BIG_SRAM_KB, ofmap_sram_kb=BIG_SRAM_KB,
         bandwidth_words_per_cycle=BIG_BW),
    dict(name="is_128x128_bigsram", array_rows=128, array_cols=128, dataflow="is",
         ifmap_sram_kb=BIG_SRAM_KB, filter_sram_kb=BIG_SRAM_KB, ofmap_sram_kb=BIG_SRAM_KB,
         bandwidth_words_per_cycle=BIG_BW),
]
# SCALE-Sim's own example sizes (configs/scale.cfg: 64 kB SRAMs, 10 words/cycle) -> memory stalls.
# Stall simulation is slow in SCALE-Sim (the full 16-layer set ran > 13 min without finishing on
# 2 cores), so this config uses a subset of the cheaper layers.
STALL_CONFIGS = [
    dict(name="ws_32x32_smallsram_bw10", array_rows=32, array_cols=32, dataflow="ws",
         ifmap_sram_kb=64, filter_sram_kb=64, ofmap_sram_kb=64, bandwidth_words_per_cycle=10),
]
STALL_LAYERS = ["small_ch_3x3", "r18_l3_down_1x1_s2", "gemm_tall_skinny_4096x64x32", "dw_like_3x3_c1",
                "r18_l2_3x3_s2"]

# ResNet-18, batch 1, 224x224: same 21 layers as SCALE-Sim's GitHub topology
# topologies/sparsity/Resnet18.csv (scale-sim-v2 repo; not shipped in the pip
# wheel).  "shipped" = exactly that file's (unpadded) dims; "padded" = dims
# pre-padded so the output sizes equal torchvision's resnet18.
RESNET18_SHIPPED = [
    ("Conv1", 224, 224, 7, 7, 3, 64, 2), ("Conv2_1a", 56, 56, 3, 3, 64, 64, 1),
    ("Conv2_1b", 56, 56, 3, 3, 64, 64, 1), ("Conv2_2a", 56, 56, 3, 3, 64, 64, 1),
    ("Conv2_2b", 56, 56, 3, 3, 64, 64, 1), ("Conv3_1a", 56, 56, 3, 3, 64, 128, 2),
    ("Conv3_1b", 28, 28, 3, 3, 128, 128, 1), ("Conv3_s", 56, 56, 1, 1, 64, 128, 2),
    ("Conv3_2a", 28, 28, 3, 3, 128, 128, 1), ("Conv3_2b", 28, 28, 3, 3, 128, 128, 1),
    ("Conv4_1a", 28, 28, 3, 3, 128, 256, 2), ("Conv4_1b", 14, 14, 3, 3, 256, 256, 1),
    ("Conv4_s", 28, 28, 1, 1, 128, 256, 2), ("Conv4_2a", 14, 14, 3, 3, 256, 256, 1),
    ("Conv4_2b", 14, 14, 3, 3, 256, 256, 1), ("Conv5_1a", 14, 14, 3, 3, 256, 512, 2),
    ("Conv5_1b", 7, 7, 3, 3, 512, 512, 1), ("Conv5_s", 14, 14, 1, 1, 256, 512, 2),
    ("Conv5_2a", 7, 7, 3, 3, 512, 512, 1), ("Conv5_2b", 7, 7, 3, 3, 512, 512, 1),
    ("FC", 1, 1, 1, 1, 512, 1000, 1),
]


def _padded(layer):
    """Pre-pad (k//2 each side) and, for stride 2, drop one row/col so SCALE-Sim's
    ceil-based output size equals floor((H + 2p - k)/s) + 1."""
    name, h, w, fh, fw, c, n, s = layer
    p = fh // 2
    if fh == 1 and s == 1:
        return layer
    hp, wp = h + 2 * p, w + 2 * p
    ho = (hp - fh) // s + 1
    hp_ss = (ho - 1) * s + fh  # smallest ifmap giving ho under ceil((H-F+s)/s)
    wo = (wp - fw) // s + 1
    wp_ss = (wo - 1) * s + fw
    return (name, hp_ss, wp_ss, fh, fw, c, n, s)


RESNET18_PADDED = [_padded(l) for l in RESNET18_SHIPPED]


# ----------------------------------------------------------------------------
# Closed-form model (see FORMULAS.md)
# ----------------------------------------------------------------------------
def scalesim_ofmap(h, f, s):
    return int(math.ceil((h - f + s) / s))


def formula_compute_cycles(df, R, C, ifmap_h, ifmap_w, fh, fw, ch, nf, stride):
    """SCALE-Sim 3.0.0 'Total Cycles' column (= compute cycles when there are no stalls)."""
    ho, wo = scalesim_ofmap(ifmap_h, fh, stride), scalesim_ofmap(ifmap_w, fw, stride)
    npx = ho * wo            # ofmap pixels per filter (batch 1)  = GEMM M
    k = fh * fw * ch         # conv window                         = GEMM K
    n = nf                   # filters                             = GEMM N
    if df == "ws":   # weights stationary: K on rows, N on cols, pixels streamed
        sr, sc, t = k, n, npx
        per_fold = 2 * R + C + t - 2
    elif df == "os":  # outputs stationary: pixels on rows, N on cols, K streamed
        sr, sc, t = npx, n, k
        per_fold = R + C + t - 2
    elif df == "is":  # inputs stationary: K on rows, pixels on cols, N streamed
        sr, sc, t = k, npx, n
        per_fold = 2 * R + C + t - 2
    else:
        raise ValueError(df)
    folds = math.ceil(sr / R) * math.ceil(sc / C)
    return folds * per_fold - 1, dict(Sr=sr, Sc=sc, T=t, row_folds=math.ceil(sr / R),
                                      col_folds=math.ceil(sc / C), cycles_per_fold=per_fold)


# ----------------------------------------------------------------------------
# Running SCALE-Sim
# ----------------------------------------------------------------------------
def topo_text(layers):
    return TOPO_HEADER + "".join(",".join(str(x) for x in l[:8]) + ",\n" for l in layers)


def config_text(cfg):
    return CONFIG_TEMPLATE.format(run_name=cfg["name"], rows=cfg["array_rows"], cols=cfg["array_cols"],
                                  ifmap_kb=cfg["ifmap_sram_kb"], filter_kb=cfg["filter_sram_kb"],
                                  ofmap_kb=cfg["ofmap_sram_kb"], bw=cfg["bandwidth_words_per_cycle"],
                                  df=cfg["dataflow"])


def _read_report(path):
    with open(path) as f:
        text = f.read()
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in rows[0] if h.strip()]
    out = []
    for r in rows[1:]:
        vals = [v.strip() for v in r if v.strip() != ""]
        if vals:
            out.append({h: float(v) for h, v in zip(header, vals)})
    return text, out


def run_scalesim(cfg, layers, workdir):
    """Run one SCALE-Sim invocation (all layers of one topology, one config)."""
    import scalesim.single_layer_sim as sls
    from scalesim.scale_sim import scalesim

    # Per-layer wall-clock: wrap single_layer_sim.run (timing only, no behaviour change).
    if not getattr(sls.single_layer_sim.run, "_timed", False):
        orig_run = sls.single_layer_sim.run

        def timed_run(self):
            t0 = time.perf_counter()
            orig_run(self)
            _LAYER_TIMES.append(time.perf_counter() - t0)
        timed_run._timed = True
        sls.single_layer_sim.run = timed_run
    del _LAYER_TIMES[:]

    os.makedirs(workdir, exist_ok=True)
    cfg_path = os.path.join(workdir, cfg["name"] + ".cfg")
    topo_path = os.path.join(workdir, "topology.csv")
    layout_path = os.path.join(workdir, "layout.csv")
    out_dir = os.path.join(workdir, "out")
    ctext, ttext = config_text(cfg), topo_text(layers)
    for p, t in ((cfg_path, ctext), (topo_path, ttext), (layout_path, LAYOUT_TEXT)):
        with open(p, "w") as f:
            f.write(t)

    t0 = time.perf_counter()
    sim = scalesim(save_disk_space=True, verbose=False, config=cfg_path, topology=topo_path,
                   layout=layout_path, input_type_gemm=False)
    sim.run_scale(top_path=out_dir)
    wall = time.perf_counter() - t0

    rep_dir = os.path.join(out_dir, cfg["name"])
    comp_text, comp = _read_report(os.path.join(rep_dir, "COMPUTE_REPORT.csv"))
    bw_text, bw = _read_report(os.path.join(rep_dir, "BANDWIDTH_REPORT.csv"))
    det_text, det = _read_report(os.path.join(rep_dir, "DETAILED_ACCESS_REPORT.csv"))
    per_layer_s = list(_LAYER_TIMES)

    recs = []
    for i, l in enumerate(layers):
        name, h, w, fh, fw, c, n, s = l[:8]
        cr, br, dr = comp[i], bw[i], det[i]
        f_cc, f_info = formula_compute_cycles(cfg["dataflow"], cfg["array_rows"], cfg["array_cols"],
                                              h, w, fh, fw, c, n, s)
        total_incl_prefetch = int(cr["Total Cycles (incl. prefetch)"])
        total = int(cr["Total Cycles"])
        stall = int(cr["Stall Cycles"])
        rec = dict(
            name=name, ifmap_h=h, ifmap_w=w, filter_h=fh, filter_w=fw, channels=c, num_filters=n,
            stride=s,
            ofmap_h=scalesim_ofmap(h, fh, s), ofmap_w=scalesim_ofmap(w, fw, s),
            gemm_M_ofmap_px=scalesim_ofmap(h, fh, s) * scalesim_ofmap(w, fw, s),
            gemm_K_window=fh * fw * c, gemm_N_filters=n,
            macs=scalesim_ofmap(h, fh, s) * scalesim_ofmap(w, fw, s) * fh * fw * c * n,
            # "compute_cycles": SCALE-Sim's "Total Cycles" column minus its stall cycles
            compute_cycles=total - stall,
            # "total_cycles": SCALE-Sim's "Total Cycles" column (compute + stalls, as printed
            # by the simulator under the label "Compute cycles")
            total_cycles=total,
            stall_cycles=stall,
            total_cycles_incl_prefetch=total_incl_prefetch,
            overall_util_pct=cr["Overall Util %"],
            mapping_efficiency_pct=cr["Mapping Efficiency %"],
            compute_util_pct=cr["Compute Util %"],
            bandwidth_report=br,
            detailed_access_report=dr,
            formula_compute_cycles=f_cc,
            formula_residual=(total - stall) - f_cc,
            formula_terms=f_info,
            wall_s=round(per_layer_s[i], 4) if i < len(per_layer_s) else None,
        )
        if len(l) > 8:
            rec["note"] = l[8]
        recs.append(rec)

    return dict(
        config=dict(cfg),
        config_file_text=ctext,
        topology_csv_text=ttext,
        layout_csv_text=LAYOUT_TEXT,
        api_call=("scalesim.scale_sim.scalesim(save_disk_space=True, verbose=False, config=%r, "
                  "topology='topology.csv', layout='layout.csv', input_type_gemm=False)"
                  ".run_scale(top_path='out')" % (cfg["name"] + ".cfg")),
        equivalent_cli=("python -m scalesim.scale -c %s.cfg -t topology.csv -l layout.csv -p out -i conv"
                        "  (CLI also dumps full SRAM/DRAM traces)" % cfg["name"]),
        compute_report_csv=comp_text,
        bandwidth_report_csv=bw_text,
        detailed_access_report_csv=det_text,
        wall_s=round(wall, 3),
        layers=recs,
    )


def _job(args):
    cfg, layers, workdir = args
    return run_scalesim(cfg, layers, workdir)


def env_info():
    return dict(tool="scalesim", version=pkg_version("scalesim"), numpy=pkg_version("numpy"),
                python=platform.python_version(), machine=platform.machine(),
                cpu_count=os.cpu_count(),
                install="python3 -m venv /tmp/scalesim-venv && /tmp/scalesim-venv/bin/pip install "
                        "\"numpy<2.4\" scalesim")


def _layers_doc(runs):
    doc = env_info()
    doc.update(
        command="cd tests/data/scalesim && /tmp/scalesim-venv/bin/python make_reference.py",
        conventions=dict(
            padding="none: SCALE-Sim takes the ifmap as given; ofmap = ceil((H - F + s)/s) "
                    "(= floor((H-F)/s)+1 only when s divides H-F). ifmap sizes here are pre-padded.",
            batch=1, word_size_bytes=1,
            compute_cycles="SCALE-Sim 'Total Cycles' - 'Stall Cycles' (the no-stall cycle count)",
            total_cycles="SCALE-Sim 'Total Cycles' column (compute incl. stalls)",
            total_cycles_incl_prefetch="SCALE-Sim 'Total Cycles (incl. prefetch)': first DRAM "
                                       "prefetch to last OFMAP DRAM write",
            wall_s="SCALE-Sim wall-clock seconds; 2 runs executed concurrently on a 2-core machine",
        ),
        runs=runs,
    )
    return doc


def _write_layers(runs):
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(_layers_doc(runs), f, indent=1)
    bad = [(r["config"]["name"], l["name"], l["formula_residual"]) for r in runs for l in r["layers"]
           if l["formula_residual"] != 0]
    print("reference.json: %d runs, %d layer records; formula mismatches: %s"
          % (len(runs), sum(len(r["layers"]) for r in runs), bad or "none"), flush=True)
    for r in runs:
        print("  %-26s wall %.1fs  stalls %s" % (r["config"]["name"], r["wall_s"],
                                                   sum(l["stall_cycles"] for l in r["layers"])), flush=True)


def _run_many(todo, jobs):
    order = sorted(range(len(todo)), key=lambda i: -EST_COST.get(todo[i][0]["name"], 1))  # slowest first
    with Pool(jobs, maxtasksperchild=1) as pool:
        res = pool.map(_job, [todo[i] for i in order], chunksize=1)
    runs = [None] * len(todo)
    for i, r in zip(order, res):
        runs[i] = r
    return runs


def make_layers(tmp, jobs):
    todo = [(cfg, LAYERS, os.path.join(tmp, cfg["name"])) for cfg in CONFIGS]
    runs = _run_many(todo, jobs)
    _write_layers(runs)
    return runs


def make_stall_layers(tmp, jobs, runs):
    sub = [l for l in LAYERS if l[0] in STALL_LAYERS]
    todo = [(cfg, sub, os.path.join(tmp, cfg["name"])) for cfg in STALL_CONFIGS]
    runs = list(runs) + _run_many(todo, jobs)
    _write_layers(runs)


EST_COST = {"ws_32x32_bigsram": 4, "os_64x64_bigsram": 3}

RESNET_CFG = dict(name="ws_128x128_bigsram", array_rows=128, array_cols=128, dataflow="ws",
                  ifmap_sram_kb=BIG_SRAM_KB, filter_sram_kb=BIG_SRAM_KB, ofmap_sram_kb=BIG_SRAM_KB,
                  bandwidth_words_per_cycle=BIG_BW)


def make_resnet18(tmp, jobs):
    todo = [(dict(RESNET_CFG), RESNET18_SHIPPED, os.path.join(tmp, "r18_shipped")),
            (dict(RESNET_CFG), RESNET18_PADDED, os.path.join(tmp, "r18_padded"))]
    with Pool(jobs, maxtasksperchild=1) as pool:
        runs = pool.map(_job, todo, chunksize=1)
    doc = env_info()
    doc.update(
        command="cd tests/data/scalesim && /tmp/scalesim-venv/bin/python make_reference.py --only resnet18",
        model="ResNet-18, batch 1, 224x224, 20 convs + FC (no pooling / BN / add: SCALE-Sim models "
              "only conv/GEMM layers)",
        timing_note=("wall_s = wall-clock seconds of one complete SCALE-Sim run (all layers, "
                     "no trace files written), single process; the two variants ran concurrently "
                     "in 2 processes on a %d-core machine" % os.cpu_count()),
        variants={},
    )
    for key, r in zip(("shipped_topology", "padded_topology"), runs):
        r["total_compute_cycles"] = sum(l["compute_cycles"] for l in r["layers"])
        r["total_cycles"] = sum(l["total_cycles"] for l in r["layers"])
        r["sum_layer_wall_s"] = round(sum(l["wall_s"] for l in r["layers"]), 3)
        doc["variants"][key] = r
    doc["variants"]["shipped_topology"]["description"] = (
        "dims of SCALE-Sim's GitHub topologies/sparsity/Resnet18.csv (unpadded ifmaps, e.g. "
        "Conv1 224x224 -> 110x110 under SCALE-Sim's ceil rule, 3x3 on 56x56 -> 54x54)")
    doc["variants"]["padded_topology"]["description"] = (
        "same layers with pre-padded ifmaps so every output size equals torchvision resnet18 "
        "(Conv1 229x229 -> 112x112, 3x3 on 58x58 -> 56x56, 3x3/s2 on 57x57 -> 28x28, 1x1/s2 on 55x55 -> 28x28)")
    doc["wall_s"] = doc["variants"]["shipped_topology"]["wall_s"]
    with open(os.path.join(HERE, "resnet18_128x128_ws.json"), "w") as f:
        json.dump(doc, f, indent=1)
    for k, r in doc["variants"].items():
        print("resnet18 %s: wall %.1fs, total compute cycles %d, formula mismatches %d"
              % (k, r["wall_s"], r["total_compute_cycles"],
                 sum(1 for l in r["layers"] if l["formula_residual"] != 0)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["layers", "resnet18", "stalls"], default=None,
                    help="stalls: re-run only the small-SRAM config and append it to reference.json")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="scalesim_ref_") as tmp:
        runs = None
        if args.only in (None, "layers"):
            runs = make_layers(tmp, args.jobs)
        if args.only in (None, "resnet18"):
            make_resnet18(tmp, args.jobs)
        if args.only in (None, "stalls"):
            if runs is None:
                with open(os.path.join(HERE, "reference.json")) as f:
                    runs = [r for r in json.load(f)["runs"]
                            if r["config"]["name"] not in {c["name"] for c in STALL_CONFIGS}]
            make_stall_layers(tmp, args.jobs, runs)


if __name__ == "__main__":
    sys.exit(main())
