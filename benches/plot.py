#!/usr/bin/env python3
"""Plots of a redcore-bench results directory (PNG files written beside the CSVs).

    python3 benches/plot.py benches/results/<date>

* latency_curves_<n>.png: latency by percentile, redis vs redcore, one panel
  per redcore-load workload (x axis: 1/(1-p), the usual HDR histogram view).
* throughput_ratio.png: redcore/Redis throughput per row.
* scaling.png: redcore throughput vs --cores (Redis single thread as a line),
  with the share of forwarded requests.
* memory.png: bytes per key by type.

Needs matplotlib (pip install matplotlib).
"""

import csv
import math
import os
import sys
from collections import OrderedDict, defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"redis": "#c0392b", "redcore": "#2471a3"}


def read(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def latency_curves(out):
    rows = read(os.path.join(out, "latency_curves.csv"))
    if not rows:
        return []
    curves = OrderedDict()
    for r in rows:
        p, v = num(r["percentile"]), num(r["latency_us"])
        if p is None or v is None or p <= 0 or p >= 100:
            continue
        curves.setdefault(r["workload"], defaultdict(list))[r["server"]].append((p, v))
    labels = list(curves)
    files = []
    per_page = 16
    ticks = [50, 90, 99, 99.9, 99.99, 99.999]
    for page in range(0, len(labels), per_page):
        chunk = labels[page : page + per_page]
        cols = 4
        nrows = math.ceil(len(chunk) / cols)
        fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.0 * nrows), squeeze=False)
        for ax, label in zip(axes.flat, chunk):
            for server, pts in sorted(curves[label].items()):
                pts.sort()
                xs = [1.0 / (1.0 - p / 100.0) for p, _ in pts]
                ys = [max(v, 0.1) for _, v in pts]
                ax.plot(xs, ys, marker=".", label=server, color=COLORS.get(server))
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xticks([1.0 / (1.0 - t / 100.0) for t in ticks])
            ax.set_xticklabels([f"{t:g}%" for t in ticks], fontsize=7)
            ax.set_title(label, fontsize=8)
            ax.set_ylabel("latency µs", fontsize=8)
            ax.grid(True, which="major", alpha=0.3)
            ax.legend(fontsize=7)
        for ax in list(axes.flat)[len(chunk) :]:
            ax.axis("off")
        fig.suptitle("Latency by percentile (redcore-load, intended-time latency)")
        fig.tight_layout()
        name = f"latency_curves_{page // per_page + 1}.png"
        fig.savefig(os.path.join(out, name), dpi=90)
        plt.close(fig)
        files.append(name)
    return files


def throughput_ratio(out):
    rows = read(os.path.join(out, "throughput.csv"))
    pts = []
    for r in rows:
        ratio = num(r["ratio"])
        label = f"{r['workload']} {r['value_bytes']}B c{r['clients']} P{r['pipeline']}"
        if r["mode"] != "closed":
            label += " " + r["mode"]
        label += f" [{'rb' if r['tool'] == 'redis-benchmark' else 'load'}]"
        pts.append((label, ratio))
    if not pts:
        return []
    fig, ax = plt.subplots(figsize=(9, 0.24 * len(pts) + 1.5))
    ys = range(len(pts))
    vals = [p[1] if p[1] is not None else 0 for p in pts]
    colors = ["#7f8c8d" if p[1] is None else ("#27ae60" if p[1] >= 1 else "#e67e22") for p in pts]
    ax.barh(list(ys), vals, color=colors)
    for y, (label, ratio) in zip(ys, pts):
        if ratio is None:
            ax.text(0.02, y, "n/a", va="center", fontsize=7)
    ax.set_yticks(list(ys))
    ax.set_yticklabels([p[0] for p in pts], fontsize=7)
    ax.invert_yaxis()
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("throughput ratio redcore / Redis")
    ax.set_title("Throughput redcore / Redis per row\n[load] redcore-load, [rb] redis-benchmark; grey: n/a", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "throughput_ratio.png"), dpi=90)
    plt.close(fig)
    return ["throughput_ratio.png"]


