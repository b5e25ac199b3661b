"""The scale study's figures (like SIMA's figures 9 and 10), drawn from study.json.

Each figure puts the number of charge points on a log x axis; a step that broke its
service levels is drawn with a cross.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

COMPONENTS = ("gateway", "worker", "api", "kafka", "cassandra", "simulator")
LABELS = {"worker": "Faust worker(s)", "simulator": "load generator", "api": "API"}
FILES = {
    "throughput": "study-throughput.png",
    "latency": "study-latency.png",
    "cpu": "study-cpu.png",
    "memory": "study-memory.png",
}


def measured(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of runs that got as far as measuring (not those that failed to start)."""
    return [row for row in rows if "error" not in row]


def render(report: dict[str, Any], directory: Path) -> list[Path]:
    """Write the four PNG figures into ``directory``; their paths."""
    rows = sorted(measured(report["steps"]), key=lambda row: row["stations"])
    cores = report["machine"]["nproc"]
    levels = report["service_levels"]
    draw = {
        "throughput": lambda ax: _throughput(ax, rows, measured(report.get("scale_out", []))),
        "latency": lambda ax: _latency(ax, rows, levels),
        "cpu": lambda ax: _cpu(ax, rows, cores, report["cpu_target"]),
        "memory": lambda ax: _memory(ax, rows),
    }
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, plot in draw.items():
        figure, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
        if rows:
            plot(ax)
        ax.set_xscale("log")
        ax.set_xlabel("simulated charge points")
        ax.grid(True, which="both", alpha=0.3)
        figure.tight_layout()
        path = directory / FILES[name]
        figure.savefig(path)
        plt.close(figure)
        paths.append(path)
    return paths


def _stations(rows: list[dict[str, Any]]) -> list[int]:
    return [row["stations"] for row in rows]


def _mark_failures(ax: Axes, rows: list[dict[str, Any]], values: list[float | None]) -> None:
    failed = [
        (row["stations"], value)
        for row, value in zip(rows, values, strict=True)
        if not row["verdict"]["holds"] and value is not None
    ]
    if failed:
        xs, ys = zip(*failed, strict=True)
        ax.scatter(xs, ys, marker="x", s=90, color="red", zorder=5, label="service levels broken")


def _throughput(ax: Axes, rows: list[dict[str, Any]], scale_out: list[dict[str, Any]]) -> None:
    frames = [row["rates"]["frames_in_per_s"] for row in rows]
    ax.plot(_stations(rows), frames, "o-", label="frames in/s (gateway)")
    ax.plot(
        _stations(rows),
        [row["rates"]["log_events_per_s"] for row in rows],
        "s--",
        label="log events/s (Kafka)",
    )
    for row in scale_out:
        if row["gateways"] > 1 or row["workers"] > 1:
            ax.scatter(
                [row["stations"]],
                [row["rates"]["frames_in_per_s"]],
                marker="D",
                facecolors="none",
                edgecolors="black",
                s=70,
                zorder=5,
                label=f"{row['gateways']} gateways / {row['workers']} workers",
            )
    _mark_failures(ax, rows, frames)
    ax.set_yscale("log")
    ax.set_ylabel("per second, during the hold")
    ax.set_title("Throughput")
    ax.legend()


def _latency(ax: Axes, rows: list[dict[str, Any]], levels: dict[str, Any]) -> None:
    x = _stations(rows)
    call = [row["call_latency_ms"] for row in rows]
    store = [store_delay(row) for row in rows]
    ax.plot(x, [c["p50"] for c in call], "o-", color="tab:blue", label="CALL→CALLRESULT p50")
    ax.plot(x, [c["p99"] for c in call], "o--", color="tab:blue", label="CALL→CALLRESULT p99")
    ax.plot(x, [s["p50"] for s in store], "s-", color="tab:orange", label="receive→Cassandra p50")
    ax.plot(x, [s["p99"] for s in store], "s--", color="tab:orange", label="receive→Cassandra p99")
    ax.axhline(levels["call_p99_ms"], color="tab:blue", linestyle=":", linewidth=1)
    ax.axhline(levels["store_p99_ms"], color="tab:orange", linestyle=":", linewidth=1)
    _mark_failures(ax, rows, [c["p99"] for c in call])
    ax.set_yscale("log")
    ax.set_ylabel("ms (dotted: p99 service levels)")
    ax.set_title("Latency")
    ax.legend(fontsize="small")


def store_delay(row: dict[str, Any]) -> dict[str, float | None]:
    if row["reconciliation"] is None:
        return {"p50": None, "p99": None}
    return row["reconciliation"]["store"]["meter_delay_ms"]


def _cpu(ax: Axes, rows: list[dict[str, Any]], cores: int, target: dict[str, Any]) -> None:
    """Stacked CPU per component in % of the whole machine, like SIMA's figure 9."""
    shares = [[row["components"][name]["cpu_pct"] / cores for row in rows] for name in COMPONENTS]
    ax.stackplot(
        _stations(rows), shares, labels=[LABELS.get(name, name) for name in COMPONENTS], alpha=0.8
    )
    ax.plot(
        _stations(rows),
        [row["components"]["machine"]["cpu_pct"] / cores for row in rows],
        "k.--",
        label="whole machine (all processes)",
    )
    ax.axhline(target["max_pct_of_machine"], color="red", linestyle=":", linewidth=1)
    ax.annotate(
        f"target at {target['stations']}: stack < {target['max_pct_of_machine']:.0f} %",
        (rows[0]["stations"], target["max_pct_of_machine"]),
        textcoords="offset points",
        xytext=(2, 3),
        fontsize="small",
        color="red",
    )
    ax.set_ylim(0, 100)
    ax.set_ylabel(f"CPU, % of the machine ({cores} cores)")
    ax.set_title("CPU per component (average over the hold)")
    ax.legend(fontsize="small", loc="upper left")


def _memory(ax: Axes, rows: list[dict[str, Any]]) -> None:
    """Peak RSS per component, like SIMA's figure 10 (which gives the machine's memory)."""
    for name in COMPONENTS:
        ax.plot(
            _stations(rows),
            [row["components"][name]["rss_mb"] for row in rows],
            "o-",
            label=LABELS.get(name, name),
        )
    ax.set_yscale("log")
    ax.set_ylabel("resident memory, MB (peak in the hold)")
    ax.set_title("Memory per component")
    ax.legend(fontsize="small")
