// Search results: grouped by type, images with their thumbnails, a page at a time.
// The index's snippets mark matches with <b>; they are shown as text with the matches
// highlighted, never as markup.

import {get, query} from "./api.js";
import {fill, h} from "./dom.js";
import {link} from "./nav.js";
import {thumbnails} from "./thumbnails.js";

const PAGE = 50;
const SHOWN = {image: "image", dataset: "dataset", project: "project", screen: "screen",
  plate: "plate"};

function snippet(html) {
  const parts = html.split(/<\/?b>/);
  return h("p", {class: "snippet"}, parts.map((part, index) => {
    const text = new DOMParser().parseFromString(part, "text/html").body.textContent;
    return index % 2 ? h("mark", {}, text) : text;
  }));
}

function target(hit) {
  if (SHOWN[hit.type]) return `/?show=${SHOWN[hit.type]}-${hit.id}`;
  return null;
}

export async function search(main, text, page) {
  if (!text.trim()) {
    fill(main, h("section", {class: "empty"}, h("h1", {}, "Search"),
      h("p", {}, "Type in the box above: words, \"phrases\", name:…, tag:…, created:[2026-01-01 TO 2026-06-30].")));
    return;
  }
  const offset = (page - 1) * PAGE;
  const found = await get(`/api/v1/search${query({q: text, limit: PAGE, offset})}`);
  const groups = new Map();
  for (const hit of found.hits) groups.set(hit.type, [...(groups.get(hit.type) || []), hit]);
  const pages = Math.max(1, Math.ceil(found.total / PAGE));
  const pager = h("nav", {class: "pager", "aria-label": "Pages"},
    page > 1 ? link(`/?view=search&q=${encodeURIComponent(text)}&page=${page - 1}`, "← Previous") : null,
    h("span", {}, `Page ${page} of ${pages}`),
    page < pages ? link(`/?view=search&q=${encodeURIComponent(text)}&page=${page + 1}`, "Next →") : null);
  const sections = [...groups.entries()].map(([type, hits]) => h("section", {class: "results"},
    h("h2", {}, `${type[0].toUpperCase()}${type.slice(1)}s`),
    h("ul", {class: type === "image" ? "thumbs" : "rows"}, hits.map((hit) => {
      const address = target(hit);
      const label = type === "image"
        ? h("figure", {class: "thumb"}, h("img", {alt: "", width: 96, height: 96, "data-image": hit.id}),
          h("figcaption", {}, hit.name || `image ${hit.id}`))
        : h("span", {}, hit.name || `${type} ${hit.id}`);
      return h("li", {}, address ? link(address, label) : label, hit.snippet ? snippet(hit.snippet) : null);
    }))));
  fill(main, h("div", {class: "search-page"},
    h("h1", {}, `${found.total} result${found.total === 1 ? "" : "s"} for `, h("q", {}, text)),
    sections.length ? sections : h("p", {class: "muted"}, "Nothing matches; try fewer words or a wildcard (gfp*)."),
    found.total > PAGE ? pager : null));
  thumbnails(main);
}
