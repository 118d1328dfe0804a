"""The report's charts, drawn by matplotlib (Agg, no display) as SVG text for the HTML.

Charts where a reader would rather look than read: incidents by hour of the day, by rule,
and the response times, each with drills and real incidents as separate series (never one
bar for both). SVG keeps the PDF sharp; matplotlib's own fonts are used, so nothing is
fetched and the output is the same on every machine.
"""

from __future__ import annotations

import io
import threading
from typing import Final

import matplotlib
from matplotlib import pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from detectors.report.numbers import KINDS, TIMES, Kind, Totals

matplotlib.use("Agg")  # before the first figure: no display, no GUI toolkit

COLOURS: Final[dict[Kind, str]] = {"real": "#c0392b", "drill": "#7f8c8d"}
TIME_WORDS: Final = {
    "first_page": "to first page",
    "decision": "to confirm / dismiss",
    "lockdown": "to doors locked",
}

DRAWING: Final = threading.Lock()
"""pyplot's figure registry is process-wide: the engine draws one report at a time."""

plt.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, smaller
plt.rcParams["svg.hashsalt"] = "school-guard"  # the same report draws the same SVG


def _svg(figure: Figure) -> str:
    out = io.StringIO()
    figure.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = out.getvalue()
    return text[text.index("<svg") :]


def _grouped_bars(labels: list[str], series: dict[Kind, list[float]], title: str, unit: str) -> str:
    figure, axes = plt.subplots(figsize=(7.5, 2.8))
    width = 0.4
    for offset, kind in enumerate(KINDS):
        positions = [i + (offset - 0.5) * width for i in range(len(labels))]
        axes.bar(positions, series[kind], width, label=kind, color=COLOURS[kind])
    axes.set_xticks(range(len(labels)), labels)
    axes.set_title(title, fontsize=10)
    axes.set_ylabel(unit)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # incidents come whole
    axes.legend(frameon=False, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def by_hour(totals: Totals) -> str:
    """Incidents per hour of the day, real and drill side by side."""
    hours = sorted(totals.by_hour)
    return _grouped_bars(
        [f"{h:02d}" for h in hours],
        {k: [float(totals.by_hour[h][k]) for h in hours] for k in KINDS},
        "Incidents by hour of the day",
        "incidents",
    )


def by_rule(totals: Totals) -> str:
    """Incidents per rule, real and drill side by side."""
    rules = list(totals.by_rule)
    return _grouped_bars(
        rules,
        {k: [float(totals.by_rule[r][k]) for r in rules] for k in KINDS},
        "Incidents by rule",
        "incidents",
    )


def response_times(totals: Totals) -> str:
    """Median response times (the 90th percentile as the whisker), real and drill apart."""
    figure, axes = plt.subplots(figsize=(7.5, 2.8))
    width = 0.4
    for offset, kind in enumerate(KINDS):
        spreads = [totals.times[name][kind] for name in TIMES]
        positions = [i + (offset - 0.5) * width for i in range(len(TIMES))]
        medians = [s.median or 0.0 for s in spreads]
        above = [(s.p90 or 0.0) - (s.median or 0.0) for s in spreads]
        axes.bar(
            positions,
            medians,
            width,
            yerr=[[0.0] * len(TIMES), above],
            capsize=4,
            label=f"{kind} (median, whisker: 90th percentile)",
            color=COLOURS[kind],
        )
    axes.set_xticks(range(len(TIMES)), [TIME_WORDS[name] for name in TIMES])
    axes.set_title("Response times", fontsize=10)
    axes.set_ylabel("seconds")
    axes.legend(frameon=False, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)
