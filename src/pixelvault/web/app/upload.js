// Importing from the browser: files or folders dropped on a dataset go up through the
// import API as the command line sends them. Each file is a fileset (a folder named
// *.zarr is one fileset with all its files); bytes go in 8 MiB pieces, each hashed
// (SHA-1, OMERO's checksum, with hash-wasm) once the server has it, so a dropped
// connection resumes where the server's copy ends; the checksums come with the finish.

import {HttpError, get, post, request} from "./api.js";
import {bytes, fill, h} from "./dom.js";
import {link} from "./nav.js";

const PIECE = 8 << 20;
const RETRIES = 5;

/** Files under a dropped entry, each with its path from the drop. */
async function walk(entry, prefix = "") {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    return [{file, path: `${prefix}${file.name}`}];
  }
  const reader = entry.createReader();
  const found = [];
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) break;
    for (const child of batch) found.push(...await walk(child, `${prefix}${entry.name}/`));
  }
  return found;
}

/** What to import from a drop or a file chooser: filesets, each a list of files. */
export async function filesetsOf(items, files) {
  const sets = [];
  const entries = [...(items || [])].map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
  if (!entries.length) return [...files].map((file) => ({name: file.name, files: [{file, path: file.name}], depth: 0}));
  for (const entry of entries) {
    const found = await walk(entry);
    if (entry.isDirectory && /\.zarr$/i.test(entry.name)) {
      sets.push({name: entry.name, files: found, depth: zarrDepth(found, entry.name)});
    } else {
      sets.push(...found.map((item) => ({name: item.path, files: [item], depth: 0})));
    }
  }
  return sets;
}

/** How far above the first file the OME-Zarr's top directory is (what the reader opens). */
function zarrDepth(found, root) {
  const first = found.map((f) => f.path).sort()[0] || "";
  return first.split("/").length - 1 - (root.split("/").length - 1);
}

function rate(sent, started) {
  const seconds = (performance.now() - started) / 1000;
  return seconds > 0 ? sent / seconds : 0;
}

async function sendFile(fileset, index, item, hasher, progress) {
  let position = 0;
  let failures = 0;
  while (position < item.file.size) {
    const end = Math.min(position + PIECE, item.file.size);
    const piece = item.file.slice(position, end);
    try {
      await request("PUT", `/api/v1/imports/${fileset}/files/${index}?offset=${position}`, piece);
      hasher.update(new Uint8Array(await piece.arrayBuffer()));
      position = end;
      failures = 0;
      progress(position);
    } catch (error) {
      if (error instanceof HttpError && error.status < 500 && error.status !== 409 && error.status !== 423) throw error;
      failures += 1;
      if (failures > RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** failures));
      const status = await get(`/api/v1/imports/${fileset}`);
      const held = status.files[index].received;
      if (held > position) {  // the piece arrived; its answer did not
        hasher.update(new Uint8Array(await item.file.slice(position, held).arrayBuffer()));
        position = held;
      }
    }
  }
}

async function importOne(set, dataset, row) {
  const bar = row.querySelector("progress");
  const text = row.querySelector(".upload-state");
  const total = set.files.reduce((sum, f) => sum + f.file.size, 0);
  const started = performance.now();
  let done = 0;
  const show = (sent) => {
    bar.value = total ? sent / total : 1;
    const speed = rate(sent, started);
    const left = speed ? (total - sent) / speed : 0;
    fill(text, `${bytes(sent)} of ${bytes(total)}, ${bytes(speed)}/s, ${Math.ceil(left)} s left`);
  };
  const announced = await post("/api/v1/imports", {
    files: set.files.map((f) => ({client_path: f.path, size: f.file.size, checksum: ""})),
    dataset: String(dataset), entry_depth: set.depth});
  const checksums = [];
  for (const [index, item] of set.files.entries()) {
    const hasher = await window.hashwasm.createSHA1();
    hasher.init();
    const base = done;
    await sendFile(announced.id, index, item, hasher, (position) => show(base + position));
    done += item.file.size;
    checksums.push(hasher.digest("hex"));
  }
  fill(text, "Reading the images…");
  bar.removeAttribute("value");
  const result = await post(`/api/v1/imports/${announced.id}/finish`, {checksums});
  bar.value = 1;
  const images = result.images || [];
  fill(text, images.length ? [`${images.length} image${images.length === 1 ? "" : "s"}: `,
    images.slice(0, 5).map((id, n) => [n ? ", " : "", link(`/?show=image-${id}`, `image ${id}`)])] : "imported");
  return images;
}

/** A drop zone for the dataset; `done` is called once every fileset is in. */
export function dropZone(dataset, done) {
  const list = h("ul", {class: "uploads", "aria-label": "Imports"});
  const chooser = h("input", {type: "file", multiple: true, hidden: true, onchange: (event) => {
    start(null, event.target.files);
    event.target.value = "";
  }});
  const zone = h("div", {class: "dropzone", tabindex: "0", role: "button",
    "aria-label": "Import files into this dataset: drop them here or press Enter to choose",
    onclick: () => chooser.click(),
    onkeydown: (event) => { if (event.key === "Enter" || event.key === " ") chooser.click(); },
    ondragover: (event) => { event.preventDefault(); zone.classList.add("over"); },
    ondragleave: () => zone.classList.remove("over"),
    ondrop: (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      start(event.dataTransfer.items, event.dataTransfer.files);
    }}, "Drop files or folders here to import them into this dataset, or click to choose files.", chooser);

  async function start(items, files) {
    const sets = await filesetsOf(items, files);
    let imported = 0;
    for (const set of sets) {
      const row = h("li", {}, h("span", {class: "upload-name"}, set.name), h("progress", {max: 1, value: 0}),
        h("span", {class: "upload-state"}, "waiting"));
      list.append(row);
      try {
        imported += (await importOne(set, dataset, row)).length;
      } catch (error) {
        row.classList.add("failed");
        fill(row.querySelector(".upload-state"), h("span", {class: "error"}, error.message));
      }
    }
    if (imported) done();
  }

  return h("section", {class: "importer", "aria-label": "Import"}, zone, list);
}
