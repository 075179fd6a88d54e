/* The meeting page: honest save status, retries with backoff, no typed text lost on the way out, the timer.
   The card form autosaves through htmx (hx-trigger on #card); this file only watches and helps.
   Loaded once from base.html on every page: the listeners below look for the card when they fire,
   so the page works however it arrived (full load, boosted visit, back button). */
(function () {
  "use strict";

  var MAX_RETRY_DELAY = 30000;
  var FIELDS = ["notes", "next_step", "projection_date"];

  function card() {
    return document.getElementById("card");
  }

  function isCard(element) {
    return Boolean(element) && element.id === "card";
  }

  // State lives on the form, so a page swapped in by htmx starts clean.
  function stateOf(form) {
    if (!form.fwSave) {
      form.fwSave = { dirty: false, inflight: false, failures: 0, retryTimer: null, waiting: [] };
    }
    return form.fwSave;
  }

  function setStatus(text, kind) {
    var status = document.querySelector("#save-state .save-status");
    if (status) {
      status.textContent = text;
      status.dataset.state = kind;
    }
  }

  function unsaved(state) {
    return state.dirty || state.inflight || state.retryTimer !== null;
  }

  function release(state) {
    var still = [];
    state.waiting.forEach(function (waiter) {
      if (waiter.ready()) {
        waiter.go();
      } else {
        still.push(waiter);
      }
    });
    state.waiting = still;
  }

  function saveNow(form) {
    var state = stateOf(form);
    if (state.retryTimer !== null) {
      window.clearTimeout(state.retryTimer);
      state.retryTimer = null;
    }
    htmx.trigger(form, "retry");
  }

  function scheduleRetry(form) {
    var state = stateOf(form);
    state.failures += 1;
    var delay = Math.min(MAX_RETRY_DELAY, 1000 * Math.pow(2, state.failures - 1));
    setStatus("Not saved — retrying", "retrying");
    if (state.retryTimer !== null) {
      window.clearTimeout(state.retryTimer);
    }
    state.retryTimer = window.setTimeout(function () {
      state.retryTimer = null;
      htmx.trigger(form, "retry");
    }, delay);
  }

  function markInvalidFields() {
    FIELDS.forEach(function (name) {
      var field = document.getElementById(name);
      var error = document.getElementById(name + "-error");
      if (field && error) {
        field.setAttribute("aria-invalid", error.textContent.trim() ? "true" : "false");
      }
    });
  }

  // Capture phase: runs before htmx's own listener, which may send the save at once (on "change").
  function edited(event) {
    var form = event.target.form;
    if (isCard(form)) {
      stateOf(form).dirty = true;
      setStatus("Saving…", "saving");
    }
  }
  document.addEventListener("input", edited, true);
  document.addEventListener("change", edited, true);

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!isCard(form)) return;
    var state = stateOf(form);
    state.dirty = false;
    state.inflight = true;
    setStatus("Saving…", "saving");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!isCard(form)) return;
    var state = stateOf(form);
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    state.inflight = false;
    if (status === 0 || status === 429 || status >= 500) {
      scheduleRetry(form);
      return;
    }
    state.failures = 0;
    markInvalidFields();
    if (state.dirty) {
      setStatus("Saving…", "saving"); // typed while this save was on its way; the next one is coming
    } else if (status >= 400 && status !== 409 && status !== 422) {
      setStatus("Not saved — reload the page", "refused");
    }
    release(state);
  });

  // Leaving through htmx (boosted links and forms): first let the card's latest text reach the server.
  document.addEventListener("htmx:confirm", function (event) {
    var form = card();
    var elt = event.detail.elt;
    if (!form || isCard(elt)) return;
    var state = stateOf(form);
    if (!unsaved(state)) return;
    event.preventDefault();
    state.waiting.push({
      ready: function () {
        return !unsaved(state);
      },
      go: function () {
        var trigger = event.detail.triggeringEvent;
        if (elt.isConnected) {
          event.detail.issueRequest(true);
        } else if (elt.tagName === "FORM") {
          submitAgain(elt, trigger && trigger.submitter); // the save swapped it (the conflict panel)
        } else if (elt.href) {
          window.location.assign(elt.href);
        }
      },
    });
    if (!state.inflight) saveNow(form);
  });

  // Plain form posts: the card's own buttons carry the whole card, so they wait only for a save already on
  // its way (same version); any other form (Start meeting, Keep mine) waits until the card is saved.
  document.addEventListener("submit", function (event) {
    var form = card();
    if (!form || event.defaultPrevented) return; // htmx handles its own submits
    var state = stateOf(form);
    var own = event.target === form;
    var waitFor = own ? function () { return !state.inflight; } : function () { return !unsaved(state); };
    if (waitFor()) return;
    event.preventDefault();
    var target = event.target;
    var submitter = event.submitter;
    state.waiting.push({ ready: waitFor, go: function () { submitAgain(target, submitter); } });
    if (!own && !state.inflight) saveNow(form);
  });

  // The save we waited for may have swapped the form for a fresh copy (the conflict panel): submit that one.
  function submitAgain(form, submitter) {
    if (!form.isConnected && form.id) {
      var fresh = document.getElementById(form.id);
      if (!fresh) return;
      submitter = submitter && submitter.name
        ? fresh.querySelector('[name="' + submitter.name + '"][value="' + submitter.value + '"]')
        : fresh.querySelector('[type="submit"]');
      form = fresh;
    }
    form.requestSubmit(submitter || undefined);
  }

  // Plain links (the account list): go once the card is saved.
  document.addEventListener("click", function (event) {
    var form = card();
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!form || !link || event.defaultPrevented || link.getAttribute("href").charAt(0) === "#") return;
    var state = stateOf(form);
    if (!unsaved(state)) return;
    event.preventDefault();
    state.waiting.push({
      ready: function () { return !unsaved(state); },
      go: function () { window.location.assign(link.href); },
    });
    if (!state.inflight) saveNow(form);
  });

  // Reload or close with text not yet saved: send it anyway (a retried save is harmless).
  window.addEventListener("pagehide", function () {
    var form = card();
    if (form && navigator.sendBeacon) {
      var state = stateOf(form);
      if (state.dirty || state.retryTimer !== null) {
        navigator.sendBeacon(form.action, new FormData(form));
      }
    }
  });

  // The timer counts from the server's figure, so a phone's wrong clock does not matter.
  function tick() {
    document.querySelectorAll("time[data-elapsed]").forEach(function (timer) {
      if (!timer.dataset.loadedAt) timer.dataset.loadedAt = String(Date.now());
      var seconds = Number(timer.dataset.elapsed) + Math.floor((Date.now() - Number(timer.dataset.loadedAt)) / 1000);
      var minutes = Math.floor(seconds / 60);
      var rest = seconds % 60;
      timer.textContent = minutes + ":" + (rest < 10 ? "0" : "") + rest;
      timer.setAttribute("datetime", "PT" + seconds + "S");
      timer.parentElement.classList.toggle("over", seconds > Number(timer.dataset.planned));
    });
  }

  // Loaded once from base.html: start on the first load and on whatever htmx swaps in (boosted
  // visits, history restore); a timer already counting keeps its start (loadedAt).
  if (window.htmx) {
    htmx.onLoad(tick);
  } else {
    document.addEventListener("DOMContentLoaded", tick);
  }
  window.setInterval(tick, 1000);
})();
