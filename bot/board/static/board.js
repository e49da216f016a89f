// The board's only script.
// 1. The Mini App's sign-in: hand Telegram's signed initData to the server. Telegram's script
//    provides it; without that script it is read from the address's fragment, where Telegram
//    puts it too.
// 2. Pages that carry a page token instead of a cookie (the Mini App: Telegram Web frames it
//    on another site, where the browser withholds cookies): following a link of the board
//    becomes a form sent with the token, so every request carries it. Forms carry it already.
(function () {
  "use strict";
  var login = document.getElementById("tg-login");
  if (login) {
    var data = "";
    var app = window.Telegram && window.Telegram.WebApp;
    if (app && app.initData) {
      data = app.initData;
      if (app.ready) app.ready();
    } else {
      data = new URLSearchParams(location.hash.slice(1)).get("tgWebAppData") || "";
    }
    if (data) {
      login.elements.init_data.value = data;
      login.submit();
    } else {
      document.getElementById("tg-missing").hidden = false;
    }
    return;
  }
  var meta = document.querySelector('meta[name="board-session"]');
  if (!meta) return;
  var next = document.getElementById("continue");
  if (next) {
    next.submit();
    return;
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    var url = new URL(link.getAttribute("href"), location.href);
    if (url.origin !== location.origin || url.pathname.indexOf("/board") !== 0) return;
    if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
    event.preventDefault();
    var form = document.createElement("form");
    form.method = "post";
    form.action = url.pathname + url.search + url.hash;
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "session";
    field.value = meta.content;
    form.appendChild(field);
    document.body.appendChild(form);
    form.submit();
  });
})();
