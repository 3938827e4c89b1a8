/* Redaction editor: draw boxes over the photo with a finger, a pen or the
 * mouse (pointer events). Each box fills a row of the form (x, y, width,
 * height in per cent), so the rows stay the one source of truth and the page
 * works without this script; the hidden field "redactions" carries the boxes
 * as fractions 0..1 of the upright photo. No inline script: CSP allows
 * scripts from this site only. */
(function () {
  "use strict";
  var editor = document.querySelector("[data-redaction-editor]");
  var form = document.querySelector("[data-redaction-form]");
  if (!editor || !form) { return; }
  var surface = editor.querySelector("[data-surface]");
  var hidden = form.querySelector("[data-redactions]");
  var countField = form.querySelector("[data-box-count]");
  var tbody = form.querySelector("[data-rows]");
  var clearButton = form.querySelector("[data-clear]");
  var KEYS = ["x", "y", "w", "h"];
  var MIN_SIZE = 0.005; // smaller drags are taps, not boxes

  function clamp(value) { return Math.min(1, Math.max(0, value)); }

  function parse(text) {
    text = String(text || "").trim().replace(",", ".").replace("%", "");
    if (text === "") { return null; }
    var number = Number(text);
    return isFinite(number) ? number : NaN;
  }

  function rows() { return Array.prototype.slice.call(tbody.querySelectorAll("[data-row]")); }
  function field(row, key) { return row.querySelector('[data-key="' + key + '"]'); }
  function removed(row) { return row.querySelector("[data-remove]").checked; }
  function isEmpty(row) { return KEYS.every(function (key) { return field(row, key).value.trim() === ""; }); }

  /* Boxes typed or drawn so far; complete is false if a row is half filled
   * or not a number, and then the server reads the rows and says which. */
  function readBoxes() {
    var boxes = [];
    var complete = true;
    rows().forEach(function (row, index) {
      if (removed(row) || isEmpty(row)) { return; }
      var values = {};
      KEYS.forEach(function (key) { values[key] = parse(field(row, key).value); });
      if (KEYS.some(function (key) { return values[key] === null || isNaN(values[key]); })) {
        complete = false;
        return;
      }
      boxes.push({ x: values.x / 100, y: values.y / 100, w: values.w / 100, h: values.h / 100, number: index + 1 });
    });
    return { boxes: boxes, complete: complete };
  }

  function place(element, box) {
    element.style.left = (box.x * 100) + "%";
    element.style.top = (box.y * 100) + "%";
    element.style.width = (box.w * 100) + "%";
    element.style.height = (box.h * 100) + "%";
  }

  function drawBoxes(boxes) {
    Array.prototype.slice.call(surface.querySelectorAll(".redaction-box:not(.drawing)")).forEach(function (element) {
      element.parentNode.removeChild(element);
    });
    boxes.forEach(function (box) {
      var element = document.createElement("div");
      element.className = "redaction-box";
      element.setAttribute("aria-hidden", "true");
      var label = document.createElement("span");
      label.className = "label";
      label.textContent = String(box.number);
      element.appendChild(label);
      place(element, box);
      surface.appendChild(element);
    });
  }

  function sync() {
    var result = readBoxes();
    hidden.value = result.complete ? JSON.stringify(result.boxes.map(function (box) {
      return { x: box.x, y: box.y, w: box.w, h: box.h };
    })) : "";
    drawBoxes(result.boxes);
    clearButton.hidden = result.boxes.length === 0;
  }

  function renumber(row, index) {
    row.querySelector("[data-row-number]").textContent = String(index + 1);
    Array.prototype.slice.call(row.querySelectorAll("[id], [name], label[for]")).forEach(function (element) {
      ["id", "name", "for"].forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value) { element.setAttribute(attribute, value.replace(/^box-\d+-/, "box-" + index + "-")); }
      });
    });
    Array.prototype.slice.call(row.querySelectorAll("label.visually-hidden, label .visually-hidden")).forEach(function (label) {
      label.textContent = label.textContent.replace(/\d+/, String(index + 1));
    });
  }

  function freeRow() {
    var free = rows().filter(function (row) { return isEmpty(row) && !removed(row); })[0];
    if (free) { return free; }
    var last = rows()[rows().length - 1];
    var copy = last.cloneNode(true);
    KEYS.forEach(function (key) { field(copy, key).value = ""; });
    copy.querySelector("[data-remove]").checked = false;
    tbody.appendChild(copy);
    renumber(copy, rows().length - 1);
    countField.value = String(rows().length);
    return copy;
  }

  function addBox(box) {
    var row = freeRow();
    KEYS.forEach(function (key) { field(row, key).value = (box[key] * 100).toFixed(2); });
    sync();
  }

  // Drawing with pointer events: touch, pen and mouse alike.
  var start = null;
  var ghost = null;

  function pointFrom(event) {
    var rect = surface.getBoundingClientRect();
    return { x: clamp((event.clientX - rect.left) / rect.width), y: clamp((event.clientY - rect.top) / rect.height) };
  }

  function boxBetween(a, b) {
    return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(a.x - b.x), h: Math.abs(a.y - b.y) };
  }

  function stopDrawing() {
    if (ghost && ghost.parentNode) { ghost.parentNode.removeChild(ghost); }
    ghost = null;
    start = null;
  }

  surface.addEventListener("pointerdown", function (event) {
    if (event.button !== 0 && event.pointerType === "mouse") { return; }
    event.preventDefault();
    start = pointFrom(event);
    ghost = document.createElement("div");
    ghost.className = "redaction-box drawing";
    place(ghost, { x: start.x, y: start.y, w: 0, h: 0 });
    surface.appendChild(ghost);
    if (surface.setPointerCapture) { surface.setPointerCapture(event.pointerId); }
  });
  surface.addEventListener("pointermove", function (event) {
    if (!start) { return; }
    event.preventDefault();
    place(ghost, boxBetween(start, pointFrom(event)));
  });
  surface.addEventListener("pointerup", function (event) {
    if (!start) { return; }
    var box = boxBetween(start, pointFrom(event));
    stopDrawing();
    if (box.w >= MIN_SIZE && box.h >= MIN_SIZE) { addBox(box); }
  });
  surface.addEventListener("pointercancel", stopDrawing);
  surface.addEventListener("dragstart", function (event) { event.preventDefault(); });

  tbody.addEventListener("input", sync);
  tbody.addEventListener("change", sync);
  clearButton.addEventListener("click", function () {
    rows().forEach(function (row) { row.querySelector("[data-remove]").checked = true; });
    sync();
  });

  sync();
}());
