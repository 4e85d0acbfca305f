// Browsing: the tree of projects, datasets, screens and plates on the left, and what
// the address shows on the right (a project's datasets, a dataset's images as
// thumbnails or a table, a screen's plates, a plate's wells).

import {del, get, post, query} from "./api.js";
import {bytes, fill, h, toast} from "./dom.js";
import {go, link} from "./nav.js";
import {thumbnails} from "./thumbnails.js";
import {dropZone} from "./upload.js";
import {MAX_COMPARED} from "./compare.js";

const API = "/api/v0/m";
const PAGE = 500;

/** Whose data the tree and the home page show: the current group's (the bar switches
 * it), everyone's in it or one member's (`owner=` in the address), as OMERO.web's. */
function scope(me) {
  const owner = new URLSearchParams(location.search).get("owner");
  // administrators are in no group of users' data, and read every group's
  return {group: me.is_admin ? null : me.group_id, owner: /^\d+$/.test(owner || "") ? Number(owner) : null};
}

async function ownerPicker(me, chosen) {
  const users = await get("/api/v1/users").catch(() => []);
  const members = me.is_admin ? users : users.filter((u) => u.group_ids.includes(me.group_id));
  return h("label", {class: "owner"}, "Owner ", h("select", {"aria-label": "Owner", onchange: (event) => {
    const params = new URLSearchParams(location.search);
    if (event.target.value) params.set("owner", event.target.value);
    else params.delete("owner");
    go(`/?${params}`);
  }}, h("option", {value: ""}, "All members"), members.map((u) => h("option", {value: u.id,
    selected: u.id === chosen}, u.id === me.user_id ? `${u.username} (me)` : u.username))));
}

export async function browse(main, kind, id, me) {
  const tree = h("nav", {class: "tree", "aria-label": "Projects, datasets, screens and plates"});
  const content = h("section", {class: "content", "aria-live": "polite"});
  fill(main, h("div", {class: "browse"}, tree, content));
  const within = scope(me);
  await Promise.all([drawTree(tree, kind, id, within, me), drawContent(content, kind, id, within)]);
}

function count(item) {
  const number = item["omero:childCount"];
  return number === undefined ? null : h("span", {class: "count"}, String(number));
}

const DRAGGED = "application/x-pixelvault-image";
let dragged = null;  // {image, from} of the drag this page started, if any

/** A dataset in the tree takes images dragged onto it: linked there, and unlinked from
 * the dataset they were dragged from. */
function dropTarget(label, dataset) {
  label.addEventListener("dragover", (event) => {
    if (!event.dataTransfer.types.includes(DRAGGED)) return;
    event.preventDefault();
    label.classList.add("over");
  });
  label.addEventListener("dragleave", () => label.classList.remove("over"));
  label.addEventListener("drop", async (event) => {
    event.preventDefault();
    label.classList.remove("over");
    // only a drag this page started counts: another site may offer any payload
    const moving = dragged;
    dragged = null;
    if (!moving || !Number.isInteger(moving.image) || !Number.isInteger(moving.from)) return;
    const {image, from} = moving;
    if (from === dataset) return;
    try {
      await post(`/api/v1/datasets/${dataset}/images`, {child_id: image});
      if (from) await del(`/api/v1/datasets/${from}/images/${image}`);
      toast(`Image moved to ${label.textContent}.`);
      go(`/?show=dataset-${dataset}`);
    } catch (error) {
      toast(`Not moved: ${error.message}`, "error");
    }
  });
}

function node(kind, item, selected, children) {
  const label = link(`/?show=${kind}-${item["@id"]}`, h("span", {class: `icon icon-${kind}`}),
    item.Name || `${kind} ${item["@id"]}`, count(item));
  if (selected) label.setAttribute("aria-current", "page");
  if (kind === "dataset" && item["omero:details"]?.permissions?.canLink) dropTarget(label, item["@id"]);
  if (!children) return h("li", {}, label);
  const details = h("details", {}, h("summary", {}, label));
  details.addEventListener("toggle", async () => {
    if (details.open && !details.dataset.loaded) {
      details.dataset.loaded = "1";
      details.append(await children());
    }
  }, {once: false});
  return h("li", {}, details);
}

/** A list of the first page of ``page`` (an OMERO listing of ``url``), and a "Show more"
 * that fetches the next pages: a tree of thousands of datasets stays quick. */
