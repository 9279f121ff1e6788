// The declaration form, as the employer types: shows only the fields the chosen path needs, and
// checks the ID number against the rules endpoints (POST /rules/id-number, then the statutory
// retirement month for the chosen category). Every text comes from the form's data attributes
// (the message catalogue); without this script every field shows and the server checks it all.
(function () {
  "use strict";
  var form = document.querySelector("form.declare");
  if (!form) { return; }
  var words = form.dataset;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }

  function chosen(name) {
    var checked = form.querySelector("input[name='" + name + "']:checked");
    return checked ? checked.value : "";
  }

  function showPathFields() {
    var path = chosen("path") || "normal";
    form.querySelectorAll(".for-path").forEach(function (block) {
      var needed = block.dataset.paths.split(" ").indexOf(path) >= 0;
      block.hidden = !needed;
    });
  }

  var live = document.getElementById("id_number-live");
  var idInput = document.getElementById("id_number");
  var pending = 0;

  function checkId() {
    var number = idInput.value.trim();
    if (number.length !== 15 && number.length !== 18) { live.textContent = ""; return; }
    var mine = ++pending;
    fetch("/rules/id-number", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({id_number: number}),
    }).then(function (response) {
      return response.json().then(function (body) { return {ok: response.ok, body: body}; });
    }).then(function (answer) {
      if (mine !== pending) { return; }
      if (!answer.ok) {
        live.textContent = words["error" + camel(answer.body.reason || "length")] || "";
        live.className = "live error";
        return;
      }
      var born = answer.body.birth_date.split("-");
      var text = fill(words.idOk, {
        born: fill(words.date, {year: born[0], month: +born[1], day: +born[2]}),
        gender: answer.body.gender === "male" ? words.male : words.female,
      });
      live.className = "live";
      live.textContent = text;
      var category = chosen("category");
      if (!category) { return; }
      var month = born[0] + "-" + born[1];
      var query = "?category=" + encodeURIComponent(category) + "&birth_month=" + month;
      fetch("/rules/retirement-date" + query).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (dates) {
        if (!dates || mine !== pending) { return; }
        var parts = dates[0].retirement_month.split("-");
        live.textContent = text + " " + fill(words.idRetirement, {
          month: fill(words.yearMonth, {year: parts[0], month: +parts[1]}),
        });
      });
    }).catch(function () { live.textContent = ""; });
  }

  function camel(code) {
    // data-error-check-character is dataset.errorCheckCharacter
    return code.split("-").map(function (part) {
      return part.charAt(0).toUpperCase() + part.slice(1);
    }).join("");
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "path") { showPathFields(); }
    if (event.target.name === "category") { checkId(); }
  });
  idInput.addEventListener("input", checkId);
  showPathFields();
  if (idInput.value) { checkId(); }
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
