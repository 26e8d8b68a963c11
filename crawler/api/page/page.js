// The privacy tester's page: file a request, follow it, check its receipt's Ed25519 signature, see the answer.
// Plain JavaScript, no library, nothing fetched from anywhere but this server. The token is kept in memory only.
"use strict";

const FINAL = new Set(["completed", "refused"]);
const $ = (id) => document.getElementById(id);
let current = null; // {id, token}
let polling = null;

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
  if (message) {
    box.setAttribute("tabindex", "-1");
    box.focus();
  }
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (current && options.auth !== false) headers.Authorization = "Bearer " + current.token;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (!response.ok) {
    let message = `the server answered ${response.status}`;
    try {
      const body = await response.json();
      if (body && body.error) message = body.error.message;
    } catch (ignored) { /* not JSON */ }
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  return response;
}

function lines(text) {
  return text.split(/\s+/).map((s) => s.trim()).filter(Boolean);
}

function syncOptout() {
  const deletion = $("kind-deletion").checked;
  $("optout").disabled = !deletion;
  if (!deletion) $("optout").checked = false;
}

async function submitRequest(event) {
  event.preventDefault();
  showError("");
  const form = new FormData();
  const kind = $("kind-deletion").checked ? "deletion" : "access";
  form.append("kind", kind);
  for (const file of $("photo").files) form.append("photo", file, file.name);
  for (const url of lines($("urls").value)) form.append("url", url);
  for (const url of lines($("page-urls").value)) form.append("page_url", url);
  if ($("jurisdiction").value.trim()) form.append("jurisdiction", $("jurisdiction").value.trim());
  if (kind === "deletion" && $("optout").checked) form.append("optout", "true");
  if (![...form.keys()].some((k) => k === "photo" || k === "url" || k === "page_url")) {
    showError("Give at least one photo of you, or the address of an image or a page that shows you.");
    $("photo").focus();
    return;
  }
  $("submit").disabled = true;
  try {
    current = null;
    const filed = await (await api("/api/requests", { method: "POST", body: form, auth: false })).json();
    current = { id: filed.id, token: filed.token };
    $("request-id").textContent = filed.id;
    $("request-token").textContent = filed.token;
    $("token-box").hidden = false;
    $("request-form").reset();
    syncOptout();
    follow();
  } catch (error) {
    showError(error.message);
  } finally {
    $("submit").disabled = false;
  }
}

function reopen(event) {
  event.preventDefault();
  showError("");
  current = { id: $("reopen-id").value.trim(), token: $("reopen-token").value.trim() };
  $("token-box").hidden = true;
  $("reopen-form").reset();
  follow();
}

function follow() {
  for (const id of ["answer", "receipt"]) $(id).hidden = true;
  $("status").hidden = false;
  $("status-line").textContent = "Looking up your request...";
  if (polling) clearTimeout(polling);
  poll();
}

async function poll() {
  const following = current;
  let status;
  try {
    status = await (await api(`/api/requests/${encodeURIComponent(following.id)}`)).json();
  } catch (error) {
    showError(error.status === 404 ? "No request with this id opens with this token. Check both and try again."
      : error.message);
    $("status").hidden = true;
    return;
  }
  if (following !== current) return;
  showStatus(status);
  const done = FINAL.has(status.status) || (status.status === "failed" && !status.progress.queued);
  if (done) {
    await finish(status);
  } else {
    polling = setTimeout(poll, 1000);
  }
}

function showStatus(status) {
  const p = status.progress;
  const words = { received: "received", identified: "we found what is held about you",
    deleted: "deleted from every store", verified: "checked again: nothing is left", compiled: "answer compiled",
    completed: "completed", refused: "refused", failed: "failed" };
  let line = `${status.kind === "deletion" ? "Deletion" : "Access"} request: ${words[status.status] || status.status}`
    + ` (step ${p.step} of ${p.of}); due by ${status.due}.`;
  if (p.activity && !FINAL.has(status.status)) line += ` Now: ${p.activity}.`;
  if (status.failure) line += ` Problem: ${status.failure}` + (p.queued ? " (it will be tried again)" : "");
  $("status-line").textContent = line;
  $("progress").max = p.of;
  $("progress").value = p.step;
  const list = $("checkpoints");
  list.replaceChildren(...p.checkpoints.map((name, index) => {
    const item = document.createElement("li");
    item.textContent = words[name] || name;
    if (index < p.step) item.className = "done";
    else if (index === p.step) item.className = "current";
    return item;
  }));
  const body = $("tasks").querySelector("tbody");
  body.replaceChildren(...status.tasks.map((task) => {
    const row = document.createElement("tr");
    for (const value of [task.store, task.status, String(task.removed)]) {
      const cell = document.createElement("td");
      cell.textContent = value;
      row.append(cell);
    }
    return row;
  }));
  $("tasks").hidden = status.tasks.length === 0;
}

async function finish(status) {
  if (status.access) await showAnswer(status.access);
  if (status.status === "completed" || status.status === "refused") await showReceipt();
}

