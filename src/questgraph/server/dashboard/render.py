"""The HTML of the dashboard (issue 7): plain string templates, every value escaped with ``html.escape``
(as the SSO page, sso/templates.py; no template engine is a dependency of the server).

Accessibility: a skip link, one ``h1`` per page, ``header``/``nav``/``main`` landmarks, ``aria-current`` on
the active link, a label on every control, ``caption``s on tables, errors in ``role="alert"`` boxes, visible
focus rings and 4.5:1 contrast (dashboard.css). JavaScript only adds copy buttons.
"""

# ruff: noqa: E501 -- page markup: a line of HTML reads better whole than cut into fragments

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from questgraph.server.storage.records import App, Org


def e(value: object) -> str:
    return escape(str(value), quote=True)


def when(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    try:
        text = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return str(seconds)
    return f'<time datetime="{e(seconds)}">{e(text)}</time>'


def local_input(seconds: int | None) -> str:
    """A value for ``<input type="datetime-local">`` (UTC, as every time on the dashboard)."""
    if seconds is None:
        return ""
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M")
    except (OverflowError, OSError, ValueError):
        return ""


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="csrf_token" value="{e(token)}">'


def alert(message: str | None) -> str:
    return f'<div class="alert" role="alert">{e(message)}</div>' if message else ""


def copyable(element_id: str, value: str, label: str) -> str:
    """A value shown once (a new secret or token), with a copy button for JavaScript users."""
    return (f'<div class="secret"><code id="{e(element_id)}">{e(value)}</code>'
            f'<button type="button" class="secondary small" data-copy="{e(element_id)}" '
            f'aria-label="Copy {e(label)}">Copy</button></div>')


def table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str = "Nothing yet.") -> str:
    """Cells are HTML already escaped by the caller."""
    if not rows:
        return f'<p class="muted">{e(empty)}</p>'
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (f'<div class="table-wrap"><table><caption class="muted">{e(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def field(name: str, label: str, value: str = "", kind: str = "text", required: bool = False,
          extra: str = "") -> str:
    element_id = f"f-{name}"
    need = " required" if required else ""
    return (f'<div class="field"><label for="{element_id}">{e(label)}</label>'
            f'<input id="{element_id}" name="{e(name)}" type="{kind}" value="{e(value)}"{need}{extra}></div>')


def select(name: str, label: str, choices: Sequence[tuple[str, str]], selected: str = "") -> str:
    element_id = f"f-{name}"
    options = "".join(f'<option value="{e(v)}"{" selected" if v == selected else ""}>{e(t)}</option>'
                      for v, t in choices)
    return (f'<div class="field"><label for="{element_id}">{e(label)}</label>'
            f'<select id="{element_id}" name="{e(name)}">{options}</select></div>')


def layout(title: str, body: str, *, org: Org | None = None, apps: Sequence[App] = (), current: str = "",
           actor: str = "", role: str = "", csrf: str = "", emulator: bool = False) -> str:
    if org is None:
        chrome = f'<main id="main" class="login">{body}</main>'
    else:
        def link(href: str, text: str) -> str:
            here = ' aria-current="page"' if href == current else ""
            return f'<li><a href="{e(href)}"{here}>{e(text)}</a></li>'

        org_links = [link("/dashboard/org", "Organization"), link("/dashboard/sso", "SSO"),
                     link("/dashboard/audit", "Audit log")]
        if emulator and role == "admin":
            org_links.append(link("/dashboard/emulator", "Emulator"))
        app_sections = []
        for app in apps:
            base = f"/dashboard/apps/{app.id}"
            links = [link(base, "API"), link(f"{base}/users", "Users"), link(f"{base}/leaderboards", "Leaderboards"),
                     link(f"{base}/achievements", "Achievements"), link(f"{base}/iap", "IAP"),
                     link(f"{base}/inspector", "Request inspector")]
            app_sections.append(f"<h2>{e(app.name)}</h2><ul>{''.join(links)}</ul>")
        badge = f'<span class="badge role-{e(role)}">{e(role)}</span>'
        chrome = (
            f'<header class="top"><a class="brand" href="/dashboard/org"><span class="logo" aria-hidden="true">'
            f'</span>questgraph</a><span>{e(org.name)}</span>'
            f'{"<span class=badge>emulator</span>" if emulator else ""}'
            f'<div class="who"><span>{e(actor)}</span>{badge}'
            f'<form method="post" action="/dashboard/logout" class="inline">{csrf_field(csrf)}'
            '<button type="submit" class="secondary small">Sign out</button></form></div></header>'
            f'<div class="shell"><nav class="side" aria-label="Dashboard"><h2>{e(org.name)}</h2>'
            f'<ul>{"".join(org_links)}</ul>{"".join(app_sections)}</nav>'
            f'<main id="main">{body}</main></div>'
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} · questgraph dashboard</title>"
        '<link rel="stylesheet" href="/dashboard/static/dashboard.css">'
        '<script src="/dashboard/static/dashboard.js" defer></script></head>'
        f'<body><a class="skip" href="#main">Skip to content</a>{chrome}</body></html>'
    )


def histogram_svg(scores: Sequence[int], bins: int = 20, sampled: bool = False) -> str:
    """The score distribution as inline SVG: ``bins`` bars, each with a ``title`` (a tooltip, and what a
    screen reader reads), and a text summary as the image's label."""
    if not scores:
        return '<p class="muted">No entries yet: nothing to chart.</p>'
    low, high = min(scores), max(scores)
    span = max(high - low, 1)
    count = bins if high > low else 1
    counts = [0] * count
    for score in scores:
        counts[min((score - low) * count // span, count - 1) if high > low else 0] += 1
    width, height, pad = 640, 220, 32
    bar = (width - 2 * pad) / count
    peak = max(counts)
    parts = []
    for i, n in enumerate(counts):
        h = 0 if peak == 0 else (height - 2 * pad) * n / peak
        start = low + span * i // count
        stop = low + span * (i + 1) // count if high > low else high
        x, y = pad + i * bar, height - pad - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar - 2, 1):.1f}" height="{h:.1f}" fill="#0b57d0">'
                     f"<title>{e(f'{start} to {stop}: {n} entries')}</title></rect>")
    label = (f"Score distribution of {len(scores)} entries{' (a sample)' if sampled else ''}: "
             f"lowest {low}, highest {high}, most entries in one band {peak}")
    axis = (f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#4b5b66"/>'
            f'<text x="{pad}" y="{height - 10}" font-size="12" fill="#1c2b33">{e(low)}</text>'
            f'<text x="{width - pad}" y="{height - 10}" font-size="12" fill="#1c2b33" text-anchor="end">{e(high)}</text>'
            f'<text x="{pad}" y="{pad - 10}" font-size="12" fill="#1c2b33">{e(peak)} entries</text>')
    return (f'<figure class="chart"><svg viewBox="0 0 {width} {height}" role="img" aria-label="{e(label)}" '
            f'xmlns="http://www.w3.org/2000/svg">{axis}{"".join(parts)}</svg>'
            f"<figcaption class=\"hint\">{e(label)}.</figcaption></figure>")
