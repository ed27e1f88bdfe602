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
  // A file over its input's data-max-bytes is refused before it is sent:
  // the server closes the connection on a body over its limit, which the
  // browser would show as a network error. The server checks it anyway.
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    if (!input.form) { return; }
    input.form.addEventListener("submit", function (e) {
      var f = input.files && input.files[0];
      if (!f || f.size <= Number(input.getAttribute("data-max-bytes"))) { return; }
      e.preventDefault();
      var id = input.id + "-error";
      var msg = document.getElementById(id);
      if (!msg) {
        msg = document.createElement("p");
        msg.className = "error";
        msg.id = id;
        msg.setAttribute("role", "alert");
        input.parentNode.insertBefore(msg, input);
        var by = input.getAttribute("aria-describedby");
        input.setAttribute("aria-describedby", by ? id + " " + by : id);
      }
      msg.textContent = input.getAttribute("data-too-large");
      input.parentNode.classList.add("has-error");
      input.setAttribute("aria-invalid", "true");
      input.focus();
    });
  });
})();
