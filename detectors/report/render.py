"""The report as a self-contained HTML page: text, charts (SVG) and evidence, no requests.

Every value is escaped; the page loads nothing (no fonts, scripts or images from elsewhere),
so it opens offline, prints to PDF the same, and a copied report leaks nothing it links to.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from html import escape
from typing import Any, Final

from detectors.report import charts
from detectors.report.document import Period, report_json
from detectors.report.numbers import KINDS, TIMES, totals
from detectors.report.source import Incident

STYLE: Final = """
body { font: 13px/1.4 sans-serif; color: #222; margin: 24px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; }
h3 { font-size: 14px; margin: 16px 0 4px; }
table { border-collapse: collapse; margin: 4px 0 12px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } .num { text-align: right; }
.drill { color: #555; } .real { color: #a93226; font-weight: bold; }
.incident { page-break-inside: avoid; border-top: 2px solid #999; margin-top: 16px; }
.evidence { max-width: 320px; float: right; margin: 0 0 8px 12px; border: 1px solid #999; }
.chart svg { max-width: 100%; height: auto; } .muted { color: #666; }
"""

TIME_WORDS: Final = {
    "first_page": "Time to first page",
    "decision": "Time to confirm or dismiss",
    "lockdown": "Time to doors locked",
}


def _seconds(value: object) -> str:
    if value is None:
        return "—"
    assert isinstance(value, int | float)
    minutes, seconds = divmod(round(float(value)), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def _share(value: object) -> str:
    return "—" if value is None else f"{float(str(value)) * 100:.0f} %"


def _counts_table(title: str, rows: dict[str, dict[str, int]]) -> str:
    body = "".join(
        f"<tr><td>{escape(name)}</td><td class=num>{row['real']}</td>"
        f"<td class=num>{row['drill']}</td></tr>"
        for name, row in rows.items()
    )
    return (
        f"<table><tr><th>{escape(title)}</th><th>real</th><th>drill</th></tr>{body}</table>"
        if rows
        else "<p class=muted>none</p>"
    )


def _incident(data: dict[str, Any], snapshot: bytes | None) -> str:
    kind = data["kind"]
    image = (
        f'<img class=evidence alt="evidence snapshot" '
        f'src="data:image/jpeg;base64,{base64.b64encode(snapshot).decode()}">'
        if snapshot is not None
        else "<p class=muted>no evidence snapshot kept</p>"
    )
    steps = "".join(
        f"<tr><td>{escape(m['words'])}</td><td class=num>+{_seconds(m['seconds'])}</td>"
        f"<td>{escape(m['by'])}</td><td>{escape(m['detail'])}</td></tr>"
        for m in data["timeline"]
    )
    model = data["model"]
    thresholds = ", ".join(
        f"{escape(str(k))}: {escape(json.dumps(v))}" for k, v in data["thresholds"].items()
    )
    return (
        f"<div class=incident><h3><span class={kind}>{kind.upper()}</span> "
        f"{escape(data['rule'])} at {escape(data['location'] or data['camera_name'])} — "
        f"{escape(data['started'])}</h3>{image}"
        f"<p>Camera {escape(data['camera_name'])}; outcome: <b>{escape(data['outcome'])}</b>; "
        f"highest confidence {data['confidence'] * 100:.0f} %.<br>"
        f"Model {escape(model['name'])} {escape(model['version'])} on {escape(model['device'])} "
        f"({escape(model['precision'])}); thresholds in force: {thresholds or 'none'}.</p>"
        f"<table><tr><th>step</th><th>after detection</th><th>by</th><th>detail</th></tr>"
        f"{steps}</table><div style='clear:both'></div></div>"
    )


def report_html(incidents: Sequence[Incident], period: Period) -> str:
    """The report page."""
    data = report_json(incidents, period)
    counted = totals(incidents, period.zone)
    sums = data["totals"]
    false_rows = "".join(
        f"<tr><td>{kind}</td><td class=num>{sums['false_alarms'][kind]['dismissed']}</td>"
        f"<td class=num>{sums['false_alarms'][kind]['total']}</td>"
        f"<td class=num>{_share(sums['false_alarms'][kind]['share'])}</td></tr>"
        for kind in KINDS
    )
    time_rows = "".join(
        f"<tr><td>{TIME_WORDS[name]}</td>"
        + "".join(
            f"<td class=num>{_seconds(sums['response_times'][name][kind]['median'])}</td>"
            f"<td class=num>{_seconds(sums['response_times'][name][kind]['p90'])}</td>"
            f"<td class=num>{sums['response_times'][name][kind]['count']}</td>"
            for kind in KINDS
        )
        + "</tr>"
        for name in TIMES
    )
    period_data = data["period"]
    scope = "".join(
        f"; {label}: {escape(', '.join(values))}"
        for label, values in (("cameras", period_data["cameras"]), ("rules", period_data["rules"]))
        if values
    )
    by_snapshot = {i.record.id: i.snapshot for i in incidents}
    with charts.DRAWING:
        drawn = [charts.response_times(counted), charts.by_hour(counted), charts.by_rule(counted)]
    pictures = "".join(f"<div class=chart>{svg}</div>" for svg in drawn)
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        "<title>school_guard after-action report</title>"
        f"<style>{STYLE}</style></head><body>"
        "<h1>After-action report</h1>"
        f"<p class=muted>{escape(period_data['from'])} to {escape(period_data['to'])} "
        f"({escape(period_data['timezone'])}){scope}. Generated {escape(data['generated'])} "
        f"by school_guard {escape(data['version'])}.</p>"
        f"<h2>Summary</h2><p><span class=real>{sums['incidents']['real']} real</span> and "
        f"<span class=drill>{sums['incidents']['drill']} drill</span> alerts. Drills and real "
        "incidents are counted apart throughout.</p>"
        "<h3>False alarms (dismissed ÷ all)</h3><table><tr><th></th><th>dismissed</th>"
        f"<th>all</th><th>share</th></tr>{false_rows}</table>"
        "<h3>Response times</h3><table><tr><th></th><th>real median</th><th>real 90th pct</th>"
        "<th>real n</th><th>drill median</th><th>drill 90th pct</th><th>drill n</th></tr>"
        f"{time_rows}</table>"
        f"{pictures}"
        f"<h3>By rule</h3>{_counts_table('rule', sums['by_rule'])}"
        f"<h3>By camera</h3>{_counts_table('camera', sums['by_camera'])}"
        f"<h3>Coverage</h3><p class=muted>{escape(data['coverage']['note'])}.</p>"
        "<h2>Incidents</h2>"
        + ("".join(_incident(i, by_snapshot[i["id"]]) for i in data["incidents"]) or "<p>none</p>")
        + "</body></html>"
    )
