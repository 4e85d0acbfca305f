// Your account: change your password (the server then ends your other sessions).

import {HttpError, put} from "./api.js";
import {fill, h, toast} from "./dom.js";

export function account(main, me) {
  const message = h("p", {class: "error", role: "alert"});
  const old = h("input", {type: "password", autocomplete: "current-password", required: true});
  const fresh = h("input", {type: "password", autocomplete: "new-password", required: true, minlength: 8});
  const again = h("input", {type: "password", autocomplete: "new-password", required: true});
  fill(main, h("form", {class: "login", onsubmit: async (event) => {
    event.preventDefault();
    fill(message);
    if (fresh.value !== again.value) {
      fill(message, "The new passwords differ.");
      return;
    }
    try {
      await put(`/api/v1/users/${me.user_id}/password`, {old_password: old.value, new_password: fresh.value});
      toast("Password changed; log in again with it.");
    } catch (error) {
      fill(message, error instanceof HttpError ? error.message : String(error));
    }
  }}, h("h1", {}, `${me.username}'s password`),
  h("label", {}, "Current password", old), h("label", {}, "New password", fresh),
  h("label", {}, "New password again", again), message,
  h("button", {type: "submit", class: "primary"}, "Change password")));
}
