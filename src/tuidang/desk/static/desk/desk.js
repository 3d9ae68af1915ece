// The desk: a ringing phone impossible to miss (sound, notification, the tab's title) and
// keyboard shortcuts (Alt + a letter clicks the button marked data-shortcut="letter").
(function () {
  "use strict";
  var desk = document.querySelector(".desk");
  if (!desk) { return; }
  // A new call reloads the desk: it opens at the top, on the call, not where the last was.
  if ("scrollRestoration" in history) { history.scrollRestoration = "manual"; }
  var title = document.title;
  var ringing = false;
  var lastBeep = 0;
  var audio = null;

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context || Date.now() - lastBeep < 1500) { return; }
    lastBeep = Date.now();
    try {
      audio = audio || new Context();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.2;
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.5);
    } catch (error) { /* no sound: the title and the notification remain */ }
  }

  function isRinging() {
    return !!document.querySelector("[data-testid=phone-ringing], [data-ringing]");
  }

  function follow() {
    var now = isRinging();
    if (now) {
      beep();
      if (!ringing) {
        document.title = "☎ " + desk.dataset.ringingText + " · " + title;
        if (window.Notification && Notification.permission === "granted") {
          new Notification(desk.dataset.ringingText, { tag: "tuidang-ringing" });
        }
      }
    } else if (ringing) {
      document.title = title;
    }
    ringing = now;
  }

  document.body.addEventListener("htmx:afterSettle", follow);

  // The live poll hands back the token of what it showed; while nothing changed the server
  // answers 204 and htmx keeps the page as it is (desk/poll.py).
  var pollToken = "";
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id === "live" && pollToken) {
      event.detail.headers["X-Desk-State"] = pollToken;
    }
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt.id !== "live" || !event.detail.xhr) { return; }
    if (event.detail.xhr.status === 200) {
      pollToken = event.detail.xhr.getResponseHeader("X-Desk-State") || "";
    } else if (event.detail.xhr.status !== 204) {
      pollToken = "";
    }
  });
  follow();

  var notify = document.getElementById("notify");
  if (notify && window.Notification && Notification.permission === "default") {
    notify.hidden = false;
    notify.addEventListener("click", function () {
      Notification.requestPermission().then(function () { notify.hidden = true; });
    });
  }

  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey || !/^Key[A-Z]$/.test(event.code)) {
      return;
    }
    var letter = event.code.slice(3).toLowerCase();
    var button = document.querySelector('[data-shortcut="' + letter + '"]');
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  });
})();
