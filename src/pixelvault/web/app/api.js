// The server's JSON APIs, as the signed-in browser calls them: the session travels in
// its HttpOnly cookie, and every change echoes the csrftoken cookie in X-CSRFToken.

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function csrf() {
  const found = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]*)/);
  return found ? decodeURIComponent(found[1]) : "";
}

export async function request(method, url, body) {
  const headers = {Accept: "application/json"};
  let payload;
  if (method !== "GET") headers["X-CSRFToken"] = csrf();
  if (body instanceof FormData || body instanceof URLSearchParams || body instanceof Blob) {
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const answer = await fetch(url, {method, headers, body: payload, credentials: "same-origin"});
  if (answer.status === 401 && !url.endsWith("/login")) {
    window.dispatchEvent(new CustomEvent("pv:signed-out"));
  }
  if (!answer.ok) {
    let message = `${answer.status} ${answer.statusText}`;
    try {
      message = (await answer.json()).message || message;
    } catch {
      // not JSON: the status says it
    }
    throw new HttpError(answer.status, message);
  }
  if (answer.status === 204) return null;
  return answer.json();
}

export const get = (url) => request("GET", url);
export const post = (url, body) => request("POST", url, body);
export const put = (url, body) => request("PUT", url, body);
export const patch = (url, body) => request("PATCH", url, body);
export const del = (url) => request("DELETE", url);

/** Query strings from an object (values encoded). */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
