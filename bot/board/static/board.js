// The Mini App's sign-in: hand Telegram's signed initData to the server. Telegram's script
// provides it; without that script it is read from the address's fragment, where Telegram
// puts it too. Nothing else on the board needs JavaScript.
(function () {
  "use strict";
  var form = document.getElementById("tg-login");
  if (!form) return;
  var data = "";
  var app = window.Telegram && window.Telegram.WebApp;
  if (app && app.initData) {
    data = app.initData;
    if (app.ready) app.ready();
  } else {
    data = new URLSearchParams(location.hash.slice(1)).get("tgWebAppData") || "";
  }
  if (data) {
    form.elements.init_data.value = data;
    form.submit();
  } else {
    document.getElementById("tg-missing").hidden = false;
  }
})();
