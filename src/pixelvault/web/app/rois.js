// An image's ROIs over it: the shapes of the plane shown (a shape on no plane is on
// every one), listed in the side panel, drawn with the mouse and saved the way
// OMERO.iviewer saves them (persist_rois), removed, and exchanged as GeoJSON.

import {del, get, post} from "./api.js";
import {fill, h, toast} from "./dom.js";

const PAGE = 500;
const OME = "http://www.openmicroscopy.org/Schemas/OME/2016-06#";
const TOOLS = [["Rectangle", "Circle"], ["Ellipse", "Circle"], ["Point", "Point"],
  ["Line", "LineString"], ["Polyline", "LineString"], ["Polygon", "Polygon"], ["Label", "Point"]];

function colour(signed, fallback) {
  if (signed === undefined || signed === null) return fallback;
  const value = signed >>> 0;
  const [r, g, b, a] = [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
  return `rgba(${r},${g},${b},${(a / 255).toFixed(3)})`;
}

function points(text) {
  return text.trim().split(/\s+/).map((pair) => {
    const [x, y] = pair.split(",").map(Number);
    return [x, -y];
  });
}

/** OpenLayers geometry of an omero-marshal shape (pixel y grows downwards; the map's up). */
function geometryOf(shape) {
  const ol = window.ol;
  const kind = shape["@type"].split("#")[1];
  switch (kind) {
    case "Rectangle":
      return new ol.geom.Polygon([[[shape.X, -shape.Y], [shape.X + shape.Width, -shape.Y],
        [shape.X + shape.Width, -shape.Y - shape.Height], [shape.X, -shape.Y - shape.Height], [shape.X, -shape.Y]]]);
    case "Ellipse": {
      const ring = [];
      for (let step = 0; step <= 64; step += 1) {
        const angle = (step / 64) * 2 * Math.PI;
        ring.push([shape.X + shape.RadiusX * Math.cos(angle), -shape.Y - shape.RadiusY * Math.sin(angle)]);
      }
      return new ol.geom.Polygon([ring]);
    }
    case "Point": case "Label":
      return new ol.geom.Point([shape.X, -shape.Y]);
    case "Line":
      return new ol.geom.LineString([[shape.X1, -shape.Y1], [shape.X2, -shape.Y2]]);
    case "Polyline":
      return new ol.geom.LineString(points(shape.Points));
    case "Polygon":
      return new ol.geom.Polygon([[...points(shape.Points), points(shape.Points)[0]]]);
    case "Mask":
      return new ol.geom.Polygon([[[shape.X, -shape.Y], [shape.X + shape.Width, -shape.Y],
        [shape.X + shape.Width, -shape.Y - shape.Height], [shape.X, -shape.Y - shape.Height], [shape.X, -shape.Y]]]);
    default:
      return null;
  }
}

function kindOf(shape) {
  return shape["@type"].split("#")[1];
}

function styleOf(shape, selected) {
  const ol = window.ol;
  const stroke = new ol.style.Stroke({color: selected ? "#00e5ff" : colour(shape.StrokeColor, "#ffd400"),
    width: selected ? 3 : Math.max(1, shape.StrokeWidth?.Value || 1)});
  const fillStyle = new ol.style.Fill({color: colour(shape.FillColor, "rgba(0,0,0,0)")});
  return new ol.style.Style({stroke, fill: fillStyle,
    image: new ol.style.Circle({radius: 5, stroke, fill: new ol.style.Fill({color: "rgba(255,212,0,0.4)"})}),
    text: shape.Text ? new ol.style.Text({text: shape.Text, fill: new ol.style.Fill({color: "#fff"}),
      stroke: new ol.style.Stroke({color: "#000", width: 3}), offsetY: -12}) : undefined});
}

/** The omero-marshal shape of a drawn geometry. */
function shapeOf(tool, geometry, z, t) {
  const plane = {TheZ: z, TheT: t};
  const extent = geometry.getExtent();
  if (tool === "Rectangle" || tool === "Ellipse") {
    const [x0, y0, x1, y1] = extent;
    return tool === "Rectangle"
      ? {"@type": `${OME}Rectangle`, X: x0, Y: -y1, Width: x1 - x0, Height: y1 - y0, ...plane}
      : {"@type": `${OME}Ellipse`, X: (x0 + x1) / 2, Y: -(y0 + y1) / 2, RadiusX: (x1 - x0) / 2,
        RadiusY: (y1 - y0) / 2, ...plane};
  }
  const coords = geometry.getCoordinates();
  const text = (list) => list.map(([x, y]) => `${x},${-y}`).join(" ");
  switch (tool) {
    case "Point": return {"@type": `${OME}Point`, X: coords[0], Y: -coords[1], ...plane};
    case "Label": return {"@type": `${OME}Label`, X: coords[0], Y: -coords[1], Text: "label", ...plane};
    case "Line": return {"@type": `${OME}Line`, X1: coords[0][0], Y1: -coords[0][1],
      X2: coords.at(-1)[0], Y2: -coords.at(-1)[1], ...plane};
    case "Polyline": return {"@type": `${OME}Polyline`, Points: text(coords), ...plane};
    default: return {"@type": `${OME}Polygon`, Points: text(coords[0].slice(0, -1)), ...plane};
  }
}

export function roiLayer(map, imageId, state, data, planeChanged) {
  const ol = window.ol;
  const source = new ol.source.Vector();
  const layer = new ol.layer.Vector({source, style: (feature) => styleOf(feature.get("shape"), feature.get("selected"))});
  map.addLayer(layer);
  let all = [];
  let draw = null;
  let selected = null;
  const list = h("ul", {class: "roi-list"});
  const total = h("span", {class: "muted"});
  const tools = h("div", {class: "tools", role: "toolbar", "aria-label": "Draw a shape"},
    TOOLS.map(([tool]) => h("button", {type: "button", "aria-pressed": "false", "data-tool": tool,
      title: `Draw a ${tool.toLowerCase()}`, onclick: () => start(tool)}, tool)));

  function onPlane(shape) {
    return (shape.TheZ === undefined || shape.TheZ === state.z) && (shape.TheT === undefined || shape.TheT === state.t);
  }

  function show() {
    source.clear();
    for (const roi of all) {
      for (const shape of roi.shapes) {
        if (!onPlane(shape)) continue;
        const geometry = geometryOf(shape);
        if (geometry) {
          source.addFeature(new ol.Feature({geometry, shape, roi: roi["@id"], selected: roi["@id"] === selected}));
        }
      }
    }
    fill(list, all.map((roi) => h("li", {class: roi["@id"] === selected ? "selected" : ""},
      h("button", {type: "button", class: "link", onclick: () => select(roi)},
        `ROI ${roi["@id"]}${roi.Name ? `: ${roi.Name}` : ""}`,
        h("small", {}, ` ${roi.shapes.map((s) => s["@type"].split("#")[1]).join(", ")}`)),
      roi["omero:details"].permissions.canDelete
        ? h("button", {type: "button", class: "danger", "aria-label": `Delete ROI ${roi["@id"]}`,
          onclick: () => remove(roi)}, "Delete") : null)));
    fill(total, more.hidden ? `${all.length} ROI${all.length === 1 ? "" : "s"}` : `${all.length} shown`);
  }

  let editing = [];

  /** The selected ROI's shapes move with the mouse (and the vertices of lines and
   * polygons); each change is saved as OMERO.iviewer saves a modified shape. */
  function edit(roi) {
    editing.forEach((interaction) => map.removeInteraction(interaction));
    editing = [];
    const features = new ol.Collection(source.getFeatures().filter((f) => f.get("roi") === roi["@id"] &&
      f.get("shape")["omero:details"]?.permissions?.canEdit && kindOf(f.get("shape")) !== "Mask"));
    if (!features.getLength()) return;
    const save = async (event) => {
      const modified = event.features.getArray().map((feature) => {
        const shape = feature.get("shape");
        const kind = kindOf(shape);
        const moved = shapeOf(kind, feature.getGeometry(), shape.TheZ, shape.TheT);
        return {...shape, ...moved, "@id": shape["@id"], oldId: `${roi["@id"]}:${shape["@id"]}`,
          TheZ: shape.TheZ, TheT: shape.TheT, Text: shape.Text};
      });
      try {
        const answer = await post("/iviewer/persist_rois/", {imageId, rois: {modified}});
        if (answer.errors) throw new Error(answer.errors.join("; "));
        toast("Shape saved.");
      } catch (error) {
        toast(`The change was not saved: ${error.message}`, "error");
      }
      await load();
    };
    const translate = new ol.interaction.Translate({features});
    translate.on("translateend", save);
    const reshapable = new ol.Collection(features.getArray().filter((f) =>
      ["Polygon", "Polyline", "Line"].includes(kindOf(f.get("shape")))));
    const modify = new ol.interaction.Modify({features: reshapable});
    modify.on("modifyend", save);
    editing = [translate, modify];
    editing.forEach((interaction) => map.addInteraction(interaction));
  }

  function select(roi) {
    selected = roi["@id"];
    const shape = roi.shapes[0];
    if (!shape) return;
    if (shape.TheZ !== undefined || shape.TheT !== undefined) {
      state.z = shape.TheZ ?? state.z;
      state.t = shape.TheT ?? state.t;
      planeChanged();
    }
    show();
    edit(roi);
    const geometry = geometryOf(shape);
    if (geometry) map.getView().fit(geometry.getExtent(), {maxZoom: map.getView().getZoom(), padding: [80, 80, 80, 80]});
  }

  // ROIs come a page at a time: an image with thousands shows the first page at once
  let loads = 0;  // a reload makes pages asked for before it stale
  const more = h("button", {type: "button", class: "link", hidden: true, onclick: async () => {
    const mine = loads;
    more.disabled = true;
    const next = await get(`/api/v0/m/rois/?image=${imageId}&limit=${PAGE}&offset=${all.length}`)
      .finally(() => { more.disabled = false; });
    if (mine !== loads) return;
    all = [...all, ...next.data];
    counted(next.meta?.totalCount ?? all.length);
    show();
  }});

  function counted(count) {
    more.hidden = all.length >= count;
    fill(more, `Show more ROIs (${count - all.length} left)`);
  }

  async function load() {
    const mine = ++loads;
    const found = await get(`/api/v0/m/rois/?image=${imageId}&limit=${PAGE}`);
    if (mine !== loads) return;
    all = found.data;
    counted(found.meta?.totalCount ?? all.length);
    show();
    const chosen = all.find((roi) => roi["@id"] === selected);
    if (chosen) edit(chosen);
  }

  async function remove(roi) {
    if (!confirm(`Delete ROI ${roi["@id"]} and its ${roi.shapes.length} shape(s)?`)) return;
    await del(`/api/v0/m/rois/${roi["@id"]}/`);
    await load();
  }

  function start(tool) {
    if (draw) map.removeInteraction(draw);
    const active = draw && draw.tool === tool;
    tools.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(!active && b.dataset.tool === tool)));
    draw = null;
    if (active) return;
    const [, type] = TOOLS.find(([name]) => name === tool);
    draw = new ol.interaction.Draw({type, maxPoints: tool === "Line" ? 2 : undefined,
      geometryFunction: tool === "Rectangle" || tool === "Ellipse" ? ol.interaction.Draw.createBox() : undefined});
    draw.tool = tool;
    draw.on("drawend", async (event) => {
      const shape = shapeOf(tool, event.feature.getGeometry(), state.z, state.t);
      try {
        const answer = await post("/iviewer/persist_rois/", {imageId, rois: {new: [{...shape, oldId: "-1:-1"}]}});
        if (answer.errors) throw new Error(answer.errors.join("; "));
        toast(`${tool} saved.`);
      } catch (error) {
        toast(`The ${tool.toLowerCase()} was not saved: ${error.message}`, "error");
      }
      await load();
    });
    map.addInteraction(draw);
  }

  const fileInput = h("input", {type: "file", accept: ".geojson,.json,application/geo+json", hidden: true,
    onchange: async (event) => {
      const file = event.target.files[0];
      if (!file) return;
      try {
        const answer = await post(`/api/v1/images/${imageId}/rois.geojson`, file);
        toast(`${answer.rois ?? "The"} ROIs imported.`);
      } catch (error) {
        toast(`The GeoJSON was not imported: ${error.message}`, "error");
      }
      event.target.value = "";
      await load();
    }});
  const canAnnotate = data.perms.canAnnotate;
  const panel = h("section", {class: "panel-section", "aria-label": "ROIs"},
    h("h2", {}, "ROIs ", total), canAnnotate ? tools : null, list, more,
    h("div", {class: "buttons"},
      h("a", {href: `/api/v1/images/${imageId}/rois.geojson`, download: `image-${imageId}.geojson`}, "Export GeoJSON"),
      canAnnotate ? h("button", {type: "button", onclick: () => fileInput.click()}, "Import GeoJSON") : null,
      fileInput));
  load().catch((error) => toast(`ROIs could not be loaded: ${error.message}`, "error"));
  return {panel, plane: () => show(), reload: load};
}
