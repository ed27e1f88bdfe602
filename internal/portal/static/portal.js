// fiscald portal: progressive enhancement only; every page works without it.
(function () {
  "use strict";
  // Move the focus to the error summary so screen readers announce it.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
  // Show only the fields of the chosen kind (individual/company,
  // vehicle/building). Without script all of them stay visible.
  var blocks = document.querySelectorAll("[data-show-when]");
  function update() {
    blocks.forEach(function (el) {
      var rule = el.getAttribute("data-show-when").split("=");
      var checked = document.querySelector('input[name="' + rule[0] + '"]:checked');
      el.hidden = !!checked && checked.value !== rule[1];
    });
  }
  if (blocks.length) {
    document.addEventListener("change", function (e) {
      if (e.target && e.target.type === "radio") { update(); }
    });
    update();
  }
})();