function listOf(page, url, params, make) {
  const list = h("ul", {}, page.data.map(make));
  let loaded = page.data.length;
  const total = page.meta?.totalCount ?? loaded;
  if (loaded < total) {
    const button = h("button", {type: "button", class: "link"}, `Show more (${total - loaded} left)`);
    const more = h("li", {class: "more"}, button);
    button.addEventListener("click", async () => {
      button.disabled = true;  // a second click would ask for the same page
      const next = await get(`${url}${query({...params, limit: PAGE, offset: loaded})}`)
        .finally(() => { button.disabled = false; });
      loaded += next.data.length;
      more.before(...next.data.map(make));
      if (loaded >= total || !next.data.length) more.remove();
      else fill(button, `Show more (${total - loaded} left)`);
    });
    list.append(more);
  }
  return list;
}

async function drawTree(tree, kind, id, within, me) {
  const listing = async (url, params, make) => listOf(await get(`${url}${query({...params, limit: PAGE})}`),
    url, params, make);
  const datasetNode = (d) => node("dataset", d, kind === "dataset" && d["@id"] === id);
  const plateNode = (p) => node("plate", p, kind === "plate" && p["@id"] === id);
  const datasetsOf = (project) => () => listing(`${API}/projects/${project}/datasets/`, {childCount: true}, datasetNode);
  const platesOf = (screen) => () => listing(`${API}/screens/${screen}/plates/`, {}, plateNode);
  const [projects, datasets, screens, plates, picker] = await Promise.all([
    listing(`${API}/projects/`, {childCount: true, ...within}, (p) => node("project", p,
      kind === "project" && p["@id"] === id, datasetsOf(p["@id"]))),
    listing(`${API}/datasets/`, {childCount: true, orphaned: true, ...within}, datasetNode),
    listing(`${API}/screens/`, {childCount: true, ...within}, (s) => node("screen", s,
      kind === "screen" && s["@id"] === id, platesOf(s["@id"]))),
    listing(`${API}/plates/`, {orphaned: true, ...within}, plateNode),
    ownerPicker(me, within.owner)]);
  fill(tree, picker,
    h("h2", {}, "Projects"), projects,
    datasets.children.length ? [h("h2", {}, "Datasets"), datasets] : null,
    screens.children.length || plates.children.length ? h("h2", {}, "Screens") : null,
    screens, plates);
  const current = tree.querySelector("[aria-current=page]");
  if (current) current.scrollIntoView({block: "nearest"});
}

function crumbs(...parts) {
  return h("nav", {class: "crumbs", "aria-label": "Breadcrumbs"},
    h("ol", {}, h("li", {}, link("/", "Home")), parts.map((part) => h("li", {}, part))));
}

function card(kind, item) {
  return link(`/?show=${kind}-${item["@id"]}`, h("div", {class: "card"},
    h("span", {class: `icon icon-${kind}`}), h("strong", {}, item.Name || `${kind} ${item["@id"]}`),
    count(item), h("small", {}, item["omero:details"].owner.UserName)));
}

async function drawContent(content, kind, id, within) {
  if (kind === "project" && id !== null) {
    const [project, datasets] = await Promise.all([get(`${API}/projects/${id}/`),
      get(`${API}/projects/${id}/datasets/${query({childCount: true, limit: PAGE})}`)]);
    fill(content, crumbs(project.data.Name), header(project.data),
      h("div", {class: "cards"}, datasets.data.map((d) => card("dataset", d))),
      datasets.data.length ? null : h("p", {class: "muted"}, "This project has no datasets yet."));
  } else if (kind === "dataset" && id !== null) {
    await drawDataset(content, id);
  } else if (kind === "screen" && id !== null) {
    const [screen, plates] = await Promise.all([get(`${API}/screens/${id}/`),
      get(`${API}/screens/${id}/plates/${query({limit: PAGE})}`)]);
    fill(content, crumbs(screen.data.Name), header(screen.data),
      h("div", {class: "cards"}, plates.data.map((p) => card("plate", p))));
  } else if (kind === "plate" && id !== null) {
    await drawPlate(content, id, 0);
  } else {
    const [projects, datasets, screens] = await Promise.all([
      get(`${API}/projects/${query({childCount: true, limit: PAGE, ...within})}`),
      get(`${API}/datasets/${query({childCount: true, orphaned: true, limit: PAGE, ...within})}`),
      get(`${API}/screens/${query({childCount: true, limit: PAGE, ...within})}`)]);
    const all = [...projects.data.map((p) => card("project", p)),
      ...datasets.data.map((d) => card("dataset", d)), ...screens.data.map((s) => card("screen", s))];
    fill(content, h("h1", {}, "Your data"), h("div", {class: "cards"}, all),
      all.length ? null : h("p", {class: "muted"},
        "Nothing here yet: import images with `pixelvault import`, or create a project."));
  }
}

