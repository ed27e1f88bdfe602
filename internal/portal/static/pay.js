// fiscald card page: Stripe's Payment Element for the PaymentIntent the
// server created. Success is never decided here: Stripe sends the browser
// to the payment's page, which shows what the ledger says once Stripe's
// webhook has settled the payment.
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form) { return; }
  var errors = document.getElementById("card-errors");
  function show(msg) { errors.textContent = msg; errors.hidden = false; }
  if (typeof Stripe === "undefined") {
    show(form.getAttribute("data-unavailable"));
    return;
  }
  var stripe = Stripe(form.getAttribute("data-pk"), { locale: document.documentElement.lang });
  var elements = stripe.elements({ clientSecret: form.getAttribute("data-secret") });
  elements.create("payment").mount("#payment-element");
  form.hidden = false;
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.getAttribute("data-return") } })
      .then(function (r) {
        // Only reached on an error: on success Stripe redirects.
        if (r.error) { show(r.error.message); }
        button.disabled = false;
      });
  });
})();
