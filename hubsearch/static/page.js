/* Progressive enhancement only: every page works the same without scripts.
   On a wide screen the filters sit beside the results, so they are opened there; on a
   narrow one they stay folded behind their summary, leaving the first answer on the first
   screen (style.css). */
(function () {
  "use strict";
  var panel = document.querySelector("details.filter-panel");
  if (panel && window.matchMedia("(min-width: 60rem)").matches) {
    panel.open = true;
  }
})();

/* A copy button beside each citation, where the browser lets a page write the clipboard. */
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) {
    return;
  }
  document.querySelectorAll("details.cite").forEach(function (cite) {
    var text = cite.querySelector(".citation");
    var button = document.createElement("button");
    var status = document.createElement("span");
    button.type = "button";
    button.className = "copy";
    button.textContent = cite.dataset.copy;
    status.setAttribute("role", "status");
    status.className = "copied";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(text.textContent).then(function () {
        status.textContent = cite.dataset.copied;
      });
    });
    cite.appendChild(button);
    cite.appendChild(status);
  });
})();
