"""The bench's report: ``report.json``, ``junit.xml`` and ``report.html`` in REPORT_DIR.

* ``report.json``: ``format``, ``passed``, ``checks`` (name, passed (null =
  skipped), summary, details, seconds) and ``figures`` (boards, link,
  metrics, latency, stream, energy, throughput, size report) as the bench
  collected them;
* ``junit.xml``: one ``<testcase>`` per check in a ``myoedge-hil``
  testsuite (failures and skips as JUnit marks them), for CI dashboards;
* ``report.html``: one page with the verdicts, the figures, the device's
  confusion matrix and the latency histogram as embedded PNG images (the PNG
  files are also written beside it).
"""

from __future__ import annotations

import base64
import html
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from myoedge.training.run import json_value

from .checks import CheckResult

FORMAT = "myoedge-hil-report/1"
JSON_FILE = "report.json"
JUNIT_FILE = "junit.xml"
HTML_FILE = "report.html"
CONFUSION_PNG = "confusion_device.png"
LATENCY_PNG = "latency_histogram.png"


@dataclass
class Report:
    """What a bench run found; ``passed`` is the run's verdict."""

    checks: list[CheckResult]
    figures: dict[str, Any] = field(default_factory=dict)
    out: Path | None = None
    images: dict[str, Path] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """No check failed (skipped checks do not fail a run) and at least one passed."""
        return any(c.passed for c in self.checks) and not any(c.passed is False for c in self.checks)

    def check(self, name: str) -> CheckResult:
        """The check called ``name``."""
        for item in self.checks:
            if item.name == name:
                return item
        raise KeyError(f"no check {name!r} in the report")

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "passed": self.passed,
                "checks": [c.to_dict() for c in self.checks], "figures": self.figures,
                "images": {k: p.name for k, p in self.images.items()}}


def write_json(report: Report, out: Path) -> Path:
    path = Path(out) / JSON_FILE
    path.write_text(json.dumps(report.to_dict(), indent=2, default=json_value) + "\n")
    return path


def write_junit(report: Report, out: Path) -> Path:
    """One testcase per check; failures carry the summary, skips their reason."""
    failures = sum(c.passed is False for c in report.checks)
    skips = sum(c.passed is None for c in report.checks)
    suite = ET.Element("testsuite", name="myoedge-hil", tests=str(len(report.checks)),
                       failures=str(failures), errors="0", skipped=str(skips),
                       time=f"{sum(c.seconds for c in report.checks):.3f}")
    for item in report.checks:
        case = ET.SubElement(suite, "testcase", classname="myoedge.hil", name=item.name,
                             time=f"{item.seconds:.3f}")
        if item.passed is False:
            ET.SubElement(case, "failure", message=item.summary).text = item.summary
        elif item.passed is None:
            ET.SubElement(case, "skipped", message=item.summary)
        else:
            ET.SubElement(case, "system-out").text = item.summary
    suites = ET.Element("testsuites")
    suites.append(suite)
    path = Path(out) / JUNIT_FILE
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    return path


def write_images(report: Report, out: Path, confusion: np.ndarray | None, label_names: list[str],
                 latency_stages: dict[str, np.ndarray], unit: str, title: str) -> None:
    """The confusion-matrix and latency-histogram PNGs (kept beside the HTML)."""
    from myoedge.training.metrics import plot_confusion_matrix

    from .latency import plot_latency_histogram

    if confusion is not None:
        report.images["confusion"] = plot_confusion_matrix(
            confusion, label_names, Path(out) / CONFUSION_PNG, title=f"device, {title}")
    if any(len(v) for v in latency_stages.values()):
        report.images["latency"] = plot_latency_histogram(
            latency_stages, unit, Path(out) / LATENCY_PNG, title=f"latency per stage, {title}")


