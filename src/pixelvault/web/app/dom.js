// Building the page from data. Every string a user could have written goes in as
// text (a text node or an attribute value), never as markup: no innerHTML anywhere.

/** An element: `h("a", {href: "/?show=image-1", onclick: go}, "name", child...)`. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      element.className = value;
    } else if (key === "value" || key === "checked") {
      element[key] = value;
    } else {
      element.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replace what `element` holds. */
export function fill(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

/** A short message at the bottom of the screen. */
export function toast(text, kind = "info") {
  const box = document.getElementById("toast");
  fill(box, h("div", {class: `toast-${kind}`}, text));
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => fill(box), 5000);
}

export function bytes(count) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}
