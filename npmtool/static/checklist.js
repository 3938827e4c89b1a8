/* Checklist autosave.
 *
 * Every answer is written to this tablet's localStorage first, then sent.
 * A reload, a closed tab or a dropped connection therefore never loses it:
 * whatever is still queued is shown again and re-sent when the page opens
 * or the connection returns. Each save names the answer version the page
 * last saw, so the server refuses to overwrite someone else's newer answer
 * and this script shows both for the monitor to decide.
 */
(function () {
  "use strict";

  var root = document.getElementById("checklist");
  if (!root) { return; }
  var visitId = root.dataset.visit;
  var storageKey = "npmtool:answers:" + visitId;
  var text = root.dataset;
  var csrf = (document.querySelector("input[name=csrf_token]") || {}).value || "";
  var timers = {};
  var sending = {};

  function readQueue() {
    try { return JSON.parse(localStorage.getItem(storageKey) || "{}"); } catch (e) { return {}; }
  }
  function writeQueue(queue) {
    try { localStorage.setItem(storageKey, JSON.stringify(queue)); } catch (e) { /* storage full: sending still works */ }
  }
  function queued(itemId, entry) {
    var queue = readQueue();
    if (entry) { queue[itemId] = entry; } else { delete queue[itemId]; }
    writeQueue(queue);
  }

  function formFor(itemId) {
    var article = document.getElementById("item-" + itemId);
    return article ? article.querySelector("form.answer-form") : null;
  }
  function itemIdOf(form) { return form.closest("article").dataset.item; }

  function collect(form) {
    var type = form.dataset.type;
    var checked = function (name) {
      var input = form.querySelector("input[name=" + name + "]:checked");
      return input ? input.value : null;
    };
    var data = {
      rating: type === "rating" ? checked("rating") : null,
      missing_note: form.elements.missing_note.value,
      improve_note: form.elements.improve_note.value,
      value: null
    };
    if (type === "yesno" || type === "choice") { data.value = checked("value"); }
    if (type === "number" || type === "text") { data.value = form.elements.value.value; }
    if (type === "measurement") {
      data.value = { area_m2: form.elements.area_m2.value, occupants: form.elements.occupants.value };
    }
    return data;
  }

  function fill(form, answer) {
    var type = form.dataset.type;
    var setRadio = function (name, value) {
      form.querySelectorAll("input[name=" + name + "]").forEach(function (input) {
        input.checked = value !== null && value !== undefined && input.value === String(value);
      });
    };
    if (type === "rating") { setRadio("rating", answer.rating); }
    if (type === "yesno") { setRadio("value", answer.value === true ? "yes" : answer.value === false ? "no" : null); }
    if (type === "choice") { setRadio("value", answer.value); }
    if (type === "number" || type === "text") { form.elements.value.value = answer.value === null || answer.value === undefined ? "" : answer.value; }
    if (type === "measurement") {
      var v = answer.value || {};
      form.elements.area_m2.value = v.area_m2 === undefined ? "" : v.area_m2;
      form.elements.occupants.value = v.occupants === undefined ? "" : v.occupants;
    }
    form.elements.missing_note.value = answer.missing_note || "";
    form.elements.improve_note.value = answer.improve_note || "";
  }

  function state(form, message, kind) {
    var line = form && form.querySelector(".save-state");
    if (!line) { return; }
    line.textContent = message;
    line.className = "save-state" + (kind ? " " + kind : "");
  }

  function showEvaluation(form, evaluation) {
    var line = form.querySelector(".evaluation");
    if (!line) { return; }
    line.textContent = "";
    if (!evaluation || evaluation.per_person === null || evaluation.per_person === undefined) { return; }
    var strong = document.createElement("strong");
    strong.textContent = evaluation.per_person + " " + text.textPerPerson;
    var verdict = document.createElement("span");
    if (evaluation.meets === null || evaluation.meets === undefined) {
      verdict.textContent = text.textNoNorm;
    } else {
      verdict.textContent = (evaluation.meets ? text.textMeets : text.textBelow) + " (" + evaluation.norm + ")";
      verdict.className = evaluation.meets ? "ok" : "alert";
    }
    line.appendChild(strong);
    line.appendChild(document.createTextNode(" — "));
    line.appendChild(verdict);
  }

  function answered(data) {
    if (data.rating) { return true; }
    if (data.value === null || data.value === undefined || data.value === "") { return false; }
    if (typeof data.value === "object") { return data.value.area_m2 !== "" && data.value.occupants !== ""; }
    return true;
  }

  function updateProgress() {
    document.querySelectorAll("[data-progress-for]").forEach(function (counter) {
      var section = document.querySelector("[data-section='" + counter.dataset.progressFor + "']");
      if (!section) { return; }
      var done = section.querySelectorAll("article.item.answered").length;
      counter.textContent = done + "/" + counter.dataset.total;
    });
  }

  function markAnswered(form, isAnswered) {
    form.closest("article").classList.toggle("answered", isAnswered);
    updateProgress();
  }

  function send(itemId) {
    var entry = readQueue()[itemId];
    // An answer queued on another checklist page of this visit has no form
    // here: it is still sent, and its own page shows it when opened.
    var form = formFor(itemId);
    if (!entry || !entry.url || sending[itemId]) { return; }
    sending[itemId] = true;
    state(form, text.textSaving, "pending");
    var body = Object.assign({ version: entry.base_version }, entry.data);
    fetch(entry.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        return { status: response.status, json: json };
      });
    }).then(function (result) {
      sending[itemId] = false;
      var latest = readQueue()[itemId];
      var changedMeanwhile = latest && latest.queued_at !== entry.queued_at;
      if (result.status === 200) {
        if (form) {
          form.dataset.version = result.json.version;
          form.elements.version.value = result.json.version;
          showEvaluation(form, result.json.evaluation);
        }
        if (changedMeanwhile) {
          latest.base_version = result.json.version;
          queued(itemId, latest);
          send(itemId);
          return;
        }
        queued(itemId, null);
        if (form) { markAnswered(form, answered(entry.data)); }
        state(form, text.textSaved + " " + new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }), "ok");
      } else if (result.status === 409 && result.json.conflict) {
        showConflict(form, itemId, result.json.current);
      } else if (result.status === 422) {
        queued(itemId, null);  // the server will never accept it as it is: say why, keep it in the form
        state(form, text.textError + " " + (result.json.error || ""), "alert");
      } else if (result.status === 400 || result.status === 401 || result.status === 403) {
        state(form, text.textExpired, "alert");
      } else {
        state(form, text.textQueued, "pending");
      }
    }).catch(function () {
      sending[itemId] = false;
      state(form, text.textQueued, "pending");
      document.getElementById("offline-banner").hidden = false;
    });
  }

  // Leaving the page (another section, another app): send what is queued
  // right away; the queue is cleared only when an answer is confirmed.
  function sendBeforeLeaving() {
    var queue = readQueue();
    Object.keys(queue).forEach(function (itemId) {
      var entry = queue[itemId];
      if (!entry.url) { return; }
      fetch(entry.url, {
        method: "POST", credentials: "same-origin", keepalive: true,
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
        body: JSON.stringify(Object.assign({ version: entry.base_version }, entry.data))
      }).catch(function () { /* still queued: sent at the next opening */ });
    });
  }

  function describe(answer) {
    var parts = [];
    if (answer.rating) {
      var label = document.querySelector("label.rating-" + answer.rating + " span");
      parts.push(label ? label.textContent : answer.rating);
    }
    if (answer.value !== null && answer.value !== undefined) {
      parts.push(typeof answer.value === "object" ? answer.value.area_m2 + " m², " + answer.value.occupants : String(answer.value));
    }
    if (answer.missing_note) { parts.push("“" + answer.missing_note + "”"); }
    return text.textTheirs + ": " + (parts.join(" · ") || "—");
  }

  function showConflict(form, itemId, current) {
    var box = form && form.querySelector(".conflict");
    if (!box) { return; }  // shown when that item's page is opened
    box.hidden = false;
    box.querySelector(".theirs").textContent = describe(current);
    state(form, text.textConflict, "alert");
    box.querySelector(".keep-theirs").onclick = function () {
      queued(itemId, null);
      fill(form, current);
      form.dataset.version = current.version;
      form.elements.version.value = current.version;
      showEvaluation(form, current.evaluation);
      box.hidden = true;
      markAnswered(form, answered(current));
      state(form, text.textSaved, "ok");
    };
    box.querySelector(".keep-mine").onclick = function () {
      var entry = readQueue()[itemId];
      if (entry) {
        entry.base_version = current.version;
        queued(itemId, entry);
      }
      box.hidden = true;
      send(itemId);
    };
  }

  function changed(form, delay) {
    var itemId = itemIdOf(form);
    var base = parseInt(form.dataset.version, 10) || 0;
    var existing = readQueue()[itemId];
    queued(itemId, {
      url: form.action,
      data: collect(form),
      base_version: existing ? existing.base_version : base,
      queued_at: Date.now()
    });
    clearTimeout(timers[itemId]);
    timers[itemId] = setTimeout(function () { send(itemId); }, delay);
  }

  document.querySelectorAll("form.answer-form").forEach(function (form) {
    form.querySelector(".save-button").hidden = true;
    form.addEventListener("change", function (event) {
      if (event.target.name === "rating" && (event.target.value === "partly" || event.target.value === "not_yet")) {
        form.querySelector("details.notes").open = true;  // say what is missing while it is in view
      }
      changed(form, 0);
    });
    form.addEventListener("input", function (event) {
      if (event.target.tagName === "TEXTAREA" || event.target.type === "number") { changed(form, 900); }
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); changed(form, 0); });
  });

  // Answers still on this tablet from before a reload or a lost connection.
  var pending = readQueue();
  Object.keys(pending).forEach(function (itemId) {
    var form = formFor(itemId);
    if (form) { fill(form, pending[itemId].data); }
    send(itemId);
  });
  window.addEventListener("pagehide", sendBeforeLeaving);

  function flush() {
    document.getElementById("offline-banner").hidden = navigator.onLine !== false;
    Object.keys(readQueue()).forEach(send);
  }
  window.addEventListener("online", flush);
  window.addEventListener("offline", function () { document.getElementById("offline-banner").hidden = false; });
  setInterval(flush, 15000);
}());
