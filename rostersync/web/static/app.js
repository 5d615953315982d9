// rostersync: small progressive enhancements. Every form works without this file.
(function () {
  "use strict";

  // Intake: show only the fieldset of the chosen kind of credentials.
  function syncCredentialFieldsets() {
    var radios = document.querySelectorAll('input[name="auth"][data-controls]');
    if (!radios.length) return;
    radios.forEach(function (radio) {
      var fieldset = document.getElementById(radio.getAttribute("data-controls"));
      if (!fieldset) return;
      fieldset.hidden = !radio.checked;
      fieldset.disabled = !radio.checked;
    });
  }

  // Copy buttons for the intake link shown to staff.
  function setUpCopy() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.value).then(function () {
          button.textContent = "Copied";
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll('input[name="auth"][data-controls]').forEach(function (radio) {
      radio.addEventListener("change", syncCredentialFieldsets);
    });
    syncCredentialFieldsets();
    setUpCopy();
    // After a failed intake check, bring the results into view for keyboard and screen reader users.
    var results = document.getElementById("results");
    if (results) results.focus();
    // Ask before destructive actions.
    document.querySelectorAll("button.danger").forEach(function (button) {
      button.form && button.form.addEventListener("submit", function (event) {
        if (!window.confirm(button.textContent.trim() + "?")) event.preventDefault();
      });
    });
  });
})();
