// The wallboard's poll (every second, with htmx): a link revoked takes the board away at
// once and stops the poll; a hotline that cannot be reached marks the board as stale.
(function () {
  "use strict";
  var board = document.getElementById("wallboard");
  if (!board) {
    return;
  }
  function notice(text) {
    var p = document.createElement("p");
    p.className = "wallboard-notice";
    p.setAttribute("role", "alert");
    p.textContent = text;
    return p;
  }
  board.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr.status === 404) {
      // A new element without the poll: htmx stops polling the one taken out.
      var gone = document.createElement("div");
      gone.className = "wallboard";
      gone.appendChild(notice(board.dataset.gone));
      board.replaceWith(gone);
    } else {
      board.prepend(notice(board.dataset.stale));
    }
  });
  board.addEventListener("htmx:sendError", function () {
    board.prepend(notice(board.dataset.stale));
  });
})();
