/* Optional help on the reporter's pages; every page works the same without it.
 * Served from this origin (CSP script-src 'self'); no inline script, no network call
 * other than the form's own POST. */
(function () {
  "use strict";

  function receiptPage() {
    var code = document.getElementById("receipt-code");
    if (!code) { return; }
    var copy = document.getElementById("copy-receipt");
    var status = document.getElementById("copy-status");
    if (copy && navigator.clipboard) {
      copy.hidden = false;
      copy.addEventListener("click", function () {
        navigator.clipboard.writeText(code.textContent.trim()).then(function () {
          status.textContent = copy.getAttribute("data-copied");
        });
      });
    }
    var warning = document.getElementById("leave-warning");
    var leaving = false;
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function () {
        leaving = true;
        /* The "save as a text file" answer is a download: the page stays, so warn again. */
        window.setTimeout(function () { leaving = false; }, 2000);
      });
    });
    window.addEventListener("beforeunload", function (event) {
      if (leaving) { return undefined; }
      var text = warning ? warning.getAttribute("data-warning") : "";
      event.preventDefault();
      event.returnValue = text;
      return text;
    });
  }

  function reportForm() {
    var form = document.getElementById("report-form");
    if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
    var input = document.getElementById("files");
    var box = document.getElementById("upload-progress");
    var bar = document.getElementById("upload-bar");
    var status = document.getElementById("upload-status");
    var maxFile = Number(form.getAttribute("data-max-file"));
    var maxReport = Number(form.getAttribute("data-max-report"));
    var maxFiles = Number(form.getAttribute("data-max-files"));

    function problem() {
      var files = input ? Array.prototype.slice.call(input.files) : [];
      if (files.length > maxFiles) { return status.getAttribute("data-too-many"); }
      var total = 0;
      for (var i = 0; i < files.length; i += 1) {
        if (files[i].size > maxFile) { return status.getAttribute("data-too-large"); }
        total += files[i].size;
      }
      if (total > maxReport) { return status.getAttribute("data-total"); }
      return "";
    }

    function show(text) {
      box.hidden = false;
      status.textContent = text;
    }

    if (input) {
      input.addEventListener("change", function () {
        var text = problem();
        input.setAttribute("aria-invalid", text ? "true" : "false");
        if (text) { show(text); } else { box.hidden = true; status.textContent = ""; }
      });
    }

    form.addEventListener("submit", function (event) {
      /* The language switch sends the words, never the files: leave it to the browser. */
      if (event.submitter && event.submitter.name === "switch_lang") { return; }
      var text = problem();
      if (text) {
        event.preventDefault();
        show(text);
        input.focus();
        return;
      }
      if (!input || input.files.length === 0) { return; }
      event.preventDefault();
      var started = Date.now();
      var request = new XMLHttpRequest();
      request.open("POST", form.getAttribute("action"));
      request.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable || e.total === 0) { return; }
        var percent = Math.floor((e.loaded / e.total) * 100);
        var elapsed = (Date.now() - started) / 1000;
        var left = e.loaded > 0 ? Math.ceil(elapsed * (e.total - e.loaded) / e.loaded) : 0;
        bar.value = percent;
        show(status.getAttribute("data-sending")
          .replace("{percent}", String(percent)).replace("{seconds}", String(left)));
      });
      request.upload.addEventListener("load", function () {
        bar.value = 100;
        show(status.getAttribute("data-done"));
      });
      request.addEventListener("load", function () {
        /* The answer (receipt page, or the form with its problem) replaces this page. */
        document.open();
        document.write(request.responseText);
        document.close();
      });
      request.addEventListener("error", function () { form.submit(); });
      show(status.getAttribute("data-sending").replace("{percent}", "0").replace("{seconds}", "…"));
      request.send(new FormData(form));
    });
  }

  function start() {
    receiptPage();
    reportForm();
  }

  /* After the upload's answer replaces the page, the script may load after the DOM is ready. */
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
