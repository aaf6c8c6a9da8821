// The booking form's running total, updated as services are ticked. Progressive
// enhancement: without this file the "Update total" button asks the server instead.
(function () {
  "use strict";
  var box = document.getElementById("running-total");
  if (!box) return;
  var form = box.closest("form");
  var amount = document.getElementById("running-total-amount");
  var note = document.getElementById("running-total-note");
  var button = document.getElementById("update-total");
  var next = document.getElementById("continue");
  var threshold = parseFloat(box.getAttribute("data-threshold"));
  // The same writing as bookings.money.format_inr: ₹, Indian grouping, two decimals.
  var money = new Intl.NumberFormat("en-IN", {
    style: "currency", currency: "INR", minimumFractionDigits: 2, maximumFractionDigits: 2,
  });
  function update() {
    var paise = 0;
    var needsTime = false;
    form.querySelectorAll("label[data-price]").forEach(function (label) {
      var box = label.querySelector("input[type=checkbox]");
      if (!box || !box.checked) return;
      paise += Math.round(parseFloat(label.getAttribute("data-price")) * 100);
      if (label.hasAttribute("data-needs-time")) needsTime = true;
    });
    // The button says where it goes: a chosen service that needs a time leads to that step.
    if (next) next.textContent = next.getAttribute(needsTime ? "data-to-time" : "data-to-review");
    var total = paise / 100;
    amount.textContent = money.format(total);
    note.textContent = note.getAttribute(total > threshold ? "data-above" : "data-below");
  }
  if (button) button.hidden = true;
  form.addEventListener("change", update);
  update();
})();
