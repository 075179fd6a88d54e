// The manager's read-along: tick the timer, keep the current card in view, keep the caret
// in a note while the board is swapped. Everything works without this file; it only helps.
// Loaded once from base.html: it starts on every page load, boosted visit and history restore.
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    document.querySelectorAll(".live-clock[data-started]").forEach(function (clock) {
      var started = Date.parse(clock.dataset.started);
      var planned = Number(clock.dataset.minutes) * 60;
      var seconds = Math.max(0, Math.floor((Date.now() - started) / 1000));
      clock.textContent = Math.floor(seconds / 60) + ":" + pad(seconds % 60);
      clock.classList.toggle("over", seconds > planned);
    });
  }

  function typingNote() {
    var active = document.activeElement;
    return active && active.closest && active.closest(".note-form, .live-park");
  }

  // The card last scrolled to is kept on the page's wrapper, so a new page scrolls afresh.
  function followCurrent() {
    var page = document.querySelector(".live");
    if (!page) return;
    var current = page.querySelector(".live-card.is-current");
    var id = current ? current.id : "";
    if (id && id !== page.dataset.followed && !typingNote()) {
      var still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      current.scrollIntoView({ block: "start", behavior: still ? "auto" : "smooth" });
    }
    page.dataset.followed = id;
  }

  // Browsers without Element.moveBefore lose focus when htmx moves a preserved note form.
  var focused = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    if (event.detail.target && event.detail.target.id === "board" && active && active.id) {
      focused = { id: active.id, start: active.selectionStart, end: active.selectionEnd };
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (focused && document.activeElement === document.body) {
      var element = document.getElementById(focused.id);
      if (element) {
        element.focus({ preventScroll: true });
        if (focused.start != null && element.setSelectionRange) {
          element.setSelectionRange(focused.start, focused.end);
        }
      }
    }
    focused = null;
    followCurrent();
  });

  function start() {
    if (!focused) followCurrent(); // else after the caret is back (htmx:afterSettle)
    tick();
  }

  if (window.htmx) {
    htmx.onLoad(start); // the first load, and everything htmx swaps in (boosted pages, polls, history)
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
  window.setInterval(tick, 1000);
})();
