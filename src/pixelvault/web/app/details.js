// An image's details: its dimensions, calibration and channels, where it is, and its
// annotations (tags, comments, key-value pairs, attached files), each added and
// removed where the group's permissions allow.

import {del, get, patch, post, put} from "./api.js";
import {bytes, fill, h, toast} from "./dom.js";
import {go, link} from "./nav.js";

const ORIGINAL = "openmicroscopy.org/omero/import/original_metadata";

function length(value) {
  return value ? `${Number(value.value.toPrecision(4))} ${value.unit}` : "—";
}

function rows(pairs) {
  return h("table", {class: "facts"}, h("tbody", {}, pairs.filter(Boolean).map(([key, value]) =>
    h("tr", {}, h("th", {scope: "row"}, key), h("td", {}, value)))));
}

export async function detailsPanel(imageId, data, me) {
  const about = await get(`/api/v1/images/${imageId}/metadata`);
  const pixels = about.pixels;
  const section = h("section", {class: "panel-section", "aria-label": "Details"});
  const annotations = h("div", {class: "annotations"});
  const canEdit = data.perms.canEdit;
  const canAnnotate = data.perms.canAnnotate;

  const name = h("h2", {class: "image-name"}, about.name);
  const description = h("p", {class: "description"}, about.description || "");
  const editor = canEdit ? h("button", {type: "button", class: "link", onclick: () => edit()}, "Rename or describe") : null;

  function edit() {
    const nameBox = h("input", {value: about.name, "aria-label": "Name", required: true});
    const textBox = h("textarea", {"aria-label": "Description", rows: 3}, about.description || "");
    const form = h("form", {class: "stack", onsubmit: async (event) => {
      event.preventDefault();
      const changed = await patch(`/api/v1/images/${imageId}`, {name: nameBox.value, description: textBox.value});
      about.name = changed.name;
      about.description = changed.description;
      fill(name, about.name);
      fill(description, about.description);
      form.replaceWith(editor);
    }}, nameBox, textBox, h("div", {class: "buttons"}, h("button", {type: "submit", class: "primary"}, "Save"),
      h("button", {type: "button", onclick: () => form.replaceWith(editor)}, "Cancel")));
    editor.replaceWith(form);
    nameBox.focus();
  }

  async function drawAnnotations() {
    const found = await get(`/api/v1/images/${imageId}/annotations`);
    const removable = (a) => a.owner_id === me.user_id || data.perms.canDelete;
    const remove = (a) => h("button", {type: "button", class: "chip-remove", "aria-label": `Remove ${a.type} ${a.text}`,
      onclick: async () => {
        await del(`/api/v1/annotations/${a.id}`);
        await drawAnnotations();
      }}, "×");
    const tags = found.filter((a) => a.type === "tag");
    const comments = found.filter((a) => a.type === "comment");
    const maps = found.filter((a) => a.type === "map" && a.namespace !== ORIGINAL);
    const original = found.filter((a) => a.type === "map" && a.namespace === ORIGINAL)
      .flatMap((a) => a.values);
    const files = found.filter((a) => a.type === "file");
    fill(annotations,
      h("h3", {}, "Tags"),
      h("ul", {class: "chips"}, tags.map((a) => h("li", {class: "chip"}, a.text, removable(a) ? remove(a) : null))),
      canAnnotate ? adder("tag", "Add a tag") : null,
      h("h3", {}, "Key-value pairs"),
      maps.map((a) => h("div", {class: "map-annotation"}, editable(a) ? mapEditor(a)
        : rows(a.values.map(([k, v]) => [k, v])), removable(a) ? remove(a) : null)),
      canAnnotate ? mapAdder() : null,
      h("h3", {}, "Comments"),
      h("ul", {class: "comments"}, comments.map((a) => h("li", {}, h("p", {}, a.text),
        h("small", {}, new Date(a.created_at).toLocaleString()), removable(a) ? remove(a) : null))),
      canAnnotate ? adder("comment", "Add a comment", true) : null,
      h("h3", {}, "Attachments"),
      h("ul", {class: "files"}, files.map((a) => h("li", {},
        h("a", {href: `/api/v1/files/${a.file.id}`, download: a.file.name}, a.file.name),
        h("small", {}, ` ${bytes(a.file.size)}`), removable(a) ? remove(a) : null))),
      canAnnotate ? attacher() : null,
      original.length ? originalMetadata(original) : null);
  }

  // the server decides (the annotation's owner, or as the group's level allows); the
  // page offers the table's cells to its owner and to administrators
  const editable = (a) => !me.public && (a.owner_id === me.user_id || me.is_admin);

  /** A key-value annotation as a table whose cells are edited in place: rows added and
   * removed, then saved together (OMERO.web's map annotation table). */
  function mapEditor(a) {
    const body = h("tbody");
    const row = ([key, value]) => {
      const line = h("tr", {},
        h("td", {}, h("input", {value: key, "aria-label": "Key", required: true})),
        h("td", {}, h("input", {value, "aria-label": `Value of ${key || "new key"}`})),
        h("td", {}, h("button", {type: "button", class: "chip-remove", "aria-label": `Remove the pair ${key}`,
          onclick: () => line.remove()}, "×")));
      return line;
    };
    fill(body, a.values.map(row));
    return h("form", {class: "map-editor", onsubmit: async (event) => {
      event.preventDefault();
      const values = [...body.querySelectorAll("tr")].map((line) =>
        [...line.querySelectorAll("input")].map((input) => input.value));
      if (!values.length) {
        await del(`/api/v1/annotations/${a.id}`);
      } else {
        await put(`/api/v1/annotations/${a.id}/values`, {values});
      }
      toast("Key-value pairs saved.");
      await drawAnnotations();
    }}, h("table", {class: "facts"}, body), h("div", {class: "buttons"},
      h("button", {type: "button", onclick: () => body.append(row(["", ""]))}, "Add a row"),
      h("button", {type: "submit"}, "Save pairs")));
  }

  function originalMetadata(pairs) {
    const body = h("tbody");
    const filter = h("input", {type: "search", placeholder: "Filter", "aria-label": "Filter original metadata",
      oninput: () => draw()});
    function draw() {
      const wanted = filter.value.toLowerCase();
      fill(body, pairs.filter(([k, v]) => `${k} ${v}`.toLowerCase().includes(wanted))
        .map(([k, v]) => h("tr", {}, h("th", {scope: "row"}, k), h("td", {}, v))));
    }
    draw();
    return h("details", {class: "original"}, h("summary", {}, `Original metadata (${pairs.length})`),
      filter, h("table", {class: "facts"}, body));
  }

  function adder(type, label, long = false) {
    const box = long ? h("textarea", {rows: 2, "aria-label": label, required: true})
      : h("input", {"aria-label": label, placeholder: label, required: true});
    return h("form", {class: "adder", onsubmit: async (event) => {
      event.preventDefault();
      await post(`/api/v1/images/${imageId}/annotations`, {type, text: box.value});
      await drawAnnotations();
    }}, box, h("button", {type: "submit"}, "Add"));
  }

  function mapAdder() {
    const key = h("input", {"aria-label": "Key", placeholder: "Key", required: true});
    const value = h("input", {"aria-label": "Value", placeholder: "Value"});
    return h("form", {class: "adder", onsubmit: async (event) => {
      event.preventDefault();
      await post(`/api/v1/images/${imageId}/annotations`, {type: "map", values: [[key.value, value.value]]});
      await drawAnnotations();
    }}, key, value, h("button", {type: "submit"}, "Add"));
  }

  function attacher() {
    const input = h("input", {type: "file", "aria-label": "Attach a file", onchange: async (event) => {
      const file = event.target.files[0];
      if (!file) return;
      try {
        await post(`/api/v1/images/${imageId}/attachments?name=${encodeURIComponent(file.name)}`, file);
      } catch (error) {
        toast(`Not attached: ${error.message}`, "error");
      }
      await drawAnnotations();
    }});
    return h("label", {class: "attach"}, "Attach a file ", input);
  }

  /** A form that moves the image (chgrp) or gives it away (chown) once the server's dry
   * run has said what goes with it, and the user agreed. */
  function graphChange(verb, field, choice, [ask, done, button]) {
    return h("form", {class: "adder", onsubmit: async (event) => {
      event.preventDefault();
      const target = choice.selectedOptions[0].textContent;
      const body = {[field]: Number(choice.value), targets: [`Image:${imageId}`]};
      const plan = await post(`/api/v1/${verb}`, {...body, dry_run: true});
      const what = Object.entries(plan.moved).filter(([, ids]) => ids.length)
        .map(([kind, ids]) => `${ids.length} ${kind}${ids.length === 1 ? "" : "s"}`).join(", ");
      const cut = Object.entries(plan.unlinked).filter(([, n]) => n).map(([kind, n]) => `${n} ${kind} link(s)`).join(", ");
      if (!confirm(`${ask} ${what} to ${target}?` + (cut ? ` This cuts ${cut}.` : ""))) return;
      await post(`/api/v1/${verb}`, body);
      toast(`${done} ${target}.`);
      go(`/?show=image-${imageId}`);
    }}, choice, h("button", {type: "submit"}, button));
  }

  async function moveGroup() {
    const groups = (await get("/api/v1/groups")).filter((g) => g.id !== about.group.id && me.group_ids.includes(g.id));
    if (!groups.length) return null;
    const choice = h("select", {"aria-label": "Group to move to"}, groups.map((g) => h("option", {value: g.id}, g.name)));
    return graphChange("chgrp", "group_id", choice, ["Move", "Moved to", "Move to group"]);
  }

  /** Giving the image to another member: administrators, and the group's owners. */
  async function giveAway() {
    if (!(me.is_admin || (me.owned_group_ids || []).includes(about.group.id))) return null;
    const members = (await get("/api/v1/users")).filter((u) => u.group_ids.includes(about.group.id) && u.id !== about.owner.id);
    if (!members.length) return null;
    const choice = h("select", {"aria-label": "New owner"}, members.map((u) => h("option", {value: u.id}, u.username)));
    return graphChange("chown", "user_id", choice, ["Give", "Given to", "Give to"]);
  }

  /** What goes with the image, asked of the server's dry run of the same delete; an
   * image of a fileset of several goes only with all of them, and the page says so. */
  async function remove() {
    let target = `Image:${imageId}`;
    let plan;
    try {
      plan = await post("/api/v1/delete", {target, dry_run: true});
    } catch (error) {
      if (!about.fileset || !/Fileset/.test(error.message)) throw error;
      target = `Fileset:${about.fileset.id}`;
      plan = await post("/api/v1/delete", {target, dry_run: true});
    }
    const parts = [`${plan.images.length} image${plan.images.length === 1 ? "" : "s"}`,
      plan.rois ? `${plan.rois} ROI${plan.rois === 1 ? "" : "s"}` : null,
      plan.annotations ? `${plan.annotations} annotation${plan.annotations === 1 ? "" : "s"} only they hold` : null,
      plan.original_files ? `${plan.original_files} original file${plan.original_files === 1 ? "" : "s"} (${bytes(plan.bytes)})` : null]
      .filter(Boolean).join(", ");
    if (!confirm(`Delete ${parts}? This cannot be undone.`)) return;
    await post("/api/v1/delete", {target});
    toast(`Deleted ${parts}.`);
    go(about.datasets.length ? `/?show=dataset-${about.datasets[0].id}` : "/");
  }

  /** The files the image was imported from, each downloadable (the session's cookie
   * goes with the link; no token is ever in the address). */
  async function originals() {
    if (!about.fileset) return null;
    const found = await get(`/api/v1/filesets/${about.fileset.id}/files`).catch(() => []);
    if (!found.length) return null;
    return h("details", {class: "original-files"},
      h("summary", {}, `Original files (${found.length}, ${bytes(found.reduce((sum, f) => sum + f.size, 0))})`),
      h("ul", {class: "files"}, found.map((f) => h("li", {},
        h("a", {href: `/api/v1/files/${f.id}`, download: f.name, title: f.client_path}, f.name),
        h("small", {}, ` ${bytes(f.size)}`)))));
  }

  fill(section, name, description, editor,
    rows([
      ["Owner", about.owner.username], ["Group", about.group.name],
      ["Acquired", about.acquisition_date ? new Date(about.acquisition_date).toLocaleString() : "—"],
      ["Imported", new Date(about.created_at).toLocaleString()],
      pixels && ["Dimensions", `${pixels.size_x} × ${pixels.size_y}, Z ${pixels.size_z}, C ${pixels.size_c}, T ${pixels.size_t}`],
      pixels && ["Pixel type", pixels.pixel_type],
      pixels && ["Pixel size", `${length(pixels.physical_size_x)} × ${length(pixels.physical_size_y)}` +
        (pixels.physical_size_z ? ` × ${length(pixels.physical_size_z)}` : "")],
      pixels && pixels.time_increment && ["Time step", `${pixels.time_increment.value} s`],
      about.fileset && ["Fileset", `${about.fileset.id} (${about.fileset.format})`],
      about.projects?.length && ["Projects", about.projects.map((p, i) => [i ? ", " : "", link(`/?show=project-${p.id}`, p.name)])],
      about.datasets.length && ["Datasets", about.datasets.map((d, i) => [i ? ", " : "", link(`/?show=dataset-${d.id}`, d.name)])],
      about.plate && ["Plate", [link(`/?show=plate-${about.plate.id}`, about.plate.name),
        ` well ${about.plate.row < 26 ? String.fromCharCode(65 + about.plate.row) : `${about.plate.row + 1}-`}${about.plate.column + 1}`]],
    ]),
    await originals(),
    h("h3", {}, "Channels"),
    h("ul", {class: "channels"}, about.channels.map((c) => h("li", {},
      h("span", {class: "swatch", "data-colour": c.color || ""}), c.name || `Channel ${c.index + 1}`,
      c.emission_wavelength ? h("small", {}, ` em ${c.emission_wavelength.value} nm`) : null))),
    annotations,
    about.owner.id === me.user_id || me.is_admin ? await moveGroup() : null,
    me.public ? null : await giveAway(),
    data.perms.canDelete ? h("div", {class: "buttons"}, h("button", {type: "button", class: "danger", onclick: remove}, "Delete image")) : null);
  section.querySelectorAll(".swatch").forEach((swatch) => {
    if (/^[0-9A-Fa-f]{6}/.test(swatch.dataset.colour)) swatch.style.background = `#${swatch.dataset.colour.slice(0, 6)}`;
  });
  await drawAnnotations();
  return section;
}
