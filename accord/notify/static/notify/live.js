// The live banner: new alerts (and records matching your subscriptions) appear at the top of every page.
//
// One EventSource per browser, not per tab: the tab holding the Web Lock "accord-live:<user>" reads
// GET /api/v1/stream and passes each event to the other tabs over a BroadcastChannel; when it closes,
// another tab takes the lock and resumes from the last id seen (kept in localStorage for 5 minutes), so
// opening many tabs never uses up the browser's connections to the node. Without Web Locks every tab
// reads the stream itself. Texts come translated from the page (data-* of #live-banner); the data of an
// event is only ever put into the page as text.
(function () {
  "use strict";
  var root = document.getElementById("live-banner");
  if (!root || typeof EventSource === "undefined" || typeof JSON === "undefined") {
    return;
  }
  var texts = root.dataset;
  var key = "accord-live:" + texts.user;
  var RESUME_MS = 5 * 60 * 1000;
  var shown = {};
  var channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel(key) : null;

  function store(id) {
    try {
      localStorage.setItem(key, JSON.stringify({ id: id, at: Date.now() }));
    } catch (ignored) { /* private mode: no resuming across pages */ }
  }

  function resumeFrom() {
    try {
      var saved = JSON.parse(localStorage.getItem(key) || "null");
      if (saved && saved.id && Date.now() - saved.at < RESUME_MS) {
        return String(saved.id);
      }
    } catch (ignored) { /* nothing stored */ }
    return null;
  }

  function label(name, data) {
    if (name === "record") {
      return texts.labelRecord;
    }
    var type = data.alert && data.alert.msg_type;
    if (type === "Cancel" || data.state === "withdrawn") {
      return texts.labelCancel;
    }
    return type === "Update" ? texts.labelUpdate : texts.labelAlert;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function dismissAllButton() {
    var button = root.querySelector(".live-dismiss-all");
    if (!button) {
      button = element("button", "live-dismiss-all link-button", texts.dismissAll);
      button.type = "button";
      button.addEventListener("click", function () {
        root.querySelectorAll(".live-item").forEach(function (item) { item.remove(); });
        button.remove();
        root.hidden = true;
      });
      root.appendChild(button);
    }
    button.hidden = root.querySelectorAll(".live-item").length < 2;
  }

  function show(name, data) {
    if (!data || shown[data.id]) {
      return;
    }
    shown[data.id] = true;
    var severity = data.alert && data.alert.severity ? String(data.alert.severity) : "";
    var item = element("div", "live-item" + (severity ? " sev-" + severity.toLowerCase() : ""));
    item.dataset.record = data.record;
    item.dataset.event = String(data.id);
    item.appendChild(element("span", "live-label", label(name, data)));
    if (data.status === "exercise" || data.status === "test") {
      item.appendChild(element("span", "badge " + data.status, (texts["status" + data.status[0].toUpperCase() + data.status.slice(1)] || "").toUpperCase()));
    }
    var link = element("a", "live-link", data.title || data.kind);
    link.dir = "auto"; // isolated: a title with a bidi override cannot reorder the banner around it
    link.href = data.url;
    item.appendChild(link);
    var meta = [data.origin_member];
    if (severity) {
      meta.push(texts["severity" + severity] || severity);
    }
    if (data.alert && data.alert.areas && data.alert.areas.length) {
      meta.push(data.alert.areas.join(", "));
    }
    var metaText = element("span", "live-meta", meta.join(" · "));
    metaText.dir = "auto";
    item.appendChild(metaText);
    var close = element("button", "live-dismiss", "×");
    close.type = "button";
    close.title = texts.dismiss;
    close.setAttribute("aria-label", texts.dismiss);
    close.addEventListener("click", function () {
      item.remove();
      if (!root.querySelector(".live-item")) {
        root.hidden = true;
      }
      dismissAllButton();
    });
    item.appendChild(close);
    root.insertBefore(item, root.firstChild);
    document.dispatchEvent(new CustomEvent("accord:live", { detail: { name: name } })); // desk.js counts again
    root.hidden = false;
    dismissAllButton();
  }

  function read() {
    var url = texts.stream;
    var from = resumeFrom();
    if (from) {
      url += (url.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + encodeURIComponent(from);
    }
    var source = new EventSource(url);
    source.addEventListener("ready", function (event) {
      if (event.lastEventId) {
        store(event.lastEventId);
      }
    });
    ["alert", "record"].forEach(function (name) {
      source.addEventListener(name, function (event) {
        var data;
        try {
          data = JSON.parse(event.data);
        } catch (ignored) {
          return;
        }
        store(event.lastEventId);
        show(name, data);
        if (channel) {
          channel.postMessage({ name: name, data: data });
        }
      });
    });
    // While connected, everything up to the stored id has been seen: keep it fresh for the next page.
    window.setInterval(function () {
      var saved = resumeFrom();
      if (source.readyState === EventSource.OPEN && saved) {
        store(saved);
      }
    }, 30 * 1000);
    root.dataset.live = "connecting";
    source.addEventListener("open", function () { root.dataset.live = "open"; });
    source.addEventListener("error", function () {
      root.dataset.live = source.readyState === EventSource.CLOSED ? "closed" : "connecting";
    });
  }

  if (channel) {
    channel.onmessage = function (message) {
      show(message.data.name, message.data.data);
    };
  }
  if (navigator.locks && navigator.locks.request && channel) {
    root.dataset.live = "waiting";
    navigator.locks.request(key, function () {
      read();
      return new Promise(function () { /* held until this page goes away */ });
    });
  } else {
    read();
  }
})();