async function showAnswer(answer) {
  $("answer").hidden = false;
  const images = (answer.images || []).filter((image) => image.sha256);
  const deleted = (answer.images || []).length - images.length;
  $("answer-summary").textContent = `${images.length} image(s) of you, ${(answer.decisions || []).length} decision record(s)`
    + `, ${(answer.requests || []).length} earlier request(s).` + (answer.limited ? ` ${answer.limited}.` : "")
    + (deleted ? ` ${deleted} image(s) this answer listed were deleted since, at your request.` : "");
  const list = $("images");
  list.replaceChildren();
  for (const image of images) {
    const item = document.createElement("li");
    const picture = document.createElement("img");
    picture.alt = `An image of you collected from ${image.url}`;
    item.append(picture);
    const facts = document.createElement("p");
    facts.textContent = `${image.url} (page ${image.page_url || "unknown"}); collected ${image.collected_at}; `
      + `${image.faces} face(s); template ${image.template_held ? "held" : "not held"}; found by ${image.found_by.join(", ")}`;
    item.append(facts);
    list.append(item);
    try {
      const blob = await (await api(image.image_url)).blob();
      picture.src = URL.createObjectURL(blob);
    } catch (error) {
      picture.alt = `This image could not be shown (${error.message})`;
    }
  }
  const link = $("archive-link");
  link.hidden = true;
  if (answer.archive_url) {
    try {
      const blob = await (await api(answer.archive_url)).blob();
      link.href = URL.createObjectURL(blob);
      link.download = `faircrawl-access-${current.id}.zip`;
      link.hidden = false;
    } catch (error) {
      showError(error.status === 410 ? `The archive is no longer available: ${error.message}.`
        : `The archive could not be downloaded: ${error.message}`);
    }
  }
  const statement = $("statement");
  statement.replaceChildren();
  for (const [name, value] of Object.entries(answer.statement || {})) {
    const term = document.createElement("dt");
    term.textContent = name.replace(/_/g, " ");
    const text = document.createElement("dd");
    text.textContent = typeof value === "string" ? value : JSON.stringify(value);
    statement.append(term, text);
  }
}

// -- the receipt: canonical JSON (sorted keys, no spaces, UTF-8) signed with Ed25519 -------------------------

function canonical(value) {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
  return "{" + Object.keys(value).sort().map((key) => JSON.stringify(key) + ":" + canonical(value[key])).join(",") + "}";
}

function base64Bytes(text) {
  const standard = text.replace(/-/g, "+").replace(/_/g, "/").replace(/\s+/g, "");
  const padded = standard + "===".slice((standard.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function hex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function checkSignature(signed, publicKeyPem) {
  if (!window.crypto || !crypto.subtle) return { valid: false, why: "this browser cannot check signatures here (it needs https or localhost)" };
  const der = base64Bytes(publicKeyPem.replace(/-----[^-]+-----/g, ""));
  const keyId = hex(await crypto.subtle.digest("SHA-256", der.slice(der.length - 32)));
  if (keyId !== signed.receipt.key_id) return { valid: false, why: "the receipt names another signing key" };
  const key = await crypto.subtle.importKey("spki", der, { name: "Ed25519" }, false, ["verify"]);
  const valid = await crypto.subtle.verify({ name: "Ed25519" }, key, base64Bytes(signed.signature),
    new TextEncoder().encode(canonical(signed.receipt)));
  return { valid, why: valid ? "" : "the signature does not match the receipt" };
}

async function showReceipt() {
  try {
    const signed = await (await api(`/api/requests/${current.id}/receipt`)).json();
    const text = await (await api(`/api/requests/${current.id}/receipt?format=text`)).text();
    const key = await (await api("/api/receipts/public-key", { auth: false })).json();
    $("receipt").hidden = false;
    $("receipt-text").textContent = text;
    const blob = new Blob([JSON.stringify(signed, null, 2)], { type: "application/json" });
    $("receipt-link").href = URL.createObjectURL(blob);
    $("receipt-link").download = `faircrawl-receipt-${current.id}.json`;
    const check = $("signature-check");
    let result;
    try {
      result = await checkSignature(signed, key.public_key);
    } catch (error) {
      result = { valid: false, why: `the check could not run (${error.message})` };
    }
    check.className = result.valid ? "valid" : "invalid";
    check.textContent = result.valid
      ? `Signature valid: checked in your browser with faircrawl's Ed25519 key ${key.key_id.slice(0, 16)}...`
      : `Signature NOT valid: ${result.why}.`;
    check.dataset.valid = String(result.valid);
  } catch (error) {
    showError(`The receipt could not be loaded: ${error.message}`);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("request-form").addEventListener("submit", submitRequest);
  $("reopen-form").addEventListener("submit", reopen);
  for (const id of ["kind-access", "kind-deletion"]) $(id).addEventListener("change", syncOptout);
  $("copy-token").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("request-token").textContent);
      $("copy-token").textContent = "Copied";
    } catch (ignored) {
      $("copy-token").textContent = "Select the token and copy it";
    }
  });
  syncOptout();
});