function header(item) {
  return [h("h1", {}, item.Name), item.Description ? h("p", {class: "description"}, item.Description) : null];
}

const COLUMNS = [
  ["Name", (i) => i.Name],
  ["Owner", (i) => i["omero:details"].owner.UserName],
  ["Acquired", (i) => (i.AcquisitionDate ? new Date(i.AcquisitionDate).toISOString().slice(0, 10) : "")],
  ["X", (i) => i.Pixels?.SizeX], ["Y", (i) => i.Pixels?.SizeY], ["Z", (i) => i.Pixels?.SizeZ],
  ["C", (i) => i.Pixels?.SizeC], ["T", (i) => i.Pixels?.SizeT],
  ["Type", (i) => i.Pixels?.Type?.value],
  ["Files", (i) => i[FILES], (value) => (value === undefined ? "" : bytes(value))],
];
const FILES = "pixelvault:filesBytes";  // set on each image from the dataset's file sizes

async function drawDataset(content, id) {
  const [dataset, images] = await Promise.all([get(`${API}/datasets/${id}/`),
    get(`${API}/datasets/${id}/images/${query({limit: PAGE})}`)]);
  const params = new URLSearchParams(location.search);
  let layout = params.get("layout") === "table" ? "table" : "grid";
  let sort = {column: 0, descending: false};
  const filter = h("input", {type: "search", placeholder: "Filter by name", "aria-label": "Filter by name",
                             oninput: () => draw()});
  const body = h("div", {});
  const toggle = h("div", {class: "segmented", role: "group", "aria-label": "Layout"},
    ["grid", "table"].map((name) => h("button", {type: "button", "aria-pressed": String(layout === name),
      onclick: (event) => {
        layout = name;
        toggle.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b === event.target)));
        draw();
      }}, name === "grid" ? "Thumbnails" : "Table")));

  function shown() {
    const wanted = filter.value.toLowerCase();
    const [, value] = COLUMNS[sort.column];
    return images.data.filter((i) => i.Name.toLowerCase().includes(wanted)).sort((a, b) => {
      const [x, y] = [value(a) ?? "", value(b) ?? ""];
      const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return sort.descending ? -order : order;
    });
  }

  const counted = h("span", {class: "muted"});
  // images chosen to be seen side by side
  const chosen = new Set();
  const compareButton = h("button", {type: "button", disabled: true, onclick: () =>
    go(`/?show=${[...chosen].map((image) => `image-${image}`).join("|")}`)}, "Compare");
  const pick = (image, name) => h("input", {type: "checkbox", class: "pick", checked: chosen.has(image),
    "aria-label": `Choose ${name} to compare`, onchange: (event) => {
      if (event.target.checked) chosen.add(image);
      else chosen.delete(image);
      compareButton.disabled = chosen.size < 2 || chosen.size > MAX_COMPARED;
      fill(compareButton, chosen.size ? `Compare ${chosen.size}` : "Compare");
      compareButton.title = chosen.size > MAX_COMPARED ? `At most ${MAX_COMPARED} images side by side` : "";
    }});

  const more = h("button", {type: "button", onclick: async () => {
    const next = await get(`${API}/datasets/${id}/images/${query({limit: PAGE, offset: images.data.length})}`);
    images.data.push(...next.data);
    draw();
  }}, "Show more");

  // the bytes each image was imported from, asked once the table is shown
  let sizes = null;
  async function fileSizes() {
    sizes = sizes || get(`/api/v1/datasets/${id}/file-sizes`).catch(() => ({}));
    const found = await sizes;
    let changed = false;
    for (const image of images.data) {
      if (image[FILES] === undefined && found[image["@id"]] !== undefined) {
        image[FILES] = found[image["@id"]];
        changed = true;
      }
    }
    if (changed && layout === "table") draw();
  }

  function draw() {
    const total = images.meta.totalCount;
    if (layout === "table") fileSizes();
    fill(counted, images.data.length < total ? `${images.data.length} of ${total} images`
      : `${total} image${total === 1 ? "" : "s"}`);
    more.hidden = images.data.length >= total;
    const items = shown();
    if (layout === "grid") {
      const tiles = items.map((i) => {
        const tile = link(`/?show=image-${i["@id"]}`, h("figure", {class: "thumb"},
          h("img", {alt: "", width: 96, height: 96, "data-image": i["@id"], draggable: "false"}),
          h("figcaption", {}, i.Name)));
        tile.draggable = true;
        tile.addEventListener("dragstart", (event) => {
          dragged = {image: i["@id"], from: id};
          event.dataTransfer.setData(DRAGGED, String(i["@id"]));
          event.dataTransfer.effectAllowed = "move";
        });
        tile.addEventListener("dragend", () => setTimeout(() => { dragged = null; }, 0));
        return h("div", {class: "thumb-cell"}, tile, pick(i["@id"], i.Name));
      });
      fill(body, h("div", {class: "thumbs"}, tiles));
      thumbnails(body);
    } else {
      const head = h("tr", {}, h("th", {scope: "col"}, h("span", {class: "hidden"}, "Compare")),
        COLUMNS.map(([name], index) => h("th", {scope: "col",
        "aria-sort": sort.column === index ? (sort.descending ? "descending" : "ascending") : "none"},
        h("button", {type: "button", onclick: () => {
          sort = {column: index, descending: sort.column === index && !sort.descending};
          draw();
        }}, name))));
      const rows = items.map((i) => h("tr", {}, h("td", {}, pick(i["@id"], i.Name)), COLUMNS.map(([, value, shown], index) => h("td", {},
        index === 0 ? link(`/?show=image-${i["@id"]}`, value(i)) : shown ? shown(value(i)) : value(i) ?? ""))));
      fill(body, h("table", {class: "listing"}, h("thead", {}, head), h("tbody", {}, rows)));
    }
  }

  const projects = await get(`${API}/datasets/${id}/projects/`).catch(() => ({data: []}));
  const parent = projects.data?.[0];
  const mayImport = dataset.data["omero:details"].permissions.canLink;
  fill(content, crumbs(parent ? link(`/?show=project-${parent["@id"]}`, parent.Name) : null, dataset.data.Name),
    header(dataset.data), h("div", {class: "toolbar"}, filter, toggle, counted, compareButton), body, more,
    mayImport ? dropZone(id, async () => {
      const again = await get(`${API}/datasets/${id}/images/${query({limit: PAGE})}`);
      images.data = again.data;
      sizes = null;
      images.meta = again.meta;
      draw();
    }) : null);
  draw();
}

