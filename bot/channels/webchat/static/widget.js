/*
 * Assistant des locataires: the website chat widget. Plain ES2017, no build step.
 *
 * Embed it with one tag (every data-* setting is optional):
 *
 *   <script src="https://portail.example/widget/widget.js" defer
 *           data-socket-url="https://assistant.example" data-title="Assistant des locataires"
 *           data-initial-message="Bonjour !" data-init-payload="/greet"></script>
 *
 * A page may also set window.ASSISTANT_WIDGET = {socketUrl, sessionToken, title, initialMessage,
 * initPayload} before the tag; those values win. Without a socket URL the portal that served
 * this file says where Rasa is (/widget/config.json).
 *
 * Rasa's socket.io channel (bot/channels/socketio.py): the widget emits session_request
 * {session_id} on every (re)connection with the session the server issued it last (null at
 * first); the server answers session_confirm with the session to keep (a new one when it did
 * not sign the one presented), and the widget keeps that one. user_uttered {message, metadata}
 * is read as coming from the session the socket was confirmed; the
 * first message of a page view carries metadata {session_token} when the page has one, which
 * Rasa hands to action_session_start as session_started_metadata. Replies come as bot_uttered
 * {text, quick_replies, attachment}.
 *
 * Safety: bot text is never parsed as HTML; every node is built with textContent, and only
 * http(s) URLs become links. The conversation id and transcript are kept in localStorage
 * (sessionStorage on a logged-in page, cleared at log out) so that a reload continues it.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.AssistantWidget) {
    return;
  }
  var BASE = new URL(".", script.src).href;
  var STORAGE_PREFIX = "assistant-widget:v1:";
  // Rasa starts a new session after 60 min of silence (domain.yml session_config): so do we.
  var IDLE_MS = 60 * 60 * 1000;
  var MAX_ENTRIES = 200;
  var TYPING_TIMEOUT_MS = 20000;
  var UPLOAD_PATH = /^\/depot\/[A-Za-z0-9_-]+\/?$/;
  var URL_PATTERN = /https?:\/\/[^\s<>"'«»]+/g;
  var TRAILING = /[.,;:!?)\]}'"»]+$/;
  var ACCEPT = "application/pdf,.pdf,image/png,image/jpeg,.png,.jpg,.jpeg";

  // ------------------------------------------------------------------ settings

  function readSettings() {
    var data = script.dataset;
    var page = window.ASSISTANT_WIDGET || {};
    var pick = function (key, attribute) {
      return page[key] || data[attribute || key] || "";
    };
    return {
      socketUrl: pick("socketUrl"),
      sessionToken: page.sessionToken || "",
      title: pick("title"),
      initialMessage: pick("initialMessage"),
      initPayload: pick("initPayload"),
    };
  }

  /** The account id in a logged-in page's token (payload.signature, base64url JSON). */
  function accountOf(token) {
    try {
      var payload = token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
      var claims = JSON.parse(atob(payload + "===".slice((payload.length + 3) % 4)));
      return String(claims.acc || "");
    } catch (error) {
      return "";
    }
  }

  function fetchJson(url) {
    return fetch(url, { credentials: "omit" }).then(function (response) {
      if (!response.ok) {
        throw new Error(url + ": HTTP " + response.status);
      }
      return response.json();
    });
  }

  function loadScript(url) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = url;
      tag.async = true;
      tag.onload = resolve;
      tag.onerror = function () {
        reject(new Error(url + " did not load"));
      };
      document.head.appendChild(tag);
    });
  }

  // ------------------------------------------------------------------ storage

  /** Storage that never throws (private browsing, storage disabled): falls back to memory. */
  function makeStore(kind, key) {
    var memory = null;
    var backend = null;
    try {
      backend = window[kind];
      backend.setItem(key + ":probe", "1");
      backend.removeItem(key + ":probe");
    } catch (error) {
      backend = null;
    }
    return {
      load: function () {
        try {
          var raw = backend ? backend.getItem(key) : memory;
          return raw ? JSON.parse(raw) : null;
        } catch (error) {
          return null;
        }
      },
      save: function (value) {
        var raw = JSON.stringify(value);
        try {
          if (backend) {
            backend.setItem(key, raw);
            return;
          }
        } catch (error) {
          // Quota exceeded: keep the conversation going in memory.
        }
        memory = raw;
      },
      clear: function () {
        memory = null;
        try {
          if (backend) {
            backend.removeItem(key);
          }
        } catch (error) {
          // Nothing stored.
        }
      },
    };
  }

  function freshState() {
    // The session is the server's to issue (session_confirm).
    return { sessionId: null, updatedAt: Date.now(), open: false, entries: [], upload: null };
  }

  // ------------------------------------------------------------------ DOM helpers

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === true) {
        node.setAttribute(name, "");
      } else if (value !== false && value !== null && value !== undefined) {
        node.setAttribute(name, String(value));
      }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
    });
  }

  function safeUrl(candidate) {
    try {
      var url = new URL(candidate);
      return url.protocol === "http:" || url.protocol === "https:" ? url : null;
    } catch (error) {
      return null;
    }
  }

  /** The http(s) URLs in a text, without the punctuation that ends a sentence. */
  function urlsIn(textValue) {
    var found = [];
    var match;
    URL_PATTERN.lastIndex = 0;
    while ((match = URL_PATTERN.exec(textValue)) !== null) {
      var url = match[0].replace(TRAILING, "");
      found.push({ index: match.index, text: url });
    }
    return found;
  }

  // ------------------------------------------------------------------ the widget

  function Widget(labels, settings, remote) {
    this.labels = labels;
    this.settings = settings;
    this.uploadOrigins = [new URL(BASE).origin];
    if (remote.uploadOrigin) {
      this.uploadOrigins.push(remote.uploadOrigin);
    }
    var account = settings.sessionToken ? accountOf(settings.sessionToken) : "";
    // A logged-in page keeps its own conversation, per account, for the tab only.
    this.store = settings.sessionToken
      ? makeStore("sessionStorage", STORAGE_PREFIX + "account-" + (account || "unknown"))
      : makeStore("localStorage", STORAGE_PREFIX + "public");
    this.state = this.store.load();
    if (!this.state || Date.now() - this.state.updatedAt > IDLE_MS) {
      this.state = freshState();
    }
    this.socket = null;
    this.confirmed = false;
    // Session requests not answered yet: only the answer to the last one is kept.
    this.sessionRequests = 0;
    this.outbox = [];
    this.tokenSent = false;
    this.typingTimer = null;
    this.build();
    this.renderAll();
    if (this.state.open) {
      this.open(false);
    }
  }

  Widget.prototype.t = function (key, values) {
    var value = this.labels[key] || key;
    return values ? format(value, values) : value;
  };

  Widget.prototype.save = function () {
    this.state.updatedAt = Date.now();
    if (this.state.entries.length > MAX_ENTRIES) {
      this.state.entries = this.state.entries.slice(-MAX_ENTRIES);
    }
    this.store.save(this.state);
  };

  Widget.prototype.build = function () {
    var self = this;
    var host = el("div", { class: "assistant-widget-host" });
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var stylesheet = el("link", { rel: "stylesheet", href: BASE + "widget.css" });
    // Shown once styled: an unstyled launcher would flash inside the host page.
    host.style.visibility = "hidden";
    stylesheet.onload = stylesheet.onerror = function () {
      host.style.visibility = "";
    };
    root.appendChild(stylesheet);

    this.launcher = el("button", {
      type: "button",
      class: "aw-launcher",
      "aria-expanded": "false",
      "aria-controls": "aw-panel",
      "aria-label": this.t("launcherLabel"),
    }, [el("span", { class: "aw-launcher-icon", "aria-hidden": "true" }), this.t("launcher")]);

    var title = this.settings.title || this.t("title");
    this.status = el("p", { class: "aw-status", role: "status" });
    this.log = el("div", {
      class: "aw-log",
      role: "log",
      "aria-live": "polite",
      "aria-label": this.t("logLabel"),
      tabindex: "0",
    });
    this.typing = el("div", { class: "aw-typing", role: "status" });
    this.fileInput = el("input", { type: "file", accept: ACCEPT, hidden: true, tabindex: "-1" });
    this.attachButton = el("button", {
      type: "button",
      class: "aw-attach",
      "aria-label": this.t("attach"),
      title: this.t("attach"),
      hidden: true,
    }, [el("span", { class: "aw-attach-icon", "aria-hidden": "true" })]);
    this.input = el("input", {
      id: "aw-input",
      type: "text",
      class: "aw-input",
      autocomplete: "off",
      maxlength: "1000",
      placeholder: this.t("inputPlaceholder"),
    });
    this.sendButton = el("button", { type: "submit", class: "aw-send" }, [this.t("send")]);
    this.form = el("form", { class: "aw-form" }, [
      this.attachButton,
      this.fileInput,
      el("label", { class: "aw-sr", for: "aw-input" }, [this.t("inputLabel")]),
      this.input,
      this.sendButton,
    ]);
    var restart = el("button", {
      type: "button",
      class: "aw-icon aw-restart",
      "aria-label": this.t("restart"),
      title: this.t("restart"),
    }, ["↺"]);
    var close = el("button", {
      type: "button",
      class: "aw-icon aw-close",
      "aria-label": this.t("close"),
      title: this.t("close"),
    }, ["×"]);
    this.panel = el("section", {
      id: "aw-panel",
      class: "aw-panel",
      role: "dialog",
      "aria-labelledby": "aw-title",
      hidden: true,
    }, [
      el("header", { class: "aw-header" }, [
        el("div", { class: "aw-heading" }, [el("h2", { id: "aw-title" }, [title]), this.status]),
        restart,
        close,
      ]),
      this.log,
      this.typing,
      this.form,
    ]);
    root.appendChild(el("div", { class: "aw-root", lang: "fr" }, [this.launcher, this.panel]));

    this.launcher.addEventListener("click", function () {
      self.open(true);
    });
    close.addEventListener("click", function () {
      self.close();
    });
    restart.addEventListener("click", function () {
      if (window.confirm(self.t("restartConfirm"))) {
        self.restart();
      }
    });
    this.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        self.close();
      }
    });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var message = self.input.value.trim();
      if (message) {
        self.input.value = "";
        self.say(message, message);
      }
    });
    this.attachButton.addEventListener("click", function () {
      self.fileInput.click();
    });
    this.fileInput.addEventListener("change", function () {
      var file = self.fileInput.files && self.fileInput.files[0];
      self.fileInput.value = "";
      if (file) {
        self.upload(file);
      }
    });
    var container = document.getElementById("assistant-widget");
    (container || document.body).appendChild(host);
  };

  // ------------------------------------------------------------------ rendering

  Widget.prototype.renderAll = function () {
    while (this.log.firstChild) {
      this.log.removeChild(this.log.firstChild);
    }
    var lastUser = -1;
    this.state.entries.forEach(function (entry, index) {
      if (entry.from === "user") {
        lastUser = index;
      }
    });
    var self = this;
    this.state.entries.forEach(function (entry, index) {
      self.log.appendChild(self.renderEntry(entry, index > lastUser));
    });
    this.refreshAttach();
    this.scrollDown();
  };

  Widget.prototype.renderEntry = function (entry, active) {
    var self = this;
    var who = entry.from === "user" ? this.t("you") : this.t("assistant");
    var item = el("div", { class: "aw-msg aw-" + entry.from });
    if (entry.from !== "notice") {
      item.appendChild(el("span", { class: "aw-sr" }, [who + " "]));
    }
    if (entry.text) {
      item.appendChild(this.linkified(entry.text));
    }
    if (entry.image) {
      var src = safeUrl(entry.image);
      if (src) {
        item.appendChild(el("img", { src: src.href, alt: this.t("image"), class: "aw-image" }));
      }
    }
    if (entry.buttons && entry.buttons.length) {
      var group = el("div", { class: "aw-quick", role: "group" });
      entry.buttons.forEach(function (button) {
        var node = el("button", { type: "button", class: "aw-choice", disabled: !active }, [
          button.title,
        ]);
        node.addEventListener("click", function () {
          self.say(button.title, button.payload);
        });
        group.appendChild(node);
      });
      item.appendChild(group);
    }
    return item;
  };

  /** The text as text nodes, with each http(s) URL as a link opening a new window. */
  Widget.prototype.linkified = function (textValue) {
    var body = el("p", { class: "aw-text" });
    var position = 0;
    var self = this;
    urlsIn(textValue).forEach(function (found) {
      var url = safeUrl(found.text);
      if (!url) {
        return;
      }
      body.appendChild(document.createTextNode(textValue.slice(position, found.index)));
      body.appendChild(
        el("a", { href: url.href, target: "_blank", rel: "noopener noreferrer" }, [
          found.text,
          el("span", { class: "aw-sr" }, [" " + self.t("opensInNewWindow")]),
        ])
      );
      position = found.index + found.text.length;
    });
    body.appendChild(document.createTextNode(textValue.slice(position)));
    return body;
  };

  Widget.prototype.add = function (entry) {
    if (entry.from === "user") {
      this.log.querySelectorAll(".aw-choice").forEach(function (button) {
        button.disabled = true;
      });
    }
    this.state.entries.push(entry);
    this.save();
    this.log.appendChild(this.renderEntry(entry, true));
    this.scrollDown();
  };

  Widget.prototype.scrollDown = function () {
    this.log.scrollTop = this.log.scrollHeight;
  };

  Widget.prototype.setTyping = function (on) {
    var self = this;
    clearTimeout(this.typingTimer);
    while (this.typing.firstChild) {
      this.typing.removeChild(this.typing.firstChild);
    }
    this.typing.classList.toggle("aw-visible", on);
    if (on) {
      this.typing.appendChild(el("span", { class: "aw-sr" }, [this.t("typing")]));
      ["", "", ""].forEach(function () {
        self.typing.appendChild(el("span", { class: "aw-dot", "aria-hidden": "true" }));
      });
      this.typingTimer = setTimeout(function () {
        self.setTyping(false);
      }, TYPING_TIMEOUT_MS);
    }
  };

  Widget.prototype.setStatus = function (message) {
    this.status.textContent = message || "";
    this.panel.classList.toggle("aw-degraded", !!message);
  };

  // ------------------------------------------------------------------ open, close, restart

  Widget.prototype.open = function (focus) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.classList.add("aw-hidden");
    this.state.open = true;
    this.save();
    this.connect();
    if (!this.state.entries.length) {
      this.greet();
    }
    this.scrollDown();
    if (focus) {
      this.input.focus();
    }
  };

  Widget.prototype.close = function () {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.classList.remove("aw-hidden");
    this.state.open = false;
    this.save();
    this.launcher.focus();
  };

  Widget.prototype.greet = function () {
    var welcome = this.settings.initialMessage || (this.settings.initPayload ? "" : this.t("welcome"));
    if (welcome) {
      this.add({ from: "bot", text: welcome });
    }
    if (this.settings.initPayload) {
      this.send(this.settings.initPayload);
    }
  };

  Widget.prototype.restart = function () {
    this.store.clear();
    this.state = freshState();
    this.state.open = true;
    this.outbox = [];
    this.tokenSent = false;
    this.setTyping(false);
    this.renderAll();
    if (this.socket && this.socket.connected) {
      this.requestSession();
    }
    this.greet();
    this.input.focus();
  };

  Widget.prototype.disconnect = function () {
    if (this.socket) {
      this.socket.off();
      this.socket.close();
      this.socket = null;
    }
  };

  /** Every conversation this browser keeps for the widget (the logged-in page, at log out). */
  function forgetAll() {
    ["localStorage", "sessionStorage"].forEach(function (kind) {
      try {
        var storage = window[kind];
        for (var index = storage.length - 1; index >= 0; index -= 1) {
          var key = storage.key(index);
          if (key && key.indexOf(STORAGE_PREFIX) === 0) {
            storage.removeItem(key);
          }
        }
      } catch (error) {
        // Storage disabled: nothing was kept.
      }
    });
  }

  // ------------------------------------------------------------------ socket.io

  Widget.prototype.connect = function () {
    var self = this;
    if (this.socket) {
      return;
    }
    if (typeof window.io !== "function" || !this.settings.socketUrl) {
      this.setStatus(this.t("unavailable"));
      return;
    }
    // WebSocket first (no CORS involved); long-polling, which needs Rasa's --cors to allow this
    // page's origin, is only the fall-back for networks that block WebSockets.
    this.socket = window.io(this.settings.socketUrl, {
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      withCredentials: false,
    });
    this.socket.on("connect", function () {
      self.setStatus("");
      self.sessionRequests = 0;
      self.requestSession();
    });
    this.socket.on("session_confirm", function (sessionId) {
      var id = typeof sessionId === "string" ? sessionId : sessionId && sessionId.session_id;
      self.sessionRequests = Math.max(0, self.sessionRequests - 1);
      if (!id || self.sessionRequests > 0) {
        return; // the answer to a session request made before a restart
      }
      if (id !== self.state.sessionId) {
        self.state.sessionId = id; // issued by the server: a new conversation
        self.save();
      }
      self.confirmed = true;
      self.flush();
    });
    this.socket.on("bot_uttered", function (message) {
      self.receive(message || {});
    });
    this.socket.on("disconnect", function () {
      self.confirmed = false;
      self.setStatus(self.t("reconnecting"));
    });
    this.socket.on("connect_error", function () {
      self.setStatus(self.t("reconnecting"));
    });
  };

  Widget.prototype.requestSession = function () {
    this.confirmed = false;
    this.sessionRequests += 1;
    this.socket.emit("session_request", { session_id: this.state.sessionId || null });
  };

  Widget.prototype.send = function (payload) {
    var data = { message: payload, session_id: this.state.sessionId };
    if (this.settings.sessionToken && !this.tokenSent) {
      // Once per page view: each view of the logged-in page mints a new token.
      data.metadata = { session_token: this.settings.sessionToken };
      this.tokenSent = true;
    }
    this.outbox.push(data);
    this.setTyping(true);
    this.flush();
  };

  Widget.prototype.flush = function () {
    if (!this.socket || !this.socket.connected || !this.confirmed) {
      return;
    }
    while (this.outbox.length) {
      var data = this.outbox.shift();
      data.session_id = this.state.sessionId;
      this.socket.emit("user_uttered", data);
    }
  };

  Widget.prototype.say = function (shown, payload) {
    this.add({ from: "user", text: shown });
    this.send(payload);
    this.input.focus();
  };

  Widget.prototype.receive = function (message) {
    this.setTyping(false);
    var buttons = (message.quick_replies || message.buttons || [])
      .filter(function (button) {
        return button && typeof button.title === "string" && typeof button.payload === "string";
      })
      .map(function (button) {
        return { title: button.title, payload: button.payload };
      });
    var attachment = message.attachment || {};
    var image = attachment.type === "image" && attachment.payload ? attachment.payload.src : null;
    var textValue = typeof message.text === "string" ? message.text : "";
    if (!textValue && !buttons.length && !image) {
      return;
    }
    var link = this.uploadLinkIn(textValue);
    if (link) {
      this.state.upload = link;
    }
    this.add({ from: "bot", text: textValue, buttons: buttons, image: image });
    this.refreshAttach();
  };

  // ------------------------------------------------------------------ files

  /** The portal upload link (/depot/<token>) in a bot message, if any. */
  Widget.prototype.uploadLinkIn = function (textValue) {
    var origins = this.uploadOrigins;
    var links = urlsIn(textValue)
      .map(function (found) {
        return safeUrl(found.text);
      })
      .filter(function (url) {
        return url && UPLOAD_PATH.test(url.pathname) && origins.indexOf(url.origin) !== -1;
      });
    return links.length ? links[links.length - 1].href : null;
  };

  Widget.prototype.refreshAttach = function () {
    this.attachButton.hidden = !this.state.upload;
  };

  Widget.prototype.upload = async function (file) {
    var link = this.state.upload;
    if (!link) {
      return;
    }
    this.add({ from: "notice", text: this.t("uploadSending", { name: file.name }) });
    var body = new FormData();
    body.append("fichier", file, file.name);
    var response;
    try {
      response = await fetch(link, {
        method: "POST",
        body: body,
        credentials: "omit",
        referrerPolicy: "no-referrer",
      });
    } catch (error) {
      this.add({ from: "notice", text: this.t("uploadFailed") });
      return;
    }
    if (response.ok) {
      this.state.upload = null;
      this.refreshAttach();
      this.add({ from: "notice", text: this.t("uploadSent", { name: file.name }) });
      this.say(this.t("uploadDoneMessage"), this.t("uploadDoneMessage"));
      return;
    }
    if (response.status === 410) {
      this.state.upload = null;
      this.refreshAttach();
      this.add({ from: "notice", text: this.t("uploadLinkGone") });
      return;
    }
    var reason = await this.problemIn(response);
    this.add({ from: "notice", text: this.t("uploadRefused", { reason: reason }) });
  };

  /** The portal's own explanation of a refused file, read as text from its form page. */
  Widget.prototype.problemIn = async function (response) {
    try {
      var page = new DOMParser().parseFromString(await response.text(), "text/html");
      var problem = page.querySelector("#probleme, .problem");
      var reason = problem ? problem.textContent.trim() : "";
      return reason || this.t("uploadRefusedReason");
    } catch (error) {
      return this.t("uploadRefusedReason");
    }
  };

  // ------------------------------------------------------------------ start

  function domReady() {
    return new Promise(function (resolve) {
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", resolve, { once: true });
      } else {
        resolve();
      }
    });
  }

  var settings = readSettings();
  var instance = null;
  var ready = Promise.all([
    fetchJson(BASE + "messages.fr.json"),
    fetchJson(BASE + "config.json").catch(function () {
      return {};
    }),
    typeof window.io === "function"
      ? Promise.resolve()
      : loadScript(BASE + "vendor/socket.io.min.js").catch(function (error) {
          // The widget still opens and says the assistant is unavailable.
          console.warn("assistant widget:", error.message);
        }),
    domReady(),
  ]).then(function (loaded) {
    var remote = loaded[1] || {};
    if (!settings.socketUrl) {
      settings.socketUrl = remote.socketUrl || "";
    }
    instance = new Widget(loaded[0], settings, remote);
    return instance;
  });
  ready.catch(function (error) {
    console.warn("assistant widget:", error.message);
  });
  // The page's own "open the assistant" buttons work even when clicked before the widget is up.
  domReady().then(function () {
    document.querySelectorAll("[data-assistant-open]").forEach(function (button) {
      button.addEventListener("click", function () {
        window.AssistantWidget.open();
      });
    });
  });

  window.AssistantWidget = {
    ready: ready,
    open: function () {
      return ready.then(function (widget) {
        widget.open(true);
      });
    },
    close: function () {
      return ready.then(function (widget) {
        widget.close();
      });
    },
    forget: function () {
      if (instance) {
        instance.disconnect();
        instance.state = freshState();
      }
      forgetAll();
    },
  };
})();
