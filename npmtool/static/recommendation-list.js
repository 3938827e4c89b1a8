// "Tick all on this page" for the recommendation list's bulk actions. The
// button is hidden until this script runs: without JavaScript every row's
// own checkbox still works.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.querySelector("[data-select-all]");
  if (!button) return;
  button.closest("[hidden]").hidden = false;
  button.addEventListener("click", function () {
    var boxes = document.querySelectorAll('input[type=checkbox][name=ids]');
    var all = Array.prototype.every.call(boxes, function (b) { return b.checked; });
    Array.prototype.forEach.call(boxes, function (b) { b.checked = !all; });
  });
});