def scaling(out):
    rows = read(os.path.join(out, "scaling.csv"))
    if not rows:
        return []
    fig, ax = plt.subplots(figsize=(7, 5.2))
    ax2 = ax.twinx()
    by_p = defaultdict(list)
    redis = {}
    for r in rows:
        ops = num(r["ops"])
        if ops is None:
            continue
        if r["server"] == "redis":
            redis[r["pipeline"]] = ops
        else:
            by_p[r["pipeline"]].append((int(r["cores"]), ops, num(r["forwarded_share"]), r["shares_cpu_with_load"] == "true"))
    markers = ["o", "s", "^", "D"]
    max_cores = 1
    for i, (p, pts) in enumerate(sorted(by_p.items(), key=lambda kv: int(kv[0]))):
        pts.sort()
        max_cores = max(max_cores, pts[-1][0])
        xs = [c for c, _, _, _ in pts]
        ax.plot(xs, [o for _, o, _, _ in pts], marker=markers[i % 4], label=f"redcore P{p}", color=f"C{i}")
        for c, o, _, shared in pts:
            if shared:
                ax.plot([c], [o], marker="o", markersize=14, markerfacecolor="none", color="gray")
        fr = [(c, f * 100) for c, _, f, _ in pts if f is not None]
        if fr:
            ax2.plot([c for c, _ in fr], [f for _, f in fr], linestyle=":", marker="x", color=f"C{i}", alpha=0.6, label=f"forwarded % P{p}")
        if p in redis:
            ax.axhline(redis[p], linestyle="--", color=f"C{i}", alpha=0.6, label=f"Redis P{p} (1 thread)")
    ax.set_xlabel("redcore --cores")
    ax.set_xticks(range(1, max_cores + 1))
    ax.set_ylabel("ops/s (GET:SET 10:1, 32 B, 50 clients)")
    ax2.set_ylabel("requests forwarded across cores, %")
    ax2.set_ylim(0, 100)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    fig.legend(h1 + h2, l1 + l2, fontsize=7, loc="lower center", ncol=3)
    ax.set_title("Throughput vs cores (circled: server shares a CPU with the load generator)", fontsize=9)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.savefig(os.path.join(out, "scaling.png"), dpi=90)
    plt.close(fig)
    return ["scaling.png"]


def memory(out):
    rows = read(os.path.join(out, "memory.csv"))
    if not rows:
        return []
    types = list(OrderedDict.fromkeys(r["type"] for r in rows))
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.2
    series = [("redis", "bytes_per_key_used", "used_memory"), ("redcore", "bytes_per_key_used", "used_memory"),
              ("redis", "bytes_per_key_rss", "RSS"), ("redcore", "bytes_per_key_rss", "RSS")]
    for i, (server, col, what) in enumerate(series):
        vals = []
        for t in types:
            v = next((num(r[col]) for r in rows if r["type"] == t and r["server"] == server), None)
            vals.append(v)
        xs = [j + (i - 1.5) * width for j in range(len(types))]
        ax.bar(xs, [v or 0 for v in vals], width, label=f"{server} ({what})", color=COLORS[server],
               alpha=1.0 if what == "used_memory" else 0.45)
        for x, v in zip(xs, vals):
            ax.text(x, (v or 0) + 1, "n/a" if v is None else f"{v:.0f}", ha="center", fontsize=7)
    ax.set_xticks(range(len(types)))
    ax.set_xticklabels(types)
    ax.set_ylabel("bytes per key")
    ax.set_title("Memory per key", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "memory.png"), dpi=90)
    plt.close(fig)
    return ["memory.png"]


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    out = sys.argv[1]
    made = latency_curves(out) + throughput_ratio(out) + scaling(out) + memory(out)
    for f in made:
        print(os.path.join(out, f))


if __name__ == "__main__":
    main()
