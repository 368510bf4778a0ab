/*
 * Staff console, one conversation taken over (bot/portal/templates/staff/takeover_conversation.html):
 * every 2 seconds, ask the portal for the lines written since the last one shown and append them,
 * so that the tenant's new messages appear while the agent is on the page. The wording comes from
 * the page's data-* attributes; text is inserted as text, never as HTML. Polling stops once the
 * conversation is handed back, and pauses while the tab is hidden.
 */
(function () {
  "use strict";

  var POLL_MS = 2000;
  var feed = document.getElementById("fil");
  var botState = document.getElementById("etat-assistant");
  if (!feed || !botState) {
    return;
  }
  var url = feed.getAttribute("data-feed-url");
  var cursor = parseFloat(feed.getAttribute("data-cursor")) || 0;
  var status = feed.getAttribute("data-status");
  var busy = false;
  var timer = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function append(line) {
    var empty = feed.querySelector(".line-empty");
    if (empty) {
      empty.parentNode.removeChild(empty);
    }
    var item = el("li", "line line-" + line.kind);
    item.appendChild(el("span", "who", feed.getAttribute("data-who-" + line.kind) || line.kind));
    item.appendChild(document.createTextNode(" "));
    item.appendChild(el("time", "", line.time));
    if (line.text) {
      item.appendChild(el("p", "", line.text));
    }
    if (line.buttons && line.buttons.length) {
      item.appendChild(el("p", "hint", feed.getAttribute("data-buttons") + " " + line.buttons.join(", ")));
    }
    feed.appendChild(item);
  }

  function showState(answer) {
    var key;
    if (!answer.available) {
      key = "data-unavailable";
    } else if (answer.paused) {
      key = "data-paused";
    } else if (answer.status === "taken") {
      key = "data-unpaused";
    } else {
      key = "data-active";
    }
    var text = botState.getAttribute(key);
    if (botState.textContent.trim() !== text) {
      botState.textContent = text;
    }
  }

  function stop(message) {
    clearInterval(timer);
    if (message) {
      botState.textContent = message;
    }
  }

  function poll() {
    if (busy || document.hidden) {
      return;
    }
    busy = true;
    fetch(url + "?depuis=" + encodeURIComponent(String(cursor)), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store",
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || type.indexOf("application/json") !== 0) {
          // Logged out or idle too long: the console answered with its login page.
          stop(feed.getAttribute("data-session-ended"));
          return null;
        }
        return response.json();
      })
      .then(function (answer) {
        if (!answer) {
          return;
        }
        var lines = answer.lines || [];
        var atBottom = feed.scrollTop + feed.clientHeight >= feed.scrollHeight - 20;
        lines.forEach(append);
        if (lines.length && atBottom) {
          feed.scrollTop = feed.scrollHeight;
        }
        if (typeof answer.cursor === "number") {
          cursor = answer.cursor;
        }
        showState(answer);
        status = answer.status || status;
        if (status === "closed") {
          stop("");
        }
      })
      .catch(function () {
        /* a network hiccup: the next round tries again */
      })
      .then(function () {
        busy = false;
      });
  }

  feed.scrollTop = feed.scrollHeight;
  if (status !== "closed") {
    timer = setInterval(poll, POLL_MS);
  }
})();
