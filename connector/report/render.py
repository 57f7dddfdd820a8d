"""How the reports are shown: aligned text tables, one CSV per table, and a self-contained HTML page with
inline SVG bar charts. The machine has no internet, so neither does the page: no script, no CDN, no web
font; every text is escaped.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["Table", "iso", "text_table", "header_lines", "write_csv", "svg_bars", "html_page"]

#: (name, title, headers, rows): the name names the CSV file, the title heads the table
Table = tuple[str, str, list[str], list[list[Any]]]


def iso(ms: int | None) -> str | None:
    """An epoch-ms time as the reports print it (ISO 8601, UTC, to the second); None stays None."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds") if ms is not None else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}" if isinstance(value, float) else str(value)


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns aligned: text left, numbers right."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    numeric = [bool(cells) and all(isinstance(row[i], int | float) or _cell(row[i]).endswith("%")
                                   or _cell(row[i]) == "-" for row in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w)
                         for v, w, n in zip(values, widths, numeric, strict=True)).rstrip()

    return "\n".join([line(list(headers)), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def header_lines(report: Mapping[str, Any]) -> list[str]:
    """What every report states: its period (and the SLA settings, for the SLA report), the scoring model
    version(s) and the data's freshness."""
    models = ", ".join(f"version {m['version']} ({m['hash']})" for m in report["models"]) or "none recorded"
    lines = [f"period: {report['period']['since']} to {report['period']['until']}"]
    sla = report.get("sla")
    if sla:  # the SLA report also states the clock it judged by
        teams = "".join(f"; team {t['team']} in {t['time_zone']}" for t in sla["teams"])
        lines.append(f"SLA: first sales touch within {sla['hours']:g} working hours (due soon with "
                     f"{sla['due_soon_hours']:g} left), time zone {sla['time_zone']}{teams}")
    return [*lines, f"scoring model: {models}", f"data as of: {report['data_as_of'] or 'no finished sync run'}"]


def write_csv(directory: Path, tables: Sequence[Table]) -> list[str]:
    """One CSV file per table in `directory` (made if missing); the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, _, headers, rows in tables:
        path = directory / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(headers)
            writer.writerows([[_cell(v) if not isinstance(v, int | float) else v for v in row] for row in rows])
        out.append(str(path))
    return out


def svg_bars(title: str, bars: Sequence[tuple[str, float]], *, percent: bool = False) -> str:
    """A horizontal bar chart: one labelled bar per (label, value), scaled to the largest value."""
    e = html.escape
    height, label_w, bar_w = 24, 180, 380
    top = max((v for _, v in bars), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{label_w + bar_w + 90}" '
             f'height="{height * len(bars) + 30}" aria-label="{e(title)}">',
             f'<text x="0" y="16" font-size="14" font-weight="bold">{e(title)}</text>']
    for i, (label, value) in enumerate(bars):
        y = 26 + i * height
        w = max(1.0, bar_w * value / top) if value else 0.0
        shown = f"{value * 100:.1f}%" if percent else f"{value:,.0f}"
        parts += [f'<text x="{label_w - 6}" y="{y + 15}" font-size="12" text-anchor="end">{e(label[:28])}</text>',
                  f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{height - 6}" fill="#3b6ea8">'
                  f'<title>{e(label)}: {e(shown)}</title></rect>',
                  f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12">{e(shown)}</text>']
    parts.append("</svg>")
    return "".join(parts)


def html_page(title: str, report: Mapping[str, Any], charts: Sequence[str], tables: Sequence[Table]) -> str:
    """The whole page: header lines, the charts, then every table."""
    e = html.escape
    body = [f"<h1>{e(title)}</h1>", *(f"<p>{e(line)}</p>" for line in header_lines(report)),
            '<div class="charts">', *charts, "</div>"]
    for _, table_title, headers, rows in tables:
        body.append(f"<h2>{e(table_title)}</h2><table><thead><tr>"
                    + "".join(f"<th>{e(h)}</th>" for h in headers) + "</tr></thead><tbody>")
        body += ["<tr>" + "".join(f"<td>{e(_cell(v))}</td>" for v in row) + "</tr>" for row in rows]
        body.append("</tbody></table>")
    style = ("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:1.5em}"
             "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#eef}"
             "svg{display:block;margin:1em 0}")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
            f"<style>{style}</style></head><body>" + "\n".join(body) + "</body></html>\n")
