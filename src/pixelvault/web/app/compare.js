// Images side by side (`/?show=image-1|image-2`, OMERO's `show=` with several objects):
// each with its saved rendering, panned and zoomed together while "Synchronise" is on,
// and one Z and T for all (each image stops at its own last plane).

import {get} from "./api.js";
import {fill, h} from "./dom.js";
import {link} from "./nav.js";
import {initialState, renderQuery, tiledMap} from "./viewer.js";

export const MAX_COMPARED = 4;

export async function compare(main, imageIds) {
  const images = await Promise.all(imageIds.slice(0, MAX_COMPARED).map(async (imageId) => {
    const data = await get(`/webgateway/imgData/${imageId}/`);
    return {imageId, data, state: initialState(data)};
  }));
  const sync = h("input", {type: "checkbox", checked: true, "aria-label": "Synchronise navigation"});
  const panes = images.map((image) => {
    const mapElement = h("div", {class: "map", tabindex: "0", "aria-label": `Image ${image.data.meta.imageName}`});
    const status = h("div", {class: "map-status", role: "status"});
    image.pane = h("figure", {class: "compare-pane"},
      h("figcaption", {}, link(`/?show=image-${image.imageId}`, image.data.meta.imageName)),
      mapElement, status);
    Object.assign(image, tiledMap(mapElement, image.imageId, image.data, image.state, status, image.pane));
    image.element = mapElement;
    return image.pane;
  });

  // One Z and T for every image; an image with fewer planes shows its last.
  const planes = [];
  for (const [key, label] of [["z", "Z"], ["t", "T"]]) {
    const size = Math.max(...images.map((image) => image.data.size[key]));
    if (size < 2) continue;
    const start = images[0].state[key];  // the first image's saved plane, for all
    for (const image of images) image.state[key] = Math.min(start, image.data.size[key] - 1);
    const output = h("output", {}, `${start + 1}/${size}`);
    planes.push(h("label", {class: "plane"}, label, h("input", {type: "range", min: 0, max: size - 1, value: start,
      "aria-label": `${label} plane of every image`, oninput: (event) => {
        const value = Number(event.target.value);
        fill(output, `${value + 1}/${size}`);
        for (const image of images) {
          image.state[key] = Math.min(value, image.data.size[key] - 1);
          redraw(image);
        }
      }}), output));
  }

  fill(main, h("div", {class: "compare"},
    h("div", {class: "toolbar"}, h("h1", {}, `${images.length} images side by side`),
      h("label", {class: "inline"}, sync, " Synchronise"), planes),
    h("div", {class: `compare-grid compare-${images.length}`}, panes)));

  // Navigation in one is laid over the others in relative terms (the same fraction of
  // the width and height at the same share of the image), so images of different
  // sizes still show the same region.
  let following = false;
  function follow(leader) {
    if (following || !sync.checked) return;
    following = true;
    const [x, y] = leader.view.getCenter();
    const {width, height} = leader.data.size;
    const fraction = [x / width, y / height];
    const share = leader.view.getResolution() / width;
    for (const image of images) {
      if (image === leader) continue;
      image.view.setCenter([fraction[0] * image.data.size.width, fraction[1] * image.data.size.height]);
      image.view.setResolution(share * image.data.size.width);
    }
    following = false;
  }
  for (const image of images) {
    image.map.updateSize();
    image.view.fit(image.extent, {padding: [8, 8, 8, 8]});
    image.view.on(["change:center", "change:resolution"], () => follow(image));
    redraw(image);
  }
  return images.map((image) => image.map);
}

function redraw(image) {
  image.source.setTileUrlFunction(image.source.getTileUrlFunction(),
    `${image.state.z}/${image.state.t}/${JSON.stringify(renderQuery(image.state))}`);
}
