"""The comparison report as one self-contained HTML file: styles and charts inline, no network, no face images.

It is meant to be shared widely, so it never shows a face: no thumbnail of
any image at all, only URLs, counts, rules and provisions. Charts are drawn
with matplotlib as inline SVG (text drawn as paths: no font is fetched).
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping
from typing import Any

EXPLANATION = """\
<p>This report shows the same set of small test websites crawled twice for images. The first crawl follows the
law and every signal websites use to say what may be taken: <code>robots.txt</code> (a file where a site says
which robots may visit which pages), &ldquo;no AI&rdquo; and &ldquo;text and data mining reserved&rdquo; marks,
licences, image metadata, and the privacy law of the country where the site is. Where a photo shows a face, the
lawful crawl keeps it only where the law allows that without the person's consent, and it never builds a face
database without consent.</p>
<p>The second crawl does what Clearview AI did: it ignores every signal and every law, keeps every photo, and turns
every face into a biometric template kept forever. It ran only against these local test sites. For everything it
took that the lawful crawl refused, the report names the legal provision that taking breaches.</p>
<p>The charts below show where the two differ.</p>
"""

RIGHTS_EXPLANATION = """\
<p>Then a person whose photos are on these sites asked each crawler's store what it holds about him and to delete
it and never collect him again, with a photo of him that no site carries. The table says how each answered: the law
gives him a full copy of everything held, at any age and as often as he asks, and erasure everywhere; Clearview
limited access to twice a year and to the last 12 months, and did not delete. The lawful numbers above are counted
after his deletion: his records there are tombstones, counted as &ldquo;deleted at the person's request&rdquo;.</p>
"""

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;
color:#1b1b1b;line-height:1.45}h1{font-size:1.7rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.8rem 0;font-size:.92rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;
text-align:left;vertical-align:top}th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
.lawful{color:#1a5e20}.unlawful{color:#8b1a1a}.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(30rem,1fr));
gap:1rem}figure{margin:0;min-width:0}figure svg{display:block;width:100%;height:auto}
figcaption{font-size:.9rem;color:#444}code{background:#f4f4f4;padding:0 .2rem}
.url{word-break:break-all;font-size:.85rem}.ok{color:#1a5e20;font-weight:600}.bad{color:#8b1a1a;font-weight:600}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _short(label: str, most: int = 34) -> str:
    """A chart label short enough to leave room for the bars."""
    return label if len(label) <= most else label[:most - 1].rstrip() + "\u2026"


def _bar_chart(title: str, series: Mapping[str, Mapping[str, int]], horizontal: bool = False) -> str:
    """A grouped bar chart of ``series`` (name -> category -> count), as inline SVG."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "path"
    import matplotlib.pyplot as plt

    categories = sorted({c for counts in series.values() for c in counts}, key=lambda c: -sum(
        counts.get(c, 0) for counts in series.values()))[:15]
    figure, axes = plt.subplots(figsize=(7.5, max(2.8, 0.32 * len(categories) + 1.2) if horizontal else 3.6))
    width = 0.8 / max(1, len(series))
    colours = {"lawful": "#2e7d32", "unlawful": "#b71c1c"}
    for index, (name, counts) in enumerate(series.items()):
        positions = [i + index * width for i in range(len(categories))]
        values = [counts.get(c, 0) for c in categories]
        if horizontal:
            axes.barh(positions, values, height=width, label=name, color=colours.get(name, "#455a64"))
        else:
            axes.bar(positions, values, width=width, label=name, color=colours.get(name, "#455a64"))
    ticks = [i + width * (len(series) - 1) / 2 for i in range(len(categories))]
    labels = [_short(c) for c in categories]  # the full names are in the tables below
    if horizontal:
        axes.set_yticks(ticks, labels, fontsize=8)
        axes.invert_yaxis()
    else:
        axes.set_xticks(ticks, labels, rotation=35, ha="right", fontsize=8)
    axes.set_title(title, fontsize=10)
    if len(series) > 1:
        axes.legend(fontsize=8)
    svg = _svg(figure)
    plt.close(figure)
    return svg


