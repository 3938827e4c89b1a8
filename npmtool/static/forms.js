/* Forms that create records carry a client-generated id, so a submission
 * retried after a dropped connection is recognised and not stored twice. */
(function () {
  "use strict";
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }
  document.querySelectorAll("form[data-client-uuid]").forEach(function (form) {
    var field = form.querySelector("input[name=client_uuid]");
    if (field && !field.value) { field.value = uuid(); }
  });
}());
