// Moving between views without reloading the page. The application (main.js) draws
// the view the address names whenever it changes.

import {h} from "./dom.js";

/** Go to a view of the application (a local address only). */
export function go(address, {replace = false} = {}) {
  const url = new URL(address, location.origin);
  if (url.origin !== location.origin || url.pathname !== "/") {
    throw new Error(`not a view of this application: ${address}`);
  }
  history[replace ? "replaceState" : "pushState"](null, "", url.pathname + url.search);
  window.dispatchEvent(new CustomEvent("pv:navigate"));
}

/** A link to a view that is followed without reloading the page. */
export function link(address, ...children) {
  return h("a", {href: address, onclick: (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    go(address);
  }}, ...children);
}
