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

/** Field completion for a search box: as the last word is typed, the fields a query may
 * name that start with it (the index's, and the keys of key-value pairs the user may
 * read), chosen with the arrow keys and Enter or Tab, or the mouse. */
export function completer(input) {
  const list = h("ul", {class: "completions", role: "listbox", id: "search-completions", hidden: true});
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  let options = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  const lastWord = () => {
    const match = /(^|[\s(+\-])([^\s():"+\-]*)$/.exec(input.value.slice(0, input.selectionStart ?? input.value.length));
    return match ? match[2] : null;
  };

  function close() {
    list.hidden = true;
    options = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function mark(index) {
    active = index;
    [...list.children].forEach((item, n) => item.setAttribute("aria-selected", String(n === index)));
    if (index >= 0) input.setAttribute("aria-activedescendant", list.children[index].id);
  }

  function choose(index) {
    const word = lastWord();
    if (word === null || !options[index]) return;
    const end = input.selectionStart ?? input.value.length;
    const start = end - word.length;
    input.value = `${input.value.slice(0, start)}${options[index]}:${input.value.slice(end)}`;
    const caret = start + options[index].length + 1;
    input.setSelectionRange(caret, caret);
    close();
    input.focus();
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const word = lastWord();
    if (!word) {
      close();
      return;
    }
    timer = setTimeout(async () => {
      const mine = ++asked;
      const found = await get(`/api/v1/search/fields${query({prefix: word})}`).catch(() => null);
      if (mine !== asked || !found || lastWord() !== word || document.activeElement !== input) return;
      options = [...found.fields, ...found.keys].filter((name) => name !== word.toLowerCase()).slice(0, 12);
      if (!options.length) {
        close();
        return;
      }
      fill(list, options.map((name, index) => h("li", {role: "option", id: `completion-${index}`,
        "aria-selected": "false", onmousedown: (event) => {
          event.preventDefault();  // the box keeps its focus
          choose(index);
        }}, `${name}:`, found.keys.includes(name) ? h("small", {}, " key-value") : null)));
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      mark(-1);
    }, 120);
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      mark((active + step + options.length) % options.length);
    } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
  return list;
}
