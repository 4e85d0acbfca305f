// Signing in: the server sets the session cookie; no token is kept by the page.

import {HttpError, post} from "./api.js";
import {fill, h} from "./dom.js";

export function login(main, done) {
  const message = h("p", {class: "error", role: "alert"});
  const username = h("input", {name: "username", autocomplete: "username", required: true});
  const password = h("input", {name: "password", type: "password", autocomplete: "current-password",
                               required: true});
  const form = h("form", {class: "login", onsubmit: async (event) => {
    event.preventDefault();
    fill(message);
    try {
      await post("/api/v1/login", {username: username.value, password: password.value});
      done();
    } catch (error) {
      fill(message, error instanceof HttpError && error.status === 401
        ? "Wrong username or password." : String(error.message || error));
      password.select();
    }
  }},
  h("h1", {}, "Log in to pixelvault"),
  h("label", {}, "Username", username),
  h("label", {}, "Password", password),
  message,
  h("button", {type: "submit", class: "primary"}, "Log in"));
  fill(main, form);
  username.focus();
}
