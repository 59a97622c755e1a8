// Write forms (templates/includes/form_fields.html): after a failed submit, move keyboard focus
// to the first field with an error, or to the form-wide error message when no field has one.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var field = document.querySelector("form [aria-invalid='true']");
    var target = field || document.querySelector("[data-form-errors]");
    if (target) {
      target.focus();
    }
  });
})();
