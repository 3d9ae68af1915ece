// The declaration form's proof of work (an ALTCHA challenge, solved here, with no third
// party): find the number whose SHA-256 with the salt is the challenge, and send it with
// the form. Without scripts, or without WebCrypto, the form is sent without it and the
// server waits a few seconds instead.
(function () {
  "use strict";
  var form = document.getElementById("declare-form");
  var source = document.getElementById("work-challenge");
  if (!form || !source || !window.crypto || !crypto.subtle || !window.TextEncoder) return;
  var challenge = JSON.parse(source.textContent);
  var status = document.getElementById("work-status");
  var encoder = new TextEncoder();
  var solution = null;
  var waiting = false;

  function hex(buffer) {
    var bytes = new Uint8Array(buffer), out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  async function solve() {
    for (var n = 0; n <= challenge.maxNumber; n++) {
      var digest = await crypto.subtle.digest("SHA-256", encoder.encode(challenge.salt + n));
      if (hex(digest) === challenge.challenge) return n;
    }
    return null;
  }

  var solving = solve().then(function (number) {
    if (number === null) return;
    solution = btoa(JSON.stringify({
      algorithm: challenge.algorithm, challenge: challenge.challenge, number: number,
      salt: challenge.salt, signature: challenge.signature
    }));
    form.elements.work.value = solution;
    form.dataset.work = "solved";
    if (waiting) form.submit();
  });

  form.addEventListener("submit", function (event) {
    if (solution !== null) return;
    event.preventDefault();
    waiting = true;
    status.hidden = false;
    solving.then(function () { if (solution === null) form.submit(); });
  });
})();
