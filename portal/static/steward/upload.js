// Upload forms (templates/registry/edit/upload_form.html): send the multipart form with
// XMLHttpRequest so that a <progress> bar follows the upload, then show the SHA-256 the server
// computed. The server answers JSON to this script (Accept: application/json): 201 with the
// digest, or 400 with the errors by field, shown beside their fields as the page would show
// them. Without JavaScript the form posts as usual and the version page shows the digest.
(function () {
  "use strict";

  function clearErrors(form) {
    form.querySelectorAll("[data-upload-error]").forEach(function (node) { node.remove(); });
    form.querySelectorAll("[aria-invalid='true']").forEach(function (input) {
      input.removeAttribute("aria-invalid");
      input.closest(".field").classList.remove("field--error");
    });
  }

  function errorBlock(messages, id) {
    var block = document.createElement("div");
    block.className = "text-danger";
    block.setAttribute("data-upload-error", "");
    if (id) { block.id = id; }
    messages.forEach(function (text) {
      var p = document.createElement("p");
      p.textContent = text;
      block.appendChild(p);
    });
    return block;
  }

  function formError(form, messages) {
    var block = errorBlock(messages, "");
    block.className = "message message--error form-errors";
    block.setAttribute("role", "alert");
    block.setAttribute("tabindex", "-1");
    form.insertBefore(block, form.firstElementChild.nextSibling);
    return block;
  }

  function showErrors(form, reply) {
    var first = null;
    Object.keys(reply.errors || {}).forEach(function (name) {
      var input = form.elements.namedItem(name);
      if (!input || !input.closest) { return; }
      var field = input.closest(".field");
      var id = (input.id || name) + "_error";
      field.classList.add("field--error");
      field.appendChild(errorBlock(reply.errors[name], id));
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", id);
      first = first || input;
    });
    var general = reply.non_field_errors || [];
    if (general.length) {
      var block = formError(form, general);
      first = first || block;
    }
    if (first) { first.focus(); }
  }

  function megabytes(bytes) {
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function setUp(form) {
    var progress = form.querySelector("[data-upload-progress]");
    var bar = progress.querySelector("progress");
    var percent = form.querySelector("[data-upload-percent]");
    var result = form.querySelector("[data-upload-result]");
    var actions = form.querySelector("[data-upload-actions]");
    var submit = actions.querySelector("button[type='submit']");
    var limit = parseInt(form.getAttribute("data-max-bytes"), 10);

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(form);
      var file = form.elements.namedItem("file");
      if (file && file.files.length && limit && file.files[0].size > limit) {
        showErrors(form, { errors: { file: [
          "the file is " + megabytes(file.files[0].size) + "; the limit is " + megabytes(limit)
        ] } });
        return;
      }
      var request = new XMLHttpRequest();
      request.open("POST", form.action || window.location.href);
      request.setRequestHeader("Accept", "application/json");
      request.responseType = "json";
      request.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var done = Math.round((e.loaded / e.total) * 100);
          bar.value = done;
          bar.textContent = done + "%";
          percent.textContent = done + "% of " + megabytes(e.total);
        }
      });
      request.addEventListener("load", function () {
        submit.disabled = false;
        var reply = request.response || {};
        if (request.status === 201) {
          bar.value = 100;
          percent.textContent = "done";
          result.querySelector("[data-upload-name]").textContent = reply.name;
          result.querySelector("[data-upload-sha256]").textContent = reply.sha256;
          var rows = result.querySelector("[data-upload-rows]");
          if (rows) { rows.textContent = String(reply.rows); }
          result.querySelector("[data-upload-again]").href = window.location.href;
          result.hidden = false;
          actions.hidden = true;
          result.focus();
        } else if (request.status === 413) {
          progress.hidden = true;
          showErrors(form, { errors: { file: [reply.detail || "the file is too large"] } });
        } else if (request.status === 400 || request.status === 403) {
          progress.hidden = true;
          showErrors(form, reply);
        } else {
          progress.hidden = true;
          showErrors(form, { non_field_errors: ["The upload failed (HTTP " + request.status + "). Nothing was stored; try again."] });
        }
      });
      request.addEventListener("error", function () {
        submit.disabled = false;
        progress.hidden = true;
        showErrors(form, { non_field_errors: ["The connection failed during the upload. Nothing was stored; try again."] });
      });
      submit.disabled = true;
      bar.value = 0;
      percent.textContent = "";
      progress.hidden = false;
      request.send(new FormData(form));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-upload-form]").forEach(setUp);
  });
})();
