// Complaint form: choosing a country or region re-runs the facility search
// (the same as pressing "Search", which works without JavaScript).
(function () {
  "use strict";
  var find = document.getElementById("find-facility");
  if (!find) { return; }
  ["country", "region_id"].forEach(function (id) {
    var select = document.getElementById(id);
    if (select) {
      select.addEventListener("change", function () { find.click(); });
    }
  });
}());
