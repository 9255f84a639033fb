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

/* Suggestions as you type: the ARIA 1.2 combobox pattern (a listbox popup, the active
   option named by aria-activedescendant, so focus stays in the box). Up and Down move
   through the options, Enter takes one, Escape closes the list; a polite status says how
   many there are. Texts arrive as JSON and are set as text, never as markup. */
(function () {
  "use strict";
  var input = document.querySelector("input[data-suggest]");
  if (!input || !window.fetch) {
    return;
  }
  var list = document.createElement("ul");
  var status = document.createElement("p");
  var options = [];
  var active = -1;
  var timer = null;
  var asked = 0;
  list.id = "q-suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", input.dataset.suggestLabel);
  list.hidden = true;
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.closest(".search-row").after(list, status);

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function choose(index) {
    input.value = options[index].textContent;
    close();
    input.form.requestSubmit();
  }

  function highlight(index) {
    options.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    active = index;
    if (index < 0) {
      input.removeAttribute("aria-activedescendant");
    } else {
      input.setAttribute("aria-activedescendant", options[index].id);
    }
  }

  function show(texts) {
    list.textContent = "";
    options = texts.map(function (text, i) {
      var option = document.createElement("li");
      option.id = "q-suggestion-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.textContent = text;
      option.addEventListener("mousedown", function (event) {
        event.preventDefault(); /* keep focus in the box */
        choose(i);
      });
      list.appendChild(option);
      return option;
    });
    active = -1;
    list.hidden = options.length === 0;
    input.setAttribute("aria-expanded", options.length ? "true" : "false");
    status.textContent = options.length ?
      input.dataset.suggestCount.replace("{n}", options.length) : "";
  }

  function ask() {
    var text = input.value;
    var mine = ++asked;
    if (text.trim().length < 2) {
      show([]);
      return;
    }
    fetch(input.dataset.suggest + "?q=" + encodeURIComponent(text), {credentials: "omit"})
      .then(function (response) { return response.ok ? response.json() : {suggestions: []}; })
      .then(function (data) {
        if (mine === asked) { /* an older answer arriving late is dropped */
          show(data.suggestions || []);
        }
      })
      .catch(function () { show([]); });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 150);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (list.hidden) {
        return;
      }
      event.preventDefault();
      /* From the last option down, or the first up, back to the box itself (-1). */
      var next = active + (event.key === "ArrowDown" ? 1 : -1);
      if (next >= options.length) {
        next = -1;
      } else if (next < -1) {
        next = options.length - 1;
      }
      highlight(next);
    } else if (event.key === "Enter" && active >= 0 && !list.hidden) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", close);
})();

/* Crawl now (/admin/crawl): while a run goes on, its state, count and last lines are
   fetched every two seconds; when it ends the page reloads to show the outcome. Without
   scripts the page says to refresh it. */
(function () {
  var panel = document.querySelector("[data-crawl-status]");
  if (!panel) {
    return;
  }
  var hint = panel.querySelector(".no-js-hint");
  if (hint) {
    hint.hidden = true;
  }
  var state = panel.querySelector("[data-crawl-field=state]");
  if (!state || state.textContent.trim() !== "running") {
    return;
  }
  function field(name, value) {
    var element = panel.querySelector("[data-crawl-field=" + name + "]");
    if (element && value !== null && value !== undefined) {
      element.textContent = Array.isArray(value) ? value.join("\n") : String(value);
    }
  }
  function poll() {
    fetch(panel.getAttribute("data-crawl-status"), {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (job) {
        if (job.state !== "running") {
          window.location.reload();
          return;
        }
        field("fetched", job.fetched);
        field("log", job.log);
        setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
