// The endpoint form's live "Try the route": as the operator edits the
// settings, post the form to the page's own "Try it" address (the same
// handler the button uses without JavaScript) and show the new result.
// Without JavaScript the button does the same with a page load.
(() => {
  "use strict";
  const box = document.getElementById("try");
  const out = document.getElementById("try-output");
  if (!box || !out) return;
  const form = box.closest("form");
  const button = box.querySelector("button[formaction]");
  if (!form || !button) return;
  const action = button.getAttribute("formaction").replace(/#.*$/, "");
  const live = document.getElementById("try-live");
  if (live) live.hidden = false;

  const routeFields = ["filter", "transform", "payload", "redact"];
  const ready = () =>
    (form.elements.try_event && form.elements.try_event.value.trim() !== "") ||
    (form.elements.try_event_id && form.elements.try_event_id.value !== "");

  // Show the field errors of the answer (a filter that does not parse)
  // under the fields, and clear the ones that are fixed.
  const syncErrors = (doc) => {
    for (const name of routeFields) {
      const input = document.getElementById(name);
      if (!input) continue;
      const field = input.closest(".field");
      const old = document.getElementById(name + "-error");
      const fresh = doc.getElementById(name + "-error");
      if (old) old.remove();
      if (fresh) {
        input.insertAdjacentElement("afterend", document.importNode(fresh, true));
        input.setAttribute("aria-invalid", "true");
      } else {
        input.removeAttribute("aria-invalid");
      }
      if (field) field.classList.toggle("has-error", !!fresh);
    }
  };

  let timer = 0;
  let seq = 0;
  let inflight = null;
  const run = async () => {
    if (!ready()) return;
    const mine = ++seq;
    if (inflight) inflight.abort();
    inflight = new AbortController();
    box.classList.add("busy");
    try {
      const res = await fetch(action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
        signal: inflight.signal,
      });
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      if (mine !== seq) return;
      const fresh = doc.getElementById("try-output");
      if (!fresh) {
        out.innerHTML = "";
        const p = document.createElement("p");
        p.className = "field-error";
        p.textContent = "The preview could not be updated (has the session ended?). Press Try it.";
        out.append(p);
        return;
      }
      out.replaceChildren(...Array.from(fresh.childNodes, (n) => document.importNode(n, true)));
      syncErrors(doc);
    } catch (err) {
      if (err.name !== "AbortError" && mine === seq) {
        out.innerHTML = "";
        const p = document.createElement("p");
        p.className = "field-error";
        p.textContent = "The preview could not be updated: " + err.message;
        out.append(p);
      }
    } finally {
      if (mine === seq) box.classList.remove("busy");
    }
  };
  const schedule = (e) => {
    // The destination and the name do not change what the route does.
    const name = (e && e.target && e.target.name) || "";
    if (name === "url" || name === "description" || name === "kind" || name.startsWith("config.") || name.startsWith("credentials.")) return;
    clearTimeout(timer);
    timer = setTimeout(run, 350);
  };
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  // Show what the settings as loaded do with the chosen event at once,
  // unless a press of "Try it" has just shown it.
  if (!out.querySelector(".try-result, .field-error")) schedule();

  // "Use this" beside each example puts it in its field.
  for (const b of form.querySelectorAll("button.use-example")) {
    b.hidden = false;
    b.addEventListener("click", () => {
      const input = document.getElementById(b.dataset.field);
      if (!input) return;
      input.value = b.dataset.value;
      input.focus();
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }
})();
