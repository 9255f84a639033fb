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
