// Thumbnails load as they scroll into view, fetched in batches through OMERO.web's
// get_thumbnails (one request for up to 50 images) rather than one request each.

import {get} from "./api.js";

const BATCH = 50;

export function thumbnails(root, size = 96) {
  const waiting = new Map();
  let timer = null;
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      const id = entry.target.dataset.image;
      waiting.set(id, [...(waiting.get(id) || []), entry.target]);
    }
    clearTimeout(timer);
    timer = setTimeout(flush, 30);
  }, {rootMargin: "200px"});

  async function flush() {
    const ids = [...waiting.keys()];
    while (ids.length) {
      const batch = ids.splice(0, BATCH);
      const images = batch.map((id) => [id, waiting.get(id)]);
      batch.forEach((id) => waiting.delete(id));
      const search = new URLSearchParams(batch.map((id) => ["id", id]));
      try {
        const found = await get(`/webgateway/get_thumbnails/${size}/?${search}`);
        for (const [id, elements] of images) {
          for (const img of elements) {
            if (found[id]) img.src = found[id];
            else img.classList.add("missing");
          }
        }
      } catch {
        images.forEach(([, elements]) => elements.forEach((img) => img.classList.add("missing")));
      }
    }
  }

  root.querySelectorAll("img[data-image]").forEach((img) => observer.observe(img));
}
