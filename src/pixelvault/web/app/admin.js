// Administration: the repository's health (what /health says: the share, the catalog,
// free space against its thresholds, the lock, the search index's lag), users and
// groups with their members, pyramid jobs with a retry, and disk usage.

import {del, get, patch, post} from "./api.js";
import {bytes, fill, h, toast} from "./dom.js";

const LEVELS = ["private", "read-only", "read-annotate", "read-write"];
const LEVEL_CODES = {"private": "rw----", "read-only": "rwr---", "read-annotate": "rwra--", "read-write": "rwrw--"};

function table(head, rows) {
  return h("table", {class: "listing"}, h("thead", {}, h("tr", {}, head.map((name) => h("th", {scope: "col"}, name)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell ?? ""))))));
}

function state(text) {
  return h("span", {class: `state state-${String(text).replace(/[^a-z-]/gi, "")}`}, String(text));
}

async function healthSection() {
  const answer = await fetch("/health", {credentials: "same-origin"});
  const health = await answer.json();
  const space = health.free_space;
  const used = space ? 1 - space.free_bytes / space.total_bytes : 0;
  return h("section", {class: "admin-section", "aria-label": "Health"},
    h("h2", {}, "Health ", state(health.status)),
    table(["part", "state", "detail"], [
      ["repository", state(health.repository.state), health.repository.problem || health.repository.data_dir],
      ["catalog", state(health.catalog.state), health.catalog.problem || ""],
      ["lock", state(health.lock.current ? "ok" : "lost"),
        `${health.lock.mode} lock held by process ${health.lock.holder_pid} on ${health.lock.holder_host}`],
      ["search index", state(health.search?.state || "off"),
        health.search ? `${health.search.documents} documents, ${health.search.lag} events behind` : ""],
    ]),
    space ? h("div", {class: "space"},
      h("meter", {min: 0, max: 1, low: 1 - space.warn_below_bytes / space.total_bytes,
        high: 1 - space.critical_below_bytes / space.total_bytes, optimum: 0, value: used,
        "aria-label": "Disk used"}),
      ` ${bytes(space.free_bytes)} free of ${bytes(space.total_bytes)}; warning below ${bytes(space.warn_below_bytes)}, ` +
      `writes refused below ${bytes(space.critical_below_bytes)}`) : null);
}

async function usersSection(redraw) {
  const [users, groups] = await Promise.all([get("/api/v1/users"), get("/api/v1/groups")]);
  const names = new Map(groups.map((g) => [g.id, g.name]));
  const username = h("input", {"aria-label": "New user's username", placeholder: "username", required: true});
  const first = h("input", {"aria-label": "First name", placeholder: "first name"});
  const last = h("input", {"aria-label": "Last name", placeholder: "last name"});
  const password = h("input", {type: "password", "aria-label": "Password", placeholder: "password",
    autocomplete: "new-password", required: true});
  const group = h("select", {"aria-label": "Group"}, groups.map((g) => h("option", {value: g.id}, g.name)));
  const groupName = h("input", {"aria-label": "New group's name", placeholder: "group name", required: true});
  const level = h("select", {"aria-label": "Permissions"}, LEVELS.map((l) => h("option", {value: l}, l)));
  const memberGroup = h("select", {"aria-label": "Group to add to"}, groups.map((g) => h("option", {value: g.id}, g.name)));
  return h("section", {class: "admin-section", "aria-label": "Users and groups"},
    h("h2", {}, "Users"),
    table(["username", "name", "email", "administrator", "groups", ""], users.map((u) => [
      u.username, `${u.first_name} ${u.last_name}`.trim(), u.email, u.is_admin ? "yes" : "",
      h("span", {class: "chips"}, u.group_ids.map((id) => h("span", {class: "chip"}, names.get(id) || String(id),
        h("button", {type: "button", class: "chip-remove", "aria-label": `Remove ${u.username} from ${names.get(id) || id}`,
          onclick: async () => {
            await del(`/api/v1/groups/${id}/members/${u.id}`);
            toast(`${u.username} left ${names.get(id) || id}.`);
            redraw();
          }}, "×"))),
        h("span", {class: "inline"}, h("button", {type: "button", class: "link", onclick: async () => {
          await post(`/api/v1/groups/${memberGroup.value}/members`, {user_id: u.id});
          toast(`${u.username} joined ${names.get(Number(memberGroup.value))}.`);
          redraw();
        }}, "add to the group chosen below"))),
      h("button", {type: "button", "aria-label": `Edit ${u.username}`, onclick: (event) => {
        event.target.closest("tr").after(userEditor(u, redraw));
        event.target.disabled = true;
      }}, "Edit"),
    ])),
    h("p", {class: "inline"}, "Group to add users to: ", memberGroup),
    h("form", {class: "adder", onsubmit: async (event) => {
      event.preventDefault();
      await post("/api/v1/users", {username: username.value, first_name: first.value, last_name: last.value,
        password: password.value, groups: [Number(group.value)]});
      toast(`User ${username.value} created.`);
      redraw();
    }}, username, first, last, password, group, h("button", {type: "submit"}, "Create user")),
    h("h2", {}, "Groups"),
    table(["name", "permissions", "members", "description"], groups.map((g) => [
      g.name, levelPicker(g, redraw), String(users.filter((u) => u.group_ids.includes(g.id)).length),
      descriptionEditor(g, redraw)])),
    h("form", {class: "adder", onsubmit: async (event) => {
      event.preventDefault();
      await post("/api/v1/groups", {name: groupName.value, type: level.value});
      toast(`Group ${groupName.value} created.`);
      redraw();
    }}, groupName, level, h("button", {type: "submit"}, "Create group")));
}

