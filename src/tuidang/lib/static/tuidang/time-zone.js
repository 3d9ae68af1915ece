// Suggests the browser's own time zone on the settings page, until the volunteer saves one.
(function () {
  "use strict";
  var select = document.getElementById("id_time_zone");
  if (!select || !window.Intl) { return; }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === zone) { select.value = zone; return; }
  }
})();
