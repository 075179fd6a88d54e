// The manager's read-along: tick the timer, keep the current card in view, keep the caret
// in a note while the board is swapped. Everything works without this file; it only helps.
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

  var lastCurrent = null;

  function typingNote() {
    var active = document.activeElement;
    return active && active.closest && active.closest(".note-form, .live-park");
  }

  function followCurrent() {
    var current = document.querySelector(".live-card.is-current");
    var id = current ? current.id : null;
    if (id && id !== lastCurrent && !typingNote()) {
      var still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      current.scrollIntoView({ block: "start", behavior: still ? "auto" : "smooth" });
    }
    lastCurrent = id;
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
    tick();
  });

  document.addEventListener("DOMContentLoaded", function () {
    followCurrent();
    tick();
    window.setInterval(tick, 1000);
  });
})();