async function drawPlate(content, id, field) {
  const [plate, grid] = await Promise.all([get(`${API}/plates/${id}/`),
    get(`/webgateway/plate/${id}/${field}/`)]);
  const span = plate.data["omero:wellsampleIndex"];
  const fields = Array.isArray(span) && span.length === 2 ? span : [0, 0];
  const picker = h("select", {"aria-label": "Field", onchange: (event) => drawPlate(content, id, Number(event.target.value))},
    Array.from({length: fields[1] - fields[0] + 1}, (_, n) => h("option", {value: fields[0] + n,
      selected: fields[0] + n === field}, `Field ${fields[0] + n + 1}`)));
  const table = h("table", {class: "plate"},
    h("thead", {}, h("tr", {}, h("th", {}), grid.collabels.map((c) => h("th", {scope: "col"}, String(c))))),
    h("tbody", {}, grid.grid.map((row, r) => h("tr", {}, h("th", {scope: "row"}, String(grid.rowlabels[r])),
      row.map((cell) => h("td", {}, cell ? link(`/?show=image-${cell.id}`, h("img", {alt: cell.name || "",
        title: cell.name || "", width: 48, height: 48, "data-image": cell.id})) : null))))));
  fill(content, crumbs(plate.data.Name), header(plate.data),
    h("div", {class: "toolbar"}, picker), h("div", {class: "plate-scroll"}, table));
  thumbnails(content, 48);
}
