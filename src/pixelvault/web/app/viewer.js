// Viewing one image: deep zoom over OMERO.web's tile URLs with OpenLayers (as
// OMERO.iviewer does), Z and T, channels and their windows, saved settings, the
// scale bar, the pixel under the cursor, and the side panels (details, annotations,
// ROIs).

import {get, post, query} from "./api.js";
import {fill, h, toast} from "./dom.js";
import {link} from "./nav.js";
import {detailsPanel} from "./details.js";
import {roiLayer} from "./rois.js";

const RETRIES = 3;

/** The rendering parameters of the tile URLs, as OMERO.web's webgateway reads them. */
export function renderQuery(state) {
  const channels = state.channels.map((c, index) =>
    `${c.active ? "" : "-"}${index + 1}|${c.window.start}:${c.window.end}$${c.color}`).join(",");
  const maps = JSON.stringify(state.channels.map((c) => ({inverted: {enabled: c.inverted}})));
  return {c: channels, m: state.model, maps, p: state.projection || null};
}

/** Settings copied from another image (OMERO's `c=` text) laid over the viewer's. */
export function pasted(state, text) {
  for (const part of String(text).split(",")) {
    const found = part.match(/^(-?)(\d+)(?:\|(-?[\d.]+):(-?[\d.]+))?(?:\$([0-9A-Za-z_.-]+))?$/);
    if (!found) continue;
    const channel = state.channels[Number(found[2]) - 1];
    if (!channel) continue;
    channel.active = found[1] !== "-";
    if (found[3] !== undefined) channel.window = {...channel.window, start: Number(found[3]), end: Number(found[4])};
    if (found[5]) channel.color = found[5];
  }
}

function scaleBar(element, micronsPerPixel) {
  const nice = [1, 2, 5];
  return (resolution) => {
    if (!micronsPerPixel) {
      fill(element);
      return;
    }
    const target = 120 * resolution * micronsPerPixel;  // µm in about 120 screen pixels
    const power = 10 ** Math.floor(Math.log10(target));
    const length = nice.map((n) => n * power).filter((n) => n <= target).pop() || power;
    const [value, unit] = length >= 1000 ? [length / 1000, "mm"] : length < 1 ? [length * 1000, "nm"] : [length, "µm"];
    const width = length / micronsPerPixel / resolution;
    fill(element, h("span", {class: "scale-line"}), `${Number(value.toPrecision(3))} ${unit}`);
    element.firstChild.style.width = `${Math.round(width)}px`;
  };
}

/** A tile, drawn onto a canvas of the grid's full tile size (an edge tile is smaller),
 * retried a few times before it shows as failed. */
function tileLoader(size, onFailure) {
  return function load(tile, src, attempt = 0) {
    const image = tile.getImage();
    fetch(src, {credentials: "same-origin"}).then(async (answer) => {
      if (answer.status === 401) {
        window.dispatchEvent(new CustomEvent("pv:signed-out"));
        throw new Error("signed out");
      }
      if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
      const bitmap = await createImageBitmap(await answer.blob());
      const canvas = document.createElement("canvas");
      [canvas.width, canvas.height] = size;
      canvas.getContext("2d").drawImage(bitmap, 0, 0);
      canvas.toBlob((blob) => {
        const url = URL.createObjectURL(blob);
        image.addEventListener("load", () => URL.revokeObjectURL(url), {once: true});
        image.src = url;
      });
    }).catch((error) => {
      if (attempt + 1 < RETRIES && error.message !== "signed out") {
        setTimeout(() => load(tile, src, attempt + 1), 300 * 2 ** attempt);
      } else {
        tile.setState(3);  // OpenLayers' TileState.ERROR
        onFailure(error);
      }
    });
  };
}

const READERS = {u1: "getUint8", i1: "getInt8", u2: "getUint16", i2: "getInt16", u4: "getUint32",
  i4: "getInt32", f4: "getFloat32", f8: "getFloat64", b1: "getUint8"};

