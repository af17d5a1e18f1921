/**
 * The atlas's HTML building blocks: escaping, the page shell (breadcrumbs, skip link,
 * previous / next links that the arrow keys follow), the one style sheet and the small inline
 * script. Pages work without the script: sorting and filtering are CSS (`:has`), the script
 * only moves the sorted cards in the document so that the tab order follows what is seen.
 *
 * @module
 */

/**
 * Escape text for HTML content and attribute values.
 * @param s the text (numbers are converted)
 * @returns the escaped text
 */
export function esc(s: string | number): string {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** A link: its relative address and its text. */
export interface Link {
  href: string;
  text: string;
}

/** What a page needs besides its body. */
export interface Shell {
  /** The document title (the site's name is appended). */
  title: string;
  /** Relative path from the page to the site root ("" or "../../"). */
  root: string;
  /** Breadcrumbs after the atlas's own (the last is the current page, without a link). */
  crumbs: (Link | string)[];
  /** Previous / next pages (links with rel, followed by the arrow keys). */
  prev?: Link;
  next?: Link;
}

const SCRIPT = `(() => {
  document.documentElement.classList.add("js");
  addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (/^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(e.target.tagName)) return;
    const rel = { ArrowLeft: "prev", ArrowRight: "next" }[e.key];
    const link = rel && document.querySelector("a[rel=" + rel + "]");
    if (link) location.href = link.href;
  });
  const grid = document.querySelector(".grid");
  if (!grid) return;
  const sort = () => {
    const by = document.querySelector("input[name=sort]:checked")?.value ?? "n";
    const cards = [...grid.children];
    cards.sort((a, b) => a.dataset[by] - b.dataset[by]);
    grid.append(...cards);
  };
  for (const r of document.querySelectorAll("input[name=sort]")) r.addEventListener("change", sort);
  if (!document.querySelector("#sort-n:checked")) sort(); // a sort the browser restored
})();`;

/**
 * A whole page.
 * @param shell title, root, breadcrumbs, previous / next
 * @param body the contents of `<main>`
 * @returns the HTML document
 */
export function page(shell: Shell, body: string): string {
  const crumbs = [{ href: `${shell.root}index.html`, text: "Atlas" }, ...shell.crumbs];
  const items = crumbs.map((c, j) =>
    typeof c === "string" || j === crumbs.length - 1
      ? `<li aria-current="page">${esc(typeof c === "string" ? c : c.text)}</li>`
      : `<li><a href="${esc(c.href)}">${esc(c.text)}</a></li>`
  ).join("");
  const pager = shell.prev || shell.next
    ? `<nav class="pager" aria-label="Previous and next">${
      shell.prev ? `<a rel="prev" href="${esc(shell.prev.href)}">← ${esc(shell.prev.text)}</a>` : ""
    }${
      shell.next ? `<a rel="next" href="${esc(shell.next.href)}">${esc(shell.next.text)} →</a>` : ""
    }</nav>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(shell.title)} · MEI atlas</title>
<link rel="stylesheet" href="${shell.root}style.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header><nav aria-label="Breadcrumb"><ol class="crumbs">${items}</ol></nav>${pager}</header>
<main id="main">
${body}
</main>
<footer><p>${
    pager ? "Keys: ← and → go to the previous and next page. " : ""
  }Built by <code>scripts/atlas.ts</code> from sweep records.</p></footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** The site's style sheet (`style.css`). */
export const STYLE =
  `:root { color-scheme: light; --ink: #1b1b1b; --muted: #595959; --line: #c8c8c8;
  --accent: #1f4e99; --bg: #fff; --card: #f6f6f4; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: var(--bg); }
main, header, footer { max-width: 1280px; margin: 0 auto; padding: 0 20px; }
header { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center;
  gap: 8px; padding-top: 12px; padding-bottom: 8px; border-bottom: 1px solid var(--line); }
footer { color: var(--muted); font-size: 13px; margin-top: 32px; border-top: 1px solid var(--line); }
a { color: var(--accent); text-underline-offset: 2px; }
a:focus-visible, input:focus-visible + span, summary:focus-visible {
  outline: 3px solid #111; outline-offset: 2px; border-radius: 3px; }
.skip { position: absolute; left: -999px; top: 4px; background: #fff; padding: 4px 8px; }
.skip:focus { left: 8px; z-index: 2; }
h1 { font-size: 26px; margin: 18px 0 4px; }
h1 .sub, h2 .sub { font-weight: 400; color: var(--muted); font-size: 0.7em; }
h2 { font-size: 19px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.lead { color: var(--muted); margin: 0 0 12px; max-width: 80ch; }
.crumbs { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px; }
.crumbs li + li::before { content: "›"; margin-right: 4px; color: var(--muted); }
.crumbs [aria-current] { font-weight: 600; }
.pager { display: flex; gap: 16px; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { padding: 4px 10px 4px 0; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid var(--ink); }
tbody tr + tr th, tbody tr + tr td { border-top: 1px solid var(--line); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
.pills a { display: inline-block; min-width: 2em; text-align: center; padding: 1px 6px;
  margin: 0 2px 3px 0; border: 1px solid var(--line); border-radius: 4px; text-decoration: none; }
.pills a:hover, .ckpts a:hover { border-color: var(--ink); }
.ckpts { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin: 10px 0; }
.ckpts ol { list-style: none; display: flex; flex-wrap: wrap; gap: 4px; margin: 0; padding: 0; }
.ckpts a, .ckpts span.here { display: inline-block; padding: 3px 9px; border: 1px solid var(--line);
  border-radius: 4px; text-decoration: none; }
.ckpts span.here { border: 2px solid var(--ink); font-weight: 700; }
.ckpts small { color: var(--muted); margin-left: 4px; }
.controls { display: flex; flex-wrap: wrap; gap: 12px 24px; margin: 8px 0 4px; }
fieldset { border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px 8px; margin: 0; }
legend { font-weight: 600; padding: 0 4px; }
fieldset label { margin-right: 10px; white-space: nowrap; }
.facts { display: flex; flex-wrap: wrap; gap: 4px 20px; margin: 8px 0; padding: 0; list-style: none; }
.facts b { font-variant-numeric: tabular-nums; }
.results { display: flex; flex-direction: column; }
.count { order: -1; margin: 8px 0; color: var(--muted); }
.count::before { content: counter(shown) " of " attr(data-total) " neurons shown"; }
.grid { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 8px;
  counter-reset: shown; }
.card { counter-increment: shown; width: 124px; }
.card a { display: block; padding: 6px; border: 1px solid var(--line); border-radius: 6px;
  background: var(--card); color: var(--ink); text-decoration: none; font-size: 12px;
  line-height: 1.3; }
.card a:hover { border-color: var(--ink); }
.card img, .mei img, .natural img { image-rendering: pixelated; display: block; background: #000; }
.card img { width: 110px; height: 110px; }
.card .n { font-weight: 700; font-size: 13px; }
.card .act { float: right; font-variant-numeric: tabular-nums; }
.card .cls, .card .tag { display: block; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
.tag { color: var(--muted); }
.tag.stable::before { content: "■ "; }
.tag.labile::before { content: "◆ "; }
.tag.non-selective::before { content: "○ "; }
html:not(.js) body:has(#sort-a:checked) .card { order: var(--a); }
html:not(.js) body:has(#sort-c:checked) .card { order: var(--c); }
body:has(#show-sel:checked) .card:not(.sel),
body:has(#show-stable:checked) .card:not(.stable),
body:has(#show-labile:checked) .card:not(.labile),
body:has(#show-non:checked) .card:not(.non-selective) { display: none; }
.meis td, .meis th { padding: 6px 10px 6px 0; }
.mei { margin: 0; width: 104px; font-size: 12px; line-height: 1.3; }
.mei img { width: 96px; height: 96px; }
.mei.best img { outline: 3px solid var(--ink); outline-offset: 1px; margin-bottom: 6px; }
.meis th .note { font-weight: 400; }
.mei figcaption b { font-variant-numeric: tabular-nums; }
.naturals { list-style: none; display: flex; flex-wrap: wrap; gap: 8px; padding: 0; margin: 0; }
.natural { margin: 0; font-size: 12px; text-align: center; }
.natural img { width: 72px; height: 72px; }
.bars { display: flex; flex-wrap: wrap; gap: 8px 28px; }
.bars table { font-size: 12px; }
.bars caption { text-align: left; font-weight: 600; padding-bottom: 2px; }
.bars td { padding: 1px 6px 1px 0; border: 0 !important; }
.bar { display: inline-block; height: 10px; background: var(--ink); vertical-align: middle; }
.barbox { width: 110px; border-left: 1px solid var(--ink); }
.chart { max-width: 100%; height: auto; }
.preview { display: flex; gap: 3px; }
.preview img { image-rendering: pixelated; background: #000; }
figure { margin: 0 0 12px; }
details { margin: 6px 0; }
summary { cursor: pointer; color: var(--accent); }
.label { display: inline-block; border: 2px solid var(--ink); border-radius: 4px; padding: 0 6px;
  font-weight: 700; }
.label.labile { border-style: dashed; }
.label.non-selective { border-style: dotted; font-weight: 400; }
.note { color: var(--muted); font-size: 13px; }
`;
