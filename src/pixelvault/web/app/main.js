// The application: who is signed in, the bar, and which view the address shows.
// Every view is a query on "/" (`?show=image-12`, `?view=search&q=dapi`), so the
// address can be bookmarked and shared, and the back button walks the views.

import {account} from "./account.js";
import {admin} from "./admin.js";
import {HttpError, get, post, put} from "./api.js";
import {fill, h, toast} from "./dom.js";
import {browse} from "./browse.js";
import {compare} from "./compare.js";
import {login} from "./login.js";
import {go, link} from "./nav.js";
import {completer, search} from "./search.js";
import {viewer} from "./viewer.js";

const main = document.getElementById("main");
const bar = document.getElementById("bar");
export const session = {me: null, groups: []};

async function whoami() {
  try {
    session.me = await get("/api/v1/whoami");
    session.groups = await get("/api/v1/groups").catch(() => []);
  } catch (error) {
    if (!(error instanceof HttpError) || error.status !== 401) throw error;
    session.me = null;
    session.groups = [];
  }
}

function drawBar() {
  const params = new URLSearchParams(location.search);
  const me = session.me;
  const searchBox = h("input", {type: "search", name: "q", placeholder: "Search (name:cells, tag:mitosis…)",
                                "aria-label": "Search", value: params.get("q") || ""});
  const groups = h("select", {"aria-label": "Group", onchange: async (event) => {
    await put("/api/v1/whoami/group", {group_id: Number(event.target.value)});
    await whoami();
    render();
  }}, session.groups.filter((g) => me && me.group_ids.includes(g.id)).map((g) =>
    h("option", {value: g.id, selected: me && g.id === me.group_id}, g.name)));
  fill(bar,
    link("/", h("span", {class: "brand"}, "pixelvault")),
    me ? h("form", {class: "search", role: "search", onsubmit: (event) => {
      event.preventDefault();
      go(`/?view=search&q=${encodeURIComponent(searchBox.value)}`);
    }}, searchBox, completer(searchBox)) : null,
    h("span", {class: "spacer"}),
    me && !me.public && session.groups.length ? groups : null,
    me && me.is_admin ? link("/?view=admin", "Administration") : null,
    me && !me.public ? link("/?view=account", h("span", {class: "who"}, me.username)) : null,
    me && !me.public ? h("button", {type: "button", onclick: logout}, "Log out") : null,
    me && me.public && params.get("view") !== "login"
      ? h("button", {type: "button", onclick: () => go("/?view=login")}, "Log in") : null);
}

async function logout() {
  try {
    await post("/api/v1/logout");
  } finally {
    session.me = null;
    fill(main);
    go("/", {replace: true});
  }
}

let rendering = 0;

export async function render() {
  const mine = ++rendering;
  const params = new URLSearchParams(location.search);
  try {
    await whoami();
    if (mine !== rendering) return;
    drawBar();
    if (!session.me || (session.me.public && params.get("view") === "login")) {
      login(main, () => go("/", {replace: true}));
      return;
    }
    // each view draws into a stage of its own: a newer view replaces it, and an older,
    // slower one then finishes out of sight
    const stage = h("div", {class: "view"});
    fill(main, stage);
    const show = params.get("show") || "";
    const [kind, id] = show.split("-");
    const several = show.split("|");
    if (params.get("view") === "admin") {
      await admin(stage, session.me);
    } else if (params.get("view") === "account" && !session.me.public) {
      account(stage, session.me);
    } else if (params.get("view") === "search") {
      await search(stage, params.get("q") || "", Number(params.get("page") || 1));
    } else if (several.length > 1 && several.every((part) => /^image-\d+$/.test(part))) {
      await compare(stage, several.map((part) => Number(part.slice("image-".length))));
    } else if (kind === "image" && /^\d+$/.test(id)) {
      await viewer(stage, Number(id), session.me);
    } else {
      await browse(stage, kind, /^\d+$/.test(id || "") ? Number(id) : null, session.me);
    }
  } catch (error) {
    if (mine !== rendering) return;
    if (error instanceof HttpError && error.status === 404) {
      fill(main, h("section", {class: "empty"}, h("h1", {}, "Not found"),
        h("p", {}, "There is nothing here that you may see."), link("/", "Back to your data")));
    } else if (error instanceof HttpError && error.status === 401) {
      login(main, () => render());
    } else {
      fill(main, h("section", {class: "empty"}, h("h1", {}, "Something went wrong"),
        h("p", {}, String(error.message || error))));
    }
  }
}

// A button's request that fails says why, rather than failing silently (a 401 has
// already sent the page back to the login).
window.addEventListener("unhandledrejection", (event) => {
  const error = event.reason;
  event.preventDefault();
  if (error instanceof HttpError && error.status === 401) return;
  toast(String(error?.message || error), "error");
});
window.addEventListener("popstate", () => render());
// a page restored from the back-forward cache asks the server again (after a logout,
// it shows the login, not what was on screen)
window.addEventListener("pageshow", (event) => { if (event.persisted) render(); });
window.addEventListener("pv:navigate", () => render());
window.addEventListener("pv:signed-out", () => {
  if (session.me) {
    session.me = null;
    toast("Your session has ended; log in again.", "error");
    fill(main);
    login(main, () => render());
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key === "/" && !["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName)) {
    const box = bar.querySelector("input[type=search]");
    if (box) {
      event.preventDefault();
      box.focus();
    }
  }
});
render();