/** A row under the user's, to change their names, address and administrator flag. */
function userEditor(user, redraw) {
  const first = h("input", {"aria-label": `${user.username}'s first name`, value: user.first_name});
  const last = h("input", {"aria-label": `${user.username}'s last name`, value: user.last_name});
  const email = h("input", {type: "email", "aria-label": `${user.username}'s email`, value: user.email});
  const isAdmin = h("input", {type: "checkbox", checked: user.is_admin, "aria-label": `${user.username} is an administrator`});
  return h("tr", {class: "editor"}, h("td", {colspan: 6}, h("form", {class: "adder", onsubmit: async (event) => {
    event.preventDefault();
    await patch(`/api/v1/users/${user.id}`, {first_name: first.value, last_name: last.value,
      email: email.value, admin: isAdmin.checked});
    toast(`${user.username} saved.`);
    redraw();
  }}, first, last, email, h("label", {class: "inline"}, isAdmin, " administrator"),
  h("button", {type: "submit", class: "primary"}, "Save"),
  h("button", {type: "button", onclick: () => redraw()}, "Cancel"))));
}

/** A group's permission level, changed in place: the server refuses to make a group
 * private while links join its members' data, and the toast says so. */
function levelPicker(group, redraw) {
  const builtIn = ["system", "user"].includes(group.name);
  const current = LEVELS.find((name) => LEVEL_CODES[name] === group.permissions) || group.permissions;
  return h("select", {"aria-label": `Permission level of ${group.name}`, disabled: builtIn, onchange: async (event) => {
    const chosen = event.target.value;
    if (!confirm(`Make ${group.name} ${chosen}? Members' rights on each other's data change at once.`)) {
      event.target.value = current;
      return;
    }
    try {
      await patch(`/api/v1/groups/${group.id}`, {type: chosen});
      toast(`${group.name} is ${chosen} now.`);
    } catch (error) {
      toast(`Not changed: ${error.message}`, "error");
    }
    redraw();
  }}, LEVELS.map((name) => h("option", {value: name, selected: name === current}, name)));
}

function descriptionEditor(group, redraw) {
  const box = h("input", {"aria-label": `${group.name} description`, value: group.description,
    placeholder: "description"});
  return h("form", {class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    await patch(`/api/v1/groups/${group.id}`, {description: box.value});
    toast(`${group.name}'s description saved.`);
    redraw();
  }}, box, h("button", {type: "submit", "aria-label": `Save ${group.name} description`}, "Save"));
}

/** Data already on a disk the server reads is imported in place, without a copy: from
 * the command line, as an administrator (a browser cannot name the server's paths). */
function inPlaceSection() {
  const origin = location.origin;
  const lines = [
    `pixelvault login -s ${origin} -u root`,
    "pixelvault import /mnt/scope/run42 --transfer ln_s --dataset \"Run 42\"",
    "pixelvault import /mnt/scope/run43 --local --user alice --transfer ln    # hard links, for alice",
  ];
  return h("section", {class: "admin-section", "aria-label": "In-place import"},
    h("h2", {}, "In-place import"),
    h("p", {}, "Files already on a disk or share this server reads are imported where they are, " +
      "without a copy: symbolic links (ln_s), hard links on the same file system (ln), or a copy " +
      "(cp); cp_rm and ln_rm remove the source after a checked import. Run on the server's host:"),
    h("pre", {class: "commands"}, lines.join("\n")),
    h("p", {class: "muted"}, "The files must stay where they are (ln_s): `pixelvault admin diagnostics` " +
      "reports links whose targets went missing. Browsers upload with drag and drop on a dataset instead."));
}

async function jobsSection(redraw) {
  const jobs = await get("/api/v1/jobs");
  return h("section", {class: "admin-section", "aria-label": "Jobs"},
    h("h2", {}, "Pyramid jobs"),
    jobs.length ? table(["job", "image", "state", "progress", "attempts", "reason", ""], jobs.map((j) => [
      String(j.id), j.name || String(j.image), state(j.state),
      h("progress", {max: 1, value: j.progress, "aria-label": `Job ${j.id} progress`}), String(j.attempts), j.reason || "",
      j.state === "failed" ? h("button", {type: "button", onclick: async () => {
        await post(`/api/v1/jobs/${j.id}/retry`);
        redraw();
      }}, "Retry") : null])) : h("p", {class: "muted"}, "No pyramid jobs."));
}

async function usageSection() {
  const [byUser, byGroup] = await Promise.all([get("/api/v1/usage?sum_by=user"), get("/api/v1/usage?sum_by=group")]);
  const rows = (found) => found.map((u) => [u.key, String(u.files), bytes(u.bytes), u.linked ? bytes(u.linked) : ""]);
  return h("section", {class: "admin-section", "aria-label": "Disk usage"},
    h("h2", {}, "Disk usage"),
    h("div", {class: "columns"},
      table(["user", "files", "on disk", "linked in place"], rows(byUser)),
      table(["group", "files", "on disk", "linked in place"], rows(byGroup))));
}

export async function admin(main, me) {
  if (!me.is_admin) {
    fill(main, h("section", {class: "empty"}, h("h1", {}, "Administrators only"),
      h("p", {}, "Ask an administrator of this server.")));
    return;
  }
  const page = h("div", {class: "admin-page"}, h("h1", {}, "Administration"));
  const redraw = () => admin(main, me);
  const parts = await Promise.all([healthSection(), usersSection(redraw), jobsSection(redraw), usageSection()]);
  parts.push(inPlaceSection());
  page.append(...parts);
  fill(main, page);
}