def charts(comparison: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(caption, inline SVG) for each chart: where people would rather look than read."""
    totals = comparison["totals"]
    faces = {name: {"images with faces kept": totals[name]["images_with_faces"],
                    "face templates kept": totals[name]["templates_persisted"]} for name in ("lawful", "unlawful")}
    return [
        ("Refusals by signal or rule (lawful crawl)",
         _bar_chart("Why the lawful crawl refused", {"lawful": totals["lawful"]["refusals_by_reason"]}, horizontal=True)),
        ("Images stored per jurisdiction under each pack",
         _bar_chart("Images stored, by jurisdiction", comparison["stored_by_jurisdiction"])),
        ("Provisions breached by what only the Clearview-style crawl took",
         _bar_chart("Breaches by provision", {"unlawful": comparison["breaches_by_provision"]}, horizontal=True)),
        ("Images with faces, and face templates, kept under each pack",
         _bar_chart("Faces kept", faces)),
    ]


def _totals_table(comparison: Mapping[str, Any]) -> str:
    rows = [("pages crawled", "pages_crawled"), ("images stored", "images_stored"),
            ("images with faces stored", "images_with_faces"), ("face templates persisted", "templates_persisted"),
            ("images of opted-out people collected", "opted_out_collected"), ("refused", "refused"),
            ("failed", "failed"), ("records deleted at the person's request", "deleted_on_request")]
    totals = comparison["totals"]
    body = "".join(f"<tr><th scope='row'>{_e(label)}</th><td class='n lawful'>{totals['lawful'][key]}</td>"
                   f"<td class='n unlawful'>{totals['unlawful'][key]}</td></tr>" for label, key in rows)
    return (f"<table><caption>In total</caption><thead><tr><th></th><th class='lawful'>lawful</th>"
            f"<th class='unlawful'>Clearview-style</th></tr></thead><tbody>{body}</tbody></table>")


def _sites_table(comparison: Mapping[str, Any]) -> str:
    keys = ("pages_crawled", "images_stored", "images_with_faces", "templates_persisted", "opted_out_collected", "refused")
    head = "".join(f"<th>{_e(k.replace('_', ' '))}</th>" for k in keys)
    rows = []
    for host, sides in comparison["sites"].items():
        cells = []
        for key in keys:
            lawful = (sides["lawful"] or {}).get(key, 0)
            unlawful = (sides["unlawful"] or {}).get(key, 0)
            cells.append(f"<td class='n'><span class='lawful'>{lawful}</span> / <span class='unlawful'>{unlawful}</span></td>")
        rows.append(f"<tr><th scope='row'>{_e(host)}</th>{''.join(cells)}</tr>")
    return (f"<table><caption>Per site (lawful / Clearview-style)</caption><thead><tr><th>site</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _record(item: Mapping[str, Any]) -> str:
    """One item's two decision records: what the lawful crawl decided and why, what the other one breached."""
    lawful, unlawful = item["lawful"], item["unlawful"]
    if lawful is None:
        said = "the lawful crawl never requested it (a page it refused links to it)"
    else:
        said = (f"lawful record <code>{_e(lawful['decision_id'])}</code>: {_e(lawful['outcome'])} by rule "
                f"<code>{_e(', '.join(lawful['rules']) or '-')}</code>: {_e(lawful['reason'] or lawful['summary'])}"
                f" <i>({_e('; '.join(lawful['citations']) or 'no citation')})</i>")
    return (f"<li id='decision-{_e(unlawful['decision_id'])}'><span class='url'>{_e(item['url'])}</span> "
            f"({_e(item['kind'])}" + (f", {item['faces']} face(s)" if item["faces"] else "") + f")<br>{said}<br>"
            f"Clearview-style record <code>{_e(unlawful['decision_id'])}</code>: rule "
            f"<code>{_e(', '.join(unlawful['rules']) or '-')}</code>, breaches "
            f"{_e('; '.join(unlawful['breaches']) or 'none recorded')}</li>")


def _taken_table(comparison: Mapping[str, Any]) -> str:
    parts = []
    for number, group in enumerate(comparison["taken_only_unlawfully"]):
        items = "".join(_record(item) for item in group["items"])
        why = ("the lawful crawl never requested (it refused the pages linking to them)"
               if group["lawful"] is None
               else f"the lawful crawl {_e(group['lawful'])} by <code>{_e(group['lawful_rule'])}</code>")
        parts.append(
            f"<details id='group-{number}'><summary><b>{group['count']}</b> taken that {why}; "
            f"breaches: {_e('; '.join(group['breaches']) or 'none')}"
            f"</summary><p>citations of the refusal: {_e('; '.join(group['citations']) or '-')}</p><ul>{items}</ul>"
            "</details>")
    return "".join(parts) or "<p>Nothing: the two crawls took the same.</p>"


def _signature_cell(verified: bool | None) -> str:
    if verified is None:
        return "-"
    return "<span class='ok'>valid</span>" if verified else "<span class='bad'>invalid</span>"


def _search_cell(scenario: Mapping[str, Any]) -> str:
    """With a biometric index (persisted templates, searched in memory) and without one (stored faces re-encoded
    from their boxes at request time): the price of lawful storage, in seconds."""
    phases, searched = scenario.get("search_phases") or {}, scenario.get("searched") or {}
    lines = [f"{_e(scenario.get('search_seconds', '-'))} s for the whole request"]
    if "templates" in phases:
        lines.append(f"with a biometric index: {_e(phases['templates'])} s over {_e(searched.get('templates', 0))} "
                     "persisted template(s)")
    if "stored_faces" in phases:
        lines.append(f"without one: {_e(phases['stored_faces'])} s re-encoding {_e(searched.get('faces', 0))} stored "
                     f"face(s) in {_e(searched.get('images', 0))} image(s)")
    return "<br>".join(lines)


def _rights_section(rights: Mapping[str, Any]) -> str:
    if not rights:
        return "<p>No rights scenario was played.</p>"
    rows = []
    for side in ("lawful", "unlawful"):
        scenario = rights.get(side) or {}
        access, deletion = scenario.get("access") or {}, scenario.get("deletion") or {}
        removed = ", ".join(f"{s['store']}: {s['removed']}" for s in deletion.get("stores", []) if s["removed"]) or "nothing"
        signature = scenario.get("receipt_verified")
        rows.append(
            f"<tr><th scope='row' class='{side}'>{'lawful' if side == 'lawful' else 'Clearview-style'}</th>"
            f"<td>{_e(access.get('status', '-'))}: {_e(access.get('images', 0))} image(s)"
            + (f"<br><span class='bad'>{_e(access['limited'])}</span>" if access.get("limited") else "") + "</td>"
            f"<td>{_e(deletion.get('status', '-'))}: {_e(removed)}"
            + (f"<br><span class='bad'>{_e(deletion['refused'])}</span>" if deletion.get("refused") else "") + "</td>"
            f"<td>{_e(scenario.get('recollected', '-'))}</td>"
            f"<td>{_search_cell(scenario)}</td>"
            f"<td>{_signature_cell(signature)}</td>"
            f"<td>{_e('; '.join(scenario.get('breaches', [])) or '-')}</td></tr>")
    return ("<table><thead><tr><th></th><th>access answered</th><th>deletion removed</th><th>re-crawl collected "
            "the person again</th><th>finding the person took</th><th>receipt signature</th><th>provisions breached"
            f"</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def render(comparison: Mapping[str, Any]) -> str:
    figures = "".join(f"<figure>{svg}<figcaption>{_e(caption)}</figcaption></figure>"
                      for caption, svg in charts(comparison))
    runs = comparison["runs"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>faircrawl: lawful versus Clearview-style crawling</title><style>{STYLE}</style></head>
<body><main>
<h1>Lawful versus Clearview-style crawling, on the same sites</h1>
{EXPLANATION}
<p>Runs: lawful <code>{_e(runs['lawful']['id'])}</code> ({_e(runs['lawful']['policy_revision'])}), Clearview-style
<code>{_e(runs['unlawful']['id'])}</code> ({_e(runs['unlawful']['policy_revision'])}).</p>
<h2>What each took</h2>
{_totals_table(comparison)}
<div class="charts">{figures}</div>
<h2>Per site</h2>
{_sites_table(comparison)}
<h2>What only the Clearview-style crawl took, and what that breaches</h2>
{_taken_table(comparison)}
<h2>A person asks: what do you hold about me? Delete it.</h2>
{RIGHTS_EXPLANATION if comparison.get('rights') else ''}
{_rights_section(comparison.get('rights') or {})}
</main></body></html>
"""