/** One pixel's value as stored (not as rendered), read through the pixels API. */
async function pixelValue(imageId, x, y, z, c, t) {
  const answer = await fetch(`/api/v1/images/${imageId}/pixels?x=${x}&y=${y}&w=1&h=1&z=${z}&c=${c}&t=${t}&format=raw`,
    {credentials: "same-origin"});
  if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
  const dtype = answer.headers.get("X-Pixels-Dtype") || "<u1";
  const view = new DataView(await answer.arrayBuffer());
  const value = view[READERS[dtype.slice(1)] || "getUint8"](0, dtype[0] === "<");
  return Number.isInteger(value) ? String(value) : value.toPrecision(5);
}

/** The channel's histogram on the plane shown, with its window marked. */
function histogram(imageId, index, state, channel) {
  const canvas = h("canvas", {width: 256, height: 40, class: "histogram", "aria-label": `${channel.label} histogram`});
  let counts = [];
  let range = [0, 1];
  function paint() {
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, 256, 40);
    const top = Math.max(1, ...counts.map((n) => Math.log1p(n)));
    context.fillStyle = /^[0-9A-F]{6}$/i.test(channel.color) ? `#${channel.color}` : "#888";
    counts.forEach((n, x) => {
      const height = (Math.log1p(n) / top) * 40;
      context.fillRect(x * 256 / counts.length, 40 - height, Math.max(1, 256 / counts.length), height);
    });
    const span = range[1] - range[0] || 1;
    context.fillStyle = "rgba(127,127,127,0.35)";
    context.fillRect(0, 0, ((channel.window.start - range[0]) / span) * 256, 40);
    context.fillRect(((channel.window.end - range[0]) / span) * 256, 0, 256, 40);
  }
  async function load() {
    const found = await get(`/webgateway/histogram_json/${imageId}/channel/${index}/?theZ=${state.z}&theT=${state.t}&bins=128`);
    counts = found.data || [];
    range = [found.min ?? channel.window.min, found.max ?? channel.window.max];
    paint();
  }
  load().catch(() => canvas.remove());
  return {canvas, paint, load};
}

/** The rendering state an image opens with: its saved settings (or the defaults). */
export function initialState(data) {
  return {
    z: data.rdefs.defaultZ, t: data.rdefs.defaultT, model: data.rdefs.model === "greyscale" ? "g" : "c",
    channels: data.channels.map((c) => ({active: c.active, color: c.lut || c.color, label: c.label,
      inverted: Boolean(c.inverted), window: {...c.window}})),
  };
}

/** An OpenLayers map of the image's tiles, in the image's pixel coordinates (y down, as
 * negative numbers), rendered with ``state``; failed tiles are counted in ``status``
 * with a retry. The viewer and the side-by-side comparison both build on it. */
export function tiledMap(mapElement, imageId, data, state, status, fullScreen) {
  const ol = window.ol;
  const width = data.size.width;
  const height = data.size.height;
  const levels = data.levels;
  const tileSize = [data.tile_size.width, data.tile_size.height];
  const resolutions = [];
  for (let level = levels - 1; level >= 0; level -= 1) {
    resolutions.push(1 / data.zoomLevelScaling[String(level)]);
  }
  const extent = [0, -height, width, 0];
  const projection = new ol.proj.Projection({code: `pixelvault-image-${imageId}`, units: "pixels", extent});
  const grid = new ol.tilegrid.TileGrid({extent, origin: [0, 0], resolutions, tileSize});
  let failures = 0;
  const source = new ol.source.TileImage({
    projection, tileGrid: grid, transition: 0, crossOrigin: null,
    tileUrlFunction: ([zoom, x, y]) => {
      const level = levels - 1 - zoom;
      const size = data.resolutions[String(level)];
      const w = Math.min(tileSize[0], size.sizeX - x * tileSize[0]);
      const hgt = Math.min(tileSize[1], size.sizeY - y * tileSize[1]);
      if (w <= 0 || hgt <= 0) return undefined;
      return `/webgateway/render_image_region/${imageId}/${state.z}/${state.t}/${query({
        tile: `${level},${x},${y},${tileSize[0]},${tileSize[1]}`, ...renderQuery(state), format: "jpeg"})}`;
    },
    tileLoadFunction: tileLoader(tileSize, (error) => {
      failures += 1;
      fill(status, h("span", {class: "error"}, `${failures} tile(s) failed to load (${error.message}); `,
        h("button", {type: "button", onclick: () => { failures = 0; fill(status); source.refresh(); }}, "Retry")));
    }),
  });
  const view = new ol.View({projection, extent, constrainOnlyCenter: true, showFullExtent: true,
    resolutions: [...resolutions, 0.5, 0.25, 0.125, 0.0625, 0.03125], center: [width / 2, -height / 2]});
  const map = new ol.Map({target: mapElement, layers: [new ol.layer.Tile({source, preload: 1})], view,
    controls: ol.control.defaults.defaults({attribution: false, rotate: false}).extend([
      new ol.control.FullScreen({source: fullScreen})]),
    keyboardEventTarget: mapElement});
  return {map, view, source, extent};
}