def _embedded(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


_VERDICT = {True: ("pass", "PASS"), False: ("fail", "FAIL"), None: ("skip", "SKIPPED")}


def _metrics_table(report: Report) -> list[str]:
    """Device and host figures side by side (from the accuracy check)."""
    try:
        details = report.check("accuracy").details
    except KeyError:
        return []
    if not details or "device" not in details:
        return []
    rows = ["<h2>Predictions against labels</h2><table><tr><th></th><th>device</th><th>host "
            "(TFLM int8)</th></tr>"]
    for key, label in (("accuracy", "accuracy"), ("balanced_accuracy", "balanced accuracy"),
                       ("mcc", "MCC")):
        rows.append(f"<tr><td>{label}</td><td>{details['device'][key]:.4f}</td>"
                    f"<td>{details['host'][key]:.4f}</td></tr>")
    rows.append(f"<tr><td>windows</td><td colspan=2>{details['windows']} (agreement "
                f"{details['agreement']:.4f})</td></tr></table>")
    return rows


def write_html(report: Report, out: Path, title: str) -> Path:
    """One self-contained page: verdicts, key figures, images embedded as data URLs."""
    esc = html.escape
    rows = []
    for item in report.checks:
        css, word = _VERDICT[item.passed]
        rows.append(f'<tr class="{css}"><td>{esc(item.name)}</td><td>{word}</td>'
                    f"<td>{esc(item.summary)}</td></tr>")
    verdict = "PASSED" if report.passed else "FAILED"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title><style>",
        "body{font-family:sans-serif;margin:2em;max-width:70em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
        "vertical-align:top;text-align:left}tr.pass td:nth-child(2){color:#060}"
        "tr.fail td:nth-child(2){color:#b00;font-weight:bold}tr.skip td:nth-child(2){color:#777}"
        "pre{background:#f6f6f6;padding:1em;overflow:auto}img{max-width:100%}",
        "</style></head><body>",
        f"<h1>{esc(title)}: {verdict}</h1>",
        "<table><tr><th>check</th><th>verdict</th><th>summary</th></tr>",
        *rows, "</table>",
    ]
    parts.extend(_metrics_table(report))
    latency = report.figures.get("latency", {}).get("stages", [])
    if latency:
        parts.append("<h2>Latency</h2><table><tr><th>stage</th><th>unit</th><th>runs</th>"
                     "<th>min</th><th>median</th><th>p95</th><th>max</th><th>median (us)</th></tr>")
        for row in latency:
            parts.append(f"<tr><td>{esc(row['stage'])}</td><td>{esc(row['unit'])}</td>"
                         f"<td>{row['count']}</td><td>{row['min']}</td><td>{row['median']}</td>"
                         f"<td>{row['p95']}</td><td>{row['max']}</td><td>{row['us']['median']}</td></tr>")
        parts.append("</table>")
    for key, heading in (("confusion", "Confusion matrix (device)"), ("latency", "Latency histogram")):
        if key in report.images:
            parts.append(f"<h2>{heading}</h2>{_embedded(report.images[key], heading)}")
    parts.append("<h2>All figures</h2><pre>"
                 + esc(json.dumps(report.figures, indent=2, default=json_value)) + "</pre>")
    parts.append("</body></html>")
    path = Path(out) / HTML_FILE
    path.write_text("\n".join(parts))
    return path


def write_report(report: Report, out: Path, *, confusion: np.ndarray | None = None,
                 label_names: list[str] | None = None,
                 latency_stages: dict[str, np.ndarray] | None = None, unit: str = "cycles",
                 title: str = "myoedge HIL bench") -> Report:
    """Write every report file into ``out`` (created if needed); returns ``report``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report.out = out
    try:
        write_images(report, out, confusion, label_names or [], latency_stages or {}, unit, title)
    except Exception as err:  # noqa: BLE001 - a plot must never cost the numbers
        report.figures["image_error"] = f"{type(err).__name__}: {err}"
    write_json(report, out)
    write_junit(report, out)
    write_html(report, out, title)
    return report
