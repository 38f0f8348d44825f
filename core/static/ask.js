// Ask form: as the title is typed, show similar questions and official pages
// so the citizen can find an existing answer before posting.
(function () {
  "use strict";
  var title = document.getElementById("title");
  var box = document.getElementById("suggestions");
  if (!title || !box || !window.fetch) return;
  var timer = null, last = "", controller = null;

  function item(result, kindLabel) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    var docId = result.type + ":" + (result.slug || result.id);
    a.href = "/klik?f=1&d=" + encodeURIComponent(docId);
    a.textContent = result.title;
    a.target = "_blank";
    a.rel = "noopener";
    li.appendChild(a);
    var meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = kindLabel(result);
    li.appendChild(meta);
    return li;
  }

  function render(data) {
    var qList = box.querySelector("[data-list=questions]");
    var sList = box.querySelector("[data-list=services]");
    qList.textContent = "";
    sList.textContent = "";
    (data.results || []).forEach(function (r) {
      qList.appendChild(item(r, function (x) {
        return " · " + (x.answer_count || 0) + " " + box.dataset.answers + (x.accepted ? " · ✔" : "");
      }));
    });
    (data.services || []).forEach(function (r) {
      sList.appendChild(item(r, function (x) { return x.agency ? " · " + x.agency : ""; }));
    });
    qList.parentNode.hidden = !qList.children.length;
    sList.parentNode.hidden = !sList.children.length;
    box.hidden = !(qList.children.length || sList.children.length);
  }

  function lookup() {
    var text = title.value.trim();
    if (text.length < 8 || text === last) return;
    last = text;
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    fetch("/api/v1/questions/similar?k=5&title=" + encodeURIComponent(text),
          {headers: {"Accept": "application/json"}, signal: controller ? controller.signal : undefined})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) render(data); })
      .catch(function () { /* offline or aborted: the form still works */ });
  }

  title.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookup, 350);
  });
  if (title.value) lookup();
})();