export async function viewer(main, imageId, me) {
  const data = await get(`/webgateway/imgData/${imageId}/`);
  if (me.public) {  // a visitor reads; the server refuses every change
    data.perms = {canAnnotate: false, canEdit: false, canDelete: false, canLink: false};
  }
  const state = initialState(data);
  const width = data.size.width;
  const height = data.size.height;
  const mapElement = h("div", {class: "map", tabindex: "0", "aria-label": `Image ${data.meta.imageName}`});
  const status = h("div", {class: "map-status", role: "status"});
  const scale = h("div", {class: "scalebar", "aria-label": "Scale bar"});
  const cursor = h("div", {class: "cursor"});
  const {map, view, source, extent} = tiledMap(mapElement, imageId, data, state, status, main);
  const drawScale = scaleBar(scale, data.pixel_size.x);
  view.on("change:resolution", () => drawScale(view.getResolution()));
  let pointed = null;
  let asked = 0;
  map.on("pointermove", (event) => {
    const [x, y] = event.coordinate;
    clearTimeout(pointed);
    if (x < 0 || y > 0 || x >= width || -y >= height) {
      fill(cursor);
      return;
    }
    const [px, py] = [Math.floor(x), Math.floor(-y)];
    fill(cursor, `x ${px}, y ${py}`);
    pointed = setTimeout(async () => {
      const mine = ++asked;
      const values = await Promise.all(state.channels.slice(0, 8).map((channel, index) =>
        channel.active ? pixelValue(imageId, px, py, state.z, index, state.t)
          .then((value) => `${channel.label} ${value}`).catch(() => null) : null));
      if (mine !== asked) return;  // the pointer has moved on
      fill(cursor, `x ${px}, y ${py}`, values.filter(Boolean).map((v) => `, ${v}`));
    }, 150);
  });

  const rois = roiLayer(map, imageId, state, data, () => {
    syncPlanes();
    redraw();
  });

  let plane = `${state.z}/${state.t}`;  // the histograms load for it as they are made

  function redraw() {
    if (`${state.z}/${state.t}` !== plane) {
      plane = `${state.z}/${state.t}`;
      (histograms || []).forEach((chart) => chart.load().catch(() => {}));
    }
    source.setTileUrlFunction(source.getTileUrlFunction(), `${state.z}/${state.t}/${JSON.stringify(renderQuery(state))}`);
    rois.plane(state.z, state.t);
  }

  const planes = [];
  for (const [key, label, size] of [["z", "Z", data.size.z], ["t", "T", data.size.t]]) {
    if (size < 2) continue;
    const value = h("output", {}, `${state[key] + 1}/${size}`);
    const slider = h("input", {type: "range", min: 0, max: size - 1, value: state[key], "data-axis": key,
      "aria-label": `${label} plane`, oninput: (event) => {
        state[key] = Number(event.target.value);
        fill(value, `${state[key] + 1}/${size}`);
        redraw();
      }});
    let playing = null;
    const play = h("button", {type: "button", "aria-label": `Play through ${label}`, onclick: () => {
      if (playing) {
        clearInterval(playing);
        playing = null;
        fill(play, "▶");
        return;
      }
      fill(play, "⏸");
      playing = setInterval(() => {
        if (!mapElement.isConnected) {  // the view was left
          clearInterval(playing);
          return;
        }
        state[key] = (state[key] + 1) % size;
        slider.value = state[key];
        fill(value, `${state[key] + 1}/${size}`);
        redraw();
      }, 500);
    }}, "▶");
    const row = h("label", {class: "plane"}, label, slider, value, play);
    Object.assign(row, {slider, output: value, size});
    planes.push(row);
  }

  function syncPlanes() {
    for (const row of planes) {
      const axis = row.slider.dataset.axis;
      row.slider.value = state[axis];
      fill(row.output, `${state[axis] + 1}/${row.size}`);
    }
  }

  const luts = await get("/webgateway/luts/").then((found) => found.luts.map((l) => l.name)).catch(() => []);
  const histograms = [];
  const channelRows = state.channels.map((channel, index) => {
    const low = data.channels[index].window.min;
    const high = data.channels[index].window.max;
    const chart = histogram(imageId, index, state, channel);
    histograms.push(chart);
    const changed = () => {
      chart.paint();
      redraw();
    };
    const start = h("input", {type: "number", value: channel.window.start, step: "any",
      "aria-label": `${channel.label} window start`, onchange: (event) => {
        channel.window.start = Number(event.target.value);
        changed();
      }});
    const end = h("input", {type: "number", value: channel.window.end, step: "any",
      "aria-label": `${channel.label} window end`, onchange: (event) => {
        channel.window.end = Number(event.target.value);
        changed();
      }});
    const range = h("input", {type: "range", min: low, max: high, value: channel.window.end,
      step: high - low > 100 ? 1 : "any", "aria-label": `${channel.label} window end slider`,
      oninput: (event) => {
        channel.window.end = Number(event.target.value);
        end.value = channel.window.end;
        changed();
      }});
    const isLut = (colour) => /\.lut$/i.test(colour);
    const picker = h("input", {type: "color", value: isLut(channel.color) ? "#ffffff" : `#${channel.color}`,
      "aria-label": `${channel.label} colour`, onchange: (event) => {
        channel.color = event.target.value.slice(1).toUpperCase();
        table.value = "";
        changed();
      }});
    const table = h("select", {"aria-label": `${channel.label} lookup table`, onchange: (event) => {
      channel.color = event.target.value || picker.value.slice(1).toUpperCase();
      changed();
    }}, h("option", {value: ""}, "colour"), luts.map((name) => h("option", {value: name,
      selected: name === channel.color}, name.replace(/\.lut$/, ""))));
    const row = h("fieldset", {class: "channel"},
      h("legend", {}, h("label", {}, h("input", {type: "checkbox", checked: channel.active,
        "aria-label": `Show ${channel.label}`, onchange: (event) => {
          channel.active = event.target.checked;
          redraw();
        }}), ` ${index + 1}: ${channel.label}`)),
      h("div", {class: "inline"}, picker, table),
      chart.canvas,
      h("div", {class: "window"}, start, range, end),
      h("label", {class: "inline"}, h("input", {type: "checkbox", checked: channel.inverted, onchange: (event) => {
        channel.inverted = event.target.checked;
        redraw();
      }}), " Invert"));
    row.sync = () => {
      row.querySelector("input[type=checkbox]").checked = channel.active;
      start.value = channel.window.start;
      end.value = channel.window.end;
      range.value = channel.window.end;
      if (isLut(channel.color)) table.value = channel.color;
      else picker.value = `#${channel.color}`;
      chart.paint();
    };
    return row;
  });

  async function copy() {
    await get(`/webgateway/copyImgRDef/${query(renderQuery(state))}`);
    toast("Rendering settings copied; paste them on another image.");
  }

  async function paste() {
    const found = await get("/webgateway/getImgRDef/");
    if (!found.rdef) {
      toast("Nothing copied yet: copy an image's settings first.", "error");
      return;
    }
    pasted(state, found.rdef.c);
    if (found.rdef.m) state.model = found.rdef.m.startsWith("g") ? "g" : "c";
    channelRows.forEach((row) => row.sync());
    redraw();
    toast("Settings pasted; save them to keep them.");
  }

  async function save() {
    await post(`/webgateway/saveImgRDef/${imageId}/${query({...renderQuery(state), z: state.z + 1, t: state.t + 1})}`);
    toast("Rendering settings saved; the thumbnail follows them.");
  }

  const pending = data.levels_ready < data.levels
    ? h("p", {class: "pending", role: "status"}, `Building the pyramid: ${data.levels_ready} of ${data.levels} levels ready.`)
    : null;

  const rendering = h("section", {class: "panel-section", "aria-label": "Rendering"},
    h("h2", {}, "Rendering"), planes,
    h("label", {class: "inline"}, h("input", {type: "checkbox", checked: state.model === "g", onchange: (event) => {
      state.model = event.target.checked ? "g" : "c";
      redraw();
    }}), " Greyscale"),
    data.size.z > 1 ? h("label", {class: "inline"}, " Z-projection ", h("select", {"aria-label": "Z-projection",
      onchange: (event) => {
        state.projection = event.target.value;
        redraw();
      }}, [["", "none"], ["intmax", "maximum intensity"], ["intmean", "mean intensity"], ["intsum", "sum"]]
      .map(([value, label]) => h("option", {value}, label)))) : null,
    channelRows,
    h("div", {class: "buttons"},
      me.public ? null : h("button", {type: "button", class: "primary", onclick: save}, "Save settings"),
      h("button", {type: "button", onclick: () => viewer(main, imageId, me)}, "Undo changes"),
      me.public ? null : h("button", {type: "button", onclick: copy}, "Copy"),
      me.public ? null : h("button", {type: "button", onclick: paste}, "Paste")));

  const crumbsBar = h("nav", {class: "crumbs", "aria-label": "Breadcrumbs"}, h("ol", {},
    h("li", {}, link("/", "Home")),
    data.meta.projectId ? h("li", {}, link(`/?show=project-${data.meta.projectId}`, data.meta.projectName)) : null,
    data.meta.datasetId ? h("li", {}, link(`/?show=dataset-${data.meta.datasetId}`, data.meta.datasetName)) : null,
    h("li", {}, data.meta.imageName)));
  fill(main, h("div", {class: "viewer"},
    h("div", {class: "stage"}, crumbsBar, pending, mapElement, h("div", {class: "overlay"}, scale, cursor), status),
    h("aside", {class: "panel"}, rendering, rois.panel, await detailsPanel(imageId, data, me))));
  map.updateSize();
  view.fit(extent, {padding: [16, 16, 16, 16]});
  if (pending) watchPyramid(imageId, pending, source);
  drawScale(view.getResolution());
  redraw();
  mapElement.focus();
  mapElement.addEventListener("keydown", (event) => {
    const step = {PageUp: ["z", -1], PageDown: ["z", 1], "[": ["t", -1], "]": ["t", 1]}[event.key];
    if (step) {
      const [key, by] = step;
      const size = data.size[key];
      state[key] = Math.max(0, Math.min(size - 1, state[key] + by));
      syncPlanes();
      redraw();
      event.preventDefault();
    } else if (/^[1-9]$/.test(event.key) && Number(event.key) <= state.channels.length) {
      const channel = state.channels[Number(event.key) - 1];
      channel.active = !channel.active;
      channelRows[Number(event.key) - 1].sync();
      redraw();
    }
  });
  return map;
}

function watchPyramid(imageId, banner, source) {
  const timer = setInterval(async () => {
    if (!banner.isConnected) {
      clearInterval(timer);
      return;
    }
    try {
      const data = await get(`/webgateway/imgData/${imageId}/`);
      if (data.levels_ready >= data.levels) {
        clearInterval(timer);
        banner.remove();
        source.refresh();
      } else {
        fill(banner, `Building the pyramid: ${data.levels_ready} of ${data.levels} levels ready.`);
      }
    } catch {
      clearInterval(timer);
    }
  }, 2000);
}
