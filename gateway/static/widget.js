/* 惠企通 chat widget: one <script src=".../static/widget.js" defer></script> on any page.
 *
 * A host page may set, on that script tag: data-title, data-greeting, data-position="left|right",
 * data-primary-color (any CSS colour), data-open="true" (open on load). Another site embedding the
 * widget must be listed in the gateway's ALLOWED_ORIGINS; if it is not, the widget says so.
 *
 * Messages are rendered by their store id only: the POST /api/chat body is not rendered, because
 * the same replies arrive on the SSE stream and from /messages?after=N, and rendering twice is the
 * bug to avoid. The owner's own bubble is shown at once (pending) and takes the stored id that the
 * chat response returns (message_id); a stored owner message that the stream brings while that
 * response is still on its way waits for it, so nothing is matched by its wording. A liaison's end of
 * the case is a stored message of kind "resumed". All data goes in through textContent, never innerHTML.
 *
 * Feedback (issue 16): every bot message has 有帮助 / 没帮助 (没帮助 offers one optional reason and 转人工);
 * a "resumed" message asks for a 1–5 score until the case is rated (GET /ratings says which case it
 * ended); a conversation of a registered firm shows its unseen pushes as 政策推送 cards, marked seen once
 * shown, and a 接收政策推送 switch.
 *
 * A conversation belongs to whoever holds its secret: the gateway returns it with the first
 * message (conversation_token) and also sets it as an HttpOnly cookie. Requests send it in the
 * X-Conversation-Token header (kept in localStorage, so third-party-cookie blocking cannot lock the
 * owner out); EventSource, which cannot send headers, relies on the cookie.
 */
(function () {
  "use strict";

  if (window.__hqtWidget) return; // the tag was included twice
  window.__hqtWidget = true;

  var SENDER_KEY = "hqt_sender_id";
  var HANDOFF_KEY = "hqt_handoff";
  var TOKEN_KEY = "hqt_conversation_token";
  var RECONNECT_MAX_MS = 30000;

  var script = document.currentScript || findScript();
  var scriptUrl = new URL(script && script.src ? script.src : "/static/widget.js", location.href);
  // The API lives where the script came from, so the widget also works embedded on other sites.
  var apiBase = scriptUrl.origin;
  var crossOrigin = apiBase !== location.origin;

  // What the host page may set on the script tag (all optional, all plain text).
  var data = (script && script.dataset) || {};
  var options = {
    title: String(data.title || "惠企通 政策咨询").slice(0, 40),
    greeting: data.greeting ? String(data.greeting).slice(0, 300) : "",
    left: data.position === "left",
    color: data.primaryColor && window.CSS && CSS.supports("color", data.primaryColor) ? data.primaryColor : "",
    openOnLoad: data.open === "true" || data.open === "",
  };

  function findScript() {
    var tags = document.getElementsByTagName("script");
    for (var i = tags.length - 1; i >= 0; i--) {
      if (/widget\.js(\?|#|$)/.test(tags[i].src || "")) return tags[i];
    }
    return null;
  }

  // -- storage (private mode may forbid it: fall back to memory) -------------------------------
  var memory = {};
  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return memory[key] || null; }
  }
  function save(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(key); else window.localStorage.setItem(key, value);
    } catch (e) {
      if (value === null) delete memory[key]; else memory[key] = value;
    }
  }

  // -- state -----------------------------------------------------------------------------------
  var state = {
    senderId: load(SENDER_KEY),
    token: load(TOKEN_KEY),
    lastId: 0,
    seen: {},            // message id -> element
    pending: [],         // [{text, el}] own bubbles waiting for their stored id
    held: [],            // stored owner messages that arrived while our own message was in flight
    buttonTitles: {},    // payload -> title, so a clicked payload shows as its title
    inFlight: false,
    composing: false,
    started: false,      // history loaded and stream opened for state.senderId
    stream: null,
    reconnectMs: 1000,
    reconnectTimer: null,
    open: false,
    unread: 0,
    handoff: null,       // {sender_id, handoff, since} while a liaison holds the conversation
    ratings: {},         // bot message id -> true (有帮助) / false (没帮助)
    cases: {},           // "resumed" message id -> {escalation_id, score}
    ratingsTimer: null,
  };

  // -- DOM -------------------------------------------------------------------------------------
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var name in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, name)) node.setAttribute(name, attrs[name]);
      }
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "hqt-launcher-icon");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z");
    svg.appendChild(path);
    return svg;
  }

  var root = el("div", { id: "hqt-root", "class": "hqt-root" + (options.left ? " hqt-left" : "") });
  root.style.display = "none"; // until widget.css has loaded, so nothing flashes unstyled
  if (options.color) {
    root.style.setProperty("--hqt-brand", options.color);
    root.style.setProperty("--hqt-brand-dark", options.color);
  }

  var launcher = el("button", {
    id: "hqt-launcher", type: "button", "class": "hqt-launcher",
    title: options.title, "aria-label": "打开" + options.title, "aria-controls": "hqt-panel",
    "aria-expanded": "false",
  });
  launcher.appendChild(chatIcon());
  launcher.appendChild(el("span", { "class": "hqt-launcher-text" }, "政策咨询"));
  var badge = el("span", { "class": "hqt-badge", "aria-hidden": "true" });
  badge.hidden = true;
  launcher.appendChild(badge);

  // Plain divs only: host pages often style section/header/form/p, and the panel must not inherit that.
  var panel = el("div", {
    id: "hqt-panel", "class": "hqt-panel", role: "dialog", "aria-label": options.title,
  });
  panel.hidden = true;

  var header = el("div", { "class": "hqt-header" });
  var heading = el("div", { "class": "hqt-heading" });
  heading.appendChild(el("span", { "class": "hqt-title" }, options.title));
  heading.appendChild(el("span", { "class": "hqt-subtitle" }, "中山市工业和信息化局"));
  var closeBtn = el("button", { id: "hqt-close", type: "button", "class": "hqt-close", "aria-label": "关闭对话窗口" }, "×");
  var clearBtn = el("button", {
    id: "hqt-clear", type: "button", "class": "hqt-clear", title: "删除本次对话的全部记录",
    "aria-label": "清除对话记录",
  }, "清除记录");
  header.appendChild(heading);
  header.appendChild(clearBtn);
  header.appendChild(closeBtn);

  var handoffBanner = el("div", { id: "hqt-handoff", "class": "hqt-handoff", role: "status" });
  handoffBanner.hidden = true;
  // Shown when this site is not allowed to use the gateway (CORS refused), instead of "网络异常".
  var notice = el("div", { id: "hqt-notice", "class": "hqt-notice", role: "alert" });
  notice.hidden = true;

  var list = el("div", {
    id: "hqt-messages", "class": "hqt-messages", role: "log", "aria-live": "polite", "aria-label": "对话记录",
  });
  var welcome = el("div", { "class": "hqt-welcome" });
  welcome.appendChild(el("div", null, options.greeting ||
    "您好！我是惠企通，可以解答中山市工业和信息化局答复函（中工信函〔2022〕38号）涉及的扶持政策。"));
  welcome.appendChild(el("div", null, "例如：“专精特新企业有什么补贴？”、“数字化转型项目怎么申请？”，也可以随时要求转人工。"));
  list.appendChild(welcome);

  var form = el("form", { "class": "hqt-form", autocomplete: "off" });
  var input = el("textarea", {
    id: "hqt-input", "class": "hqt-input", rows: "1", maxlength: "2000",
    placeholder: "请输入您的问题", title: "Enter 发送，Shift+Enter 换行", "aria-label": "输入您的问题",
  });
  var sendBtn = el("button", { id: "hqt-send", type: "submit", "class": "hqt-send", "aria-label": "发送" }, "发送");
  form.appendChild(input);
  form.appendChild(sendBtn);

  // 接收政策推送: only for a conversation of a registered firm (GET /notices says).
  var subscribeBar = el("div", { id: "hqt-subscribe", "class": "hqt-subscribe" });
  var subscribeLabel = el("label", { "class": "hqt-subscribe-label" });
  var subscribeBox = el("input", { id: "hqt-subscribe-switch", type: "checkbox", role: "switch" });
  subscribeLabel.appendChild(subscribeBox);
  subscribeLabel.appendChild(el("span", null, "接收政策推送"));
  subscribeBar.appendChild(subscribeLabel);
  subscribeBar.hidden = true;

  panel.appendChild(header);
  panel.appendChild(handoffBanner);
  panel.appendChild(notice);
  panel.appendChild(list);
  panel.appendChild(subscribeBar);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);

  function reveal() { root.style.display = ""; }
  var css = el("link", { rel: "stylesheet", href: new URL("widget.css", scriptUrl).href });
  css.onload = reveal;
  css.onerror = reveal; // unstyled but usable beats invisible
  setTimeout(reveal, 3000);
  (document.head || document.documentElement).appendChild(css);

  // -- the domain's words (GET /api/vocabulary): labels are the server's, not copies here ----------
  var vocab = { message_roles: {} };

  function roleLabel(role) {
    return vocab.message_roles[role] || "";
  }

  /** What the 没帮助 row's button says and sends: the handoff's own word (转人工) from the vocabulary. */
  function personText() {
    return (vocab.outcomes && vocab.outcomes.handoff) || "我要转人工";
  }

  function loadVocabulary() {
    fetch(apiBase + "/api/vocabulary", { credentials: "omit", headers: { Accept: "application/json" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (data) {
        if (!data) return;
        vocab = data;
        Array.prototype.forEach.call(root.querySelectorAll(".hqt-label[data-role]"), function (node) {
          node.textContent = roleLabel(node.getAttribute("data-role"));
        });
        if (state.handoff) showHandoff(state.handoff.handoff, state.handoff.since);
        Array.prototype.forEach.call(root.querySelectorAll(".hqt-rate-person"), function (node) {
          node.textContent = personText();
        });
      }, function () { /* labels stay empty; the messages are still shown */ });
  }

  function mount() {
    document.body.appendChild(root);
    loadVocabulary();
    restoreHandoff();
    if (state.senderId) start();
    if (location.hash === "#chat" || options.openOnLoad) openPanel();
  }

  // -- may this site use the gateway? ------------------------------------------------------------
  var SITE_NOT_ALLOWED = "本网站尚未获准接入惠企通政策咨询，暂时无法在此咨询。请访问中山市工业和信息化局网站，或致电答复函所列联系人。";
  var originCheck = null;

  /** "ok", "refused" (the gateway answers, but not to this site: CORS) or "offline". Cached once ok/refused. */
  function checkOrigin() {
    if (!crossOrigin) return Promise.resolve("ok");
    if (originCheck) return originCheck;
    var probe = fetch(apiBase + "/api/conversations/-/messages", { credentials: "omit" })
      .then(function () { return "ok"; }, function () {
        // A CORS refusal and a dead network look alike to fetch; an opaque request tells them apart.
        return fetch(apiBase + "/static/widget.css", { mode: "no-cors", credentials: "omit" })
          .then(function () { return "refused"; }, function () { return "offline"; });
      });
    originCheck = probe.then(function (result) {
      if (result === "offline") originCheck = null; // ask again next time
      if (result === "refused") showNotAllowed();
      return result;
    });
    return originCheck;
  }

  function showNotAllowed() {
    notice.textContent = SITE_NOT_ALLOWED;
    notice.hidden = false;
    input.disabled = true;
    sendBtn.disabled = true;
    clearBtn.disabled = true;
  }

  // -- panel -----------------------------------------------------------------------------------
  function openPanel() {
    if (state.open) return;
    state.open = true;
    panel.hidden = false;
    root.classList.add("hqt-is-open");
    launcher.setAttribute("aria-expanded", "true");
    setUnread(0);
    checkOrigin();
    if (state.senderId && !state.started) start();
    scrollToBottom();
    input.focus();
  }

  function closePanel() {
    if (!state.open) return;
    state.open = false;
    panel.hidden = true;
    root.classList.remove("hqt-is-open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  function setUnread(n) {
    state.unread = n;
    badge.textContent = n > 9 ? "9+" : String(n);
    badge.hidden = n === 0;
    launcher.setAttribute("aria-label", n ? "打开惠企通政策咨询（" + n + " 条新消息）" : "打开惠企通政策咨询");
  }

  launcher.addEventListener("click", function () { if (state.open) closePanel(); else openPanel(); });
  closeBtn.addEventListener("click", closePanel);
  clearBtn.addEventListener("click", clearConversation);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closePanel();
  });
  window.addEventListener("hashchange", function () { if (location.hash === "#chat") openPanel(); });

  // -- rendering -------------------------------------------------------------------------------
  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }
  function scrollToBottom() { list.scrollTop = list.scrollHeight; }

  function sourceLabel(src) {
    var parts = ["依据：" + (src.cited_as || "答复函")];
    if (src.section) parts.push(src.section);
    if (src.title) parts.push(src.title);
    return parts.join(" ");
  }

  function formatTime(iso) {
    var d = new Date(iso);
    if (!iso || isNaN(d.getTime())) return "";
    return d.toLocaleString("zh-CN", { hour12: false });
  }

  function buildMessage(msg) {
    var role = ["user", "bot", "liaison", "system"].indexOf(msg.role) >= 0 ? msg.role : "system";
    var node = el("div", { "class": "hqt-msg hqt-" + role, "data-role": role });
    if (msg.id !== undefined && msg.id !== null) node.setAttribute("data-id", String(msg.id));
    if (msg.created_at) node.setAttribute("title", formatTime(msg.created_at));

    if (role === "liaison") {
      var label = el("div", { "class": "hqt-label", "data-role": role }, roleLabel(role));
      if (msg.author) label.setAttribute("title", String(msg.author));
      node.appendChild(label);
    }
    var text = msg.text || "";
    if (role === "user" && Object.prototype.hasOwnProperty.call(state.buttonTitles, text)) {
      text = state.buttonTitles[text];
    }
    node.appendChild(el("div", { "class": "hqt-bubble" }, text));

    var sources = Array.isArray(msg.sources) ? msg.sources : [];
    if (sources.length) {
      var srcBox = el("div", { "class": "hqt-sources" });
      sources.forEach(function (src) {
        if (!src) return;
        var chip = el("span", { "class": "hqt-source" }, sourceLabel(src));
        if (src.policy_id) chip.setAttribute("data-policy-id", String(src.policy_id));
        srcBox.appendChild(chip);
      });
      node.appendChild(srcBox);
    }

    var buttons = Array.isArray(msg.buttons) ? msg.buttons : [];
    if (buttons.length) {
      var btnBox = el("div", { "class": "hqt-buttons" });
      buttons.forEach(function (b) {
        if (!b) return;
        var title = String(b.title || b.payload || "");
        var payload = String(b.payload || b.title || "");
        if (!payload) return;
        state.buttonTitles[payload] = title;
        var btn = el("button", { type: "button", "class": "hqt-button", "data-payload": payload }, title);
        btn.addEventListener("click", function () { send(payload, title); });
        btnBox.appendChild(btn);
      });
      node.appendChild(btnBox);
    }
    if (role === "bot" && typeof msg.id === "number") node.appendChild(buildRating(msg.id));
    return node;
  }

  /** Render one stored message once, by id; ``live`` when it came from the stream. */
  function addStored(msg, live) {
    if (!msg || typeof msg.id !== "number") return;
    if (state.seen[msg.id]) return;
    if (msg.role === "user" && state.inFlight) {
      // Ours or another tab's: the chat response says which (its message_id).
      if (!state.held.some(function (h) { return h.id === msg.id; })) state.held.push(msg);
      return;
    }
    var stick = nearBottom();
    var node = buildMessage(msg);
    insertInOrder(node, msg.id);
    if (live && !state.open && msg.role !== "user") setUnread(state.unread + 1);
    state.seen[msg.id] = node;
    if (msg.id > state.lastId) state.lastId = msg.id;
    checkResumed(msg);
    if (msg.kind === "resumed") scheduleRatings();
    welcome.hidden = true;
    if (stick || msg.role === "user") scrollToBottom();
  }

  /** Our optimistic bubble becomes the stored message ``id`` (from the chat response). */
  function adoptPending(pending, id) {
    removePending(pending);
    var node = pending.el;
    node.setAttribute("data-id", String(id));
    node.classList.remove("hqt-pending", "hqt-failed");
    if (node.parentNode) node.parentNode.removeChild(node);
    insertInOrder(node, id);
    state.seen[id] = node;
    if (id > state.lastId) state.lastId = id;
  }

  /** The owner messages held while our message was in flight: another tab's are shown now. */
  function releaseHeld() {
    var held = state.held;
    state.held = [];
    held.forEach(function (msg) { addStored(msg, true); });
  }

  /** Stored messages keep id order; our own pending bubbles stay at the end. */
  function insertInOrder(node, id) {
    var children = list.children;
    for (var i = 0; i < children.length; i++) {
      var child = children[i];
      var cid = child.getAttribute("data-id");
      if (child.classList.contains("hqt-pending") || (cid !== null && Number(cid) > id)) {
        list.insertBefore(node, child);
        return;
      }
    }
    list.appendChild(node);
  }

  function addSystemLine(text) {
    var stick = nearBottom();
    list.appendChild(buildMessage({ role: "system", text: text }));
    welcome.hidden = true;
    if (stick) scrollToBottom();
  }

  // -- handoff banner --------------------------------------------------------------------------

  /** Show (or hide, for null) the banner; ``since`` is the last message id before this handoff. */
  function showHandoff(handoff, since) {
    if (handoff && handoff.status !== "resolved") {
      var current = state.handoff;
      if (since === undefined) {
        since = current && current.handoff.escalation_id === handoff.escalation_id ? current.since : state.lastId;
      }
      state.handoff = { sender_id: state.senderId, handoff: handoff, since: since };
      handoffBanner.textContent = "已转接：" + (handoff.liaison || roleLabel("liaison"));
      handoffBanner.hidden = false;
      save(HANDOFF_KEY, JSON.stringify(state.handoff));
    } else {
      state.handoff = null;
      handoffBanner.textContent = "";
      handoffBanner.hidden = true;
      save(HANDOFF_KEY, null);
    }
  }

  /** A stored "resumed" message (the liaison closed the case) ends a handoff that started before it. */
  function checkResumed(msg) {
    if (state.handoff && msg.kind === "resumed" && msg.id > state.handoff.since) {
      showHandoff(null);
    }
  }

  function restoreHandoff() {
    var raw = load(HANDOFF_KEY);
    if (!raw) return;
    try {
      var saved = JSON.parse(raw);
      if (saved && saved.sender_id === state.senderId && saved.handoff) showHandoff(saved.handoff, saved.since || 0);
      else save(HANDOFF_KEY, null);
    } catch (e) {
      save(HANDOFF_KEY, null);
    }
  }

  // -- feedback: answer ratings, case scores, push notices ------------------------------------------

  /** POST/PUT ``body`` as JSON to a conversation route; resolves with the parsed answer, rejects on failure. */
  function sendJson(method, suffix, body) {
    return fetch(conversationUrl(suffix), {
      method: method,
      headers: authHeaders({ "Content-Type": "application/json", Accept: "application/json" }),
      body: JSON.stringify(body),
      credentials: "include",
    }).then(function (res) {
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.json();
    });
  }

  function getJson(suffix) {
    return fetch(conversationUrl(suffix), {
      headers: authHeaders({ Accept: "application/json" }), credentials: "include",
    }).then(function (res) {
      if (!res.ok) throw new Error("HTTP " + res.status);
      return res.json();
    });
  }

  /** 有帮助 / 没帮助 under a bot message; 没帮助 opens one optional reason and a 转人工 button. */
  function buildRating(messageId) {
    var box = el("div", { "class": "hqt-rate", role: "group", "aria-label": "这条回答有帮助吗" });
    var yes = el("button", { type: "button", "class": "hqt-rate-btn hqt-rate-yes", "aria-pressed": "false" }, "有帮助");
    var no = el("button", { type: "button", "class": "hqt-rate-btn hqt-rate-no", "aria-pressed": "false" }, "没帮助");
    var more = el("div", { "class": "hqt-rate-more" });
    more.hidden = true;
    var reason = el("input", {
      type: "text", "class": "hqt-rate-reason", maxlength: "500",
      placeholder: "哪里没帮上？（选填）", "aria-label": "没帮助的原因（选填）",
    });
    var submit = el("button", { type: "button", "class": "hqt-rate-submit" }, "提交");
    var skip = el("button", { type: "button", "class": "hqt-rate-skip" }, "跳过");
    var person = el("button", { type: "button", "class": "hqt-rate-person" }, personText());
    var status = el("span", { "class": "hqt-rate-status", role: "status" });
    more.appendChild(reason);
    more.appendChild(submit);
    more.appendChild(skip);
    more.appendChild(person);
    box.appendChild(yes);
    box.appendChild(no);
    box.appendChild(status);
    box.appendChild(more);

    function show(helpful) {
      yes.setAttribute("aria-pressed", helpful === true ? "true" : "false");
      no.setAttribute("aria-pressed", helpful === false ? "true" : "false");
    }
    function rate(helpful, text) {
      var body = { helpful: helpful };
      if (text !== undefined) body.reason = text;
      status.textContent = "";
      return sendJson("POST", "/messages/" + messageId + "/rating", body).then(function (out) {
        state.ratings[messageId] = out.helpful;
        show(out.helpful);
        return out;
      }, function () {
        status.textContent = "评价未能提交，请稍后再试。";
        return null;
      });
    }
    yes.addEventListener("click", function () {
      rate(true).then(function (out) {
        if (!out) return;
        more.hidden = true;
        status.textContent = "谢谢您的反馈！";
      });
    });
    no.addEventListener("click", function () {
      rate(false).then(function (out) {
        if (!out) return;
        more.hidden = !out.offer_handoff;
        if (!more.hidden) reason.focus();
      });
    });
    submit.addEventListener("click", function () {
      var text = reason.value.trim();
      if (!text) { more.hidden = true; return; }
      rate(false, text).then(function (out) {
        if (!out) return;
        more.hidden = true;
        status.textContent = "已记录您的意见，谢谢！";
      });
    });
    reason.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        submit.click();
      }
    });
    skip.addEventListener("click", function () { more.hidden = true; });
    person.addEventListener("click", function () { more.hidden = true; send(personText()); });
    box.hqtShow = show;
    if (Object.prototype.hasOwnProperty.call(state.ratings, messageId)) show(state.ratings[messageId]);
    return box;
  }

  /** 1–5 stars and an optional comment under the "resumed" message of an unrated case. */
  function buildScore(escalationId) {
    var box = el("div", { "class": "hqt-score", role: "group", "aria-label": "请为本次人工服务打分" });
    box.appendChild(el("div", { "class": "hqt-score-title" }, "请为本次人工服务打分："));
    var stars = el("div", { "class": "hqt-stars" });
    var chosen = 0;
    var buttons = [];
    for (var i = 1; i <= 5; i++) {
      (function (score) {
        var star = el("button", {
          type: "button", "class": "hqt-star", "aria-pressed": "false", "aria-label": score + " 分",
          "data-score": String(score),
        }, "★");
        star.addEventListener("click", function () {
          chosen = score;
          buttons.forEach(function (b, j) {
            b.setAttribute("aria-pressed", j + 1 === score ? "true" : "false");
            b.classList.toggle("hqt-star-on", j < score);
          });
          submit.disabled = false;
        });
        buttons.push(star);
        stars.appendChild(star);
      })(i);
    }
    var comment = el("input", {
      type: "text", "class": "hqt-score-comment", maxlength: "500",
      placeholder: "意见或建议（选填）", "aria-label": "意见或建议（选填）",
    });
    var submit = el("button", { type: "button", "class": "hqt-score-submit" }, "提交评价");
    submit.disabled = true;
    var status = el("span", { "class": "hqt-rate-status", role: "status" });
    submit.addEventListener("click", function () {
      if (!chosen) return;
      var body = { score: chosen };
      var text = comment.value.trim();
      if (text) body.comment = text;
      submit.disabled = true;
      sendJson("POST", "/escalations/" + escalationId + "/satisfaction", body).then(function (out) {
        box.textContent = "";
        box.appendChild(el("span", { "class": "hqt-rate-status", role: "status" }, "感谢您的评价（" + out.score + " 分）！"));
      }, function () {
        submit.disabled = false;
        status.textContent = "评价未能提交，请稍后再试。";
      });
    });
    box.appendChild(stars);
    box.appendChild(comment);
    box.appendChild(submit);
    box.appendChild(status);
    return box;
  }

  function scheduleRatings() {
    if (state.ratingsTimer) return;
    state.ratingsTimer = setTimeout(function () { state.ratingsTimer = null; loadRatings(); }, 0);
  }

  /** Which answers were rated, and which resolved cases still wait for a score (GET /ratings). */
  function loadRatings() {
    if (!state.senderId) return;
    var sender = state.senderId;
    getJson("/ratings").then(function (out) {
      if (sender !== state.senderId || !out) return;
      (out.answers || []).forEach(function (a) {
        state.ratings[a.message_id] = a.helpful;
        var node = state.seen[a.message_id];
        var box = node && node.querySelector(".hqt-rate");
        if (box && box.hqtShow) box.hqtShow(a.helpful);
      });
      (out.cases || []).forEach(function (c) {
        var node = state.seen[c.message_id];
        if (!node || c.score !== null && c.score !== undefined) return;
        if (node.querySelector(".hqt-score")) return;
        node.appendChild(buildScore(c.escalation_id));
      });
    }, function () { /* no stars or pressed states: the conversation still works */ });
  }

  /** The firm's unseen pushes as 政策推送 cards (then marked seen), and the 接收政策推送 switch. */
  function loadNotices() {
    if (!state.senderId) return;
    var sender = state.senderId;
    getJson("/notices").then(function (out) {
      if (sender !== state.senderId || !out) return;
      subscribeBar.hidden = !out.firm;
      subscribeBox.checked = !!out.subscribed;
      var shown = [];
      (out.notices || []).forEach(function (n) {
        var card = el("div", { "class": "hqt-push", role: "note", "data-push-id": String(n.id) });
        card.appendChild(el("div", { "class": "hqt-push-title" }, "政策推送"));
        card.appendChild(el("div", { "class": "hqt-push-text" }, n.text));
        if (n.created_at) card.appendChild(el("div", { "class": "hqt-push-time" }, formatTime(n.created_at)));
        list.appendChild(card);
        shown.push(n.id);
      });
      if (shown.length) {
        welcome.hidden = true;
        scrollToBottom();
        sendJson("POST", "/notices/seen", { ids: shown }).catch(function () { /* shown again next time */ });
      }
    }, function () { /* no notices: the conversation still works */ });
  }

  subscribeBox.addEventListener("change", function () {
    var wanted = subscribeBox.checked;
    subscribeBox.disabled = true;
    sendJson("PUT", "/subscription", { subscribed: wanted }).then(function (out) {
      subscribeBox.checked = !!out.subscribed;
    }, function () {
      subscribeBox.checked = !wanted;
      addSystemLine("推送设置未能保存，请稍后再试。");
    }).then(function () { subscribeBox.disabled = false; });
  });

  // -- network ---------------------------------------------------------------------------------
  function conversationUrl(suffix) {
    return apiBase + "/api/conversations/" + encodeURIComponent(state.senderId) + suffix;
  }

  /** Headers proving we own the conversation (the cookie, sent with credentials, is the fallback). */
  function authHeaders(extra) {
    var headers = extra || {};
    if (state.token) headers["X-Conversation-Token"] = state.token;
    return headers;
  }

  var STATUS_TEXT = {
    400: "抱歉，消息未能发送，请修改后再试。",
    413: "抱歉，消息太长了，请精简后再发送。",
    422: "抱歉，消息格式有误，请修改后再试。",
    429: "您发送得太频繁了，请稍后再试。",
  };

  /** A polite Chinese line for a refused request, keeping the gateway's own words when it gave any. */
  function errorText(status, body) {
    var detail = body && body.detail;
    if (Array.isArray(detail)) {
      detail = detail.map(function (d) { return d && d.msg ? String(d.msg) : ""; }).filter(Boolean).join("; ");
    }
    detail = typeof detail === "string" ? detail.trim() : "";
    if (detail && /[\u4e00-\u9fff]/.test(detail)) return detail;
    var lead = STATUS_TEXT[status] ||
      (status >= 500 ? "抱歉，服务暂时不可用，请稍后再试。" : "抱歉，请求未成功，请稍后再试。");
    return detail ? lead + "（" + detail + "）" : lead;
  }

  function fetchMessages() {
    if (!state.senderId) return Promise.resolve();
    var sender = state.senderId;
    return fetch(conversationUrl("/messages?after=" + state.lastId), {
      headers: authHeaders({ Accept: "application/json" }), credentials: "include",
    })
      .then(function (res) {
        if (res.status === 401 || res.status === 403 || res.status === 404) {
          // Expired (retention), cleared elsewhere, or not ours: the next message starts afresh.
          if (sender === state.senderId) forgetConversation();
          return [];
        }
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.json();
      })
      .then(function (msgs) {
        if (sender !== state.senderId || !Array.isArray(msgs)) return;
        msgs.forEach(function (m) { addStored(m, false); });
      });
  }

  function openStream() {
    closeStream();
    if (!state.senderId || typeof window.EventSource !== "function") return;
    var sender = state.senderId;
    var source = new EventSource(conversationUrl("/stream?after=" + state.lastId), { withCredentials: true });
    state.stream = source;
    source.onopen = function () { state.reconnectMs = 1000; };
    source.onmessage = function (event) {
      if (sender !== state.senderId) return;
      try { addStored(JSON.parse(event.data), true); } catch (e) { /* keep-alive or malformed line */ }
    };
    source.onerror = function () {
      // EventSource would retry with the old after=N; reopen ourselves with the latest id,
      // and catch up on anything missed while the connection was down.
      if (state.stream !== source) return;
      closeStream();
      var wait = state.reconnectMs;
      state.reconnectMs = Math.min(state.reconnectMs * 2, RECONNECT_MAX_MS);
      state.reconnectTimer = setTimeout(function () {
        state.reconnectTimer = null;
        fetchMessages().catch(function () {}).then(openStream);
      }, wait);
    };
  }

  function closeStream() {
    if (state.reconnectTimer) { clearTimeout(state.reconnectTimer); state.reconnectTimer = null; }
    if (state.stream) { state.stream.close(); state.stream = null; }
  }

  function start() {
    state.started = true;
    fetchMessages()
      .catch(function () { addSystemLine("历史消息加载失败，请检查网络后刷新页面。"); })
      .then(function () {
        openStream();
        loadRatings();
        loadNotices();
      });
  }

  /** A different conversation (the server assigned or replaced our sender_id). */
  function switchSender(senderId, token) {
    closeStream();
    state.senderId = senderId;
    save(SENDER_KEY, senderId);
    state.token = token || null;
    save(TOKEN_KEY, state.token);
    state.lastId = 0;
    state.seen = {};
    state.held = [];
    state.ratings = {};
    state.cases = {};
    subscribeBar.hidden = true;
    Array.prototype.slice.call(list.querySelectorAll(".hqt-push")).forEach(function (node) { list.removeChild(node); });
    showHandoff(null);
    var keep = state.pending.map(function (p) { return p.el; });
    Array.prototype.slice.call(list.querySelectorAll(".hqt-msg")).forEach(function (node) {
      if (keep.indexOf(node) < 0) list.removeChild(node);
    });
    state.started = false;
  }

  /** Drop the conversation on this device (cleared, expired or not ours any more). */
  function forgetConversation() {
    switchSender(null, null);
    save(SENDER_KEY, null);
    state.pending = [];
    Array.prototype.slice.call(list.querySelectorAll(".hqt-msg")).forEach(function (node) { list.removeChild(node); });
    welcome.hidden = false;
  }

  /** 清除记录: delete the conversation on the server (which also ends its secret), then here. */
  function clearConversation() {
    if (state.inFlight) return;
    if (!state.senderId) { forgetConversation(); return; }
    if (!window.confirm("确定清除本次对话的全部记录吗？清除后工作人员也无法再查看，正在处理的转人工咨询将被撤回。")) return;
    setBusy(true);
    fetch(conversationUrl(""), { method: "DELETE", headers: authHeaders({ Accept: "application/json" }), credentials: "include" })
      .then(function (res) {
        if (res.ok || res.status === 404) {
          forgetConversation();
          addSystemLine("对话记录已清除。");
        } else {
          addSystemLine("清除失败，请稍后再试。");
        }
      }, function () { addSystemLine("网络异常，清除失败，请稍后再试。"); })
      .then(function () { setBusy(false); });
  }

  function setBusy(busy) {
    state.inFlight = busy;
    if (!busy) releaseHeld();
    sendBtn.disabled = busy || !notice.hidden;
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  /** Send ``text`` (a typed message or a button payload), showing ``shown`` as the bubble. */
  function send(text, shown) {
    text = String(text || "").trim();
    if (!text || state.inFlight) return;
    setBusy(true);

    var bubble = buildMessage({ role: "user", text: shown || text });
    bubble.classList.add("hqt-pending");
    list.appendChild(bubble);
    welcome.hidden = true;
    scrollToBottom();
    var pending = { text: text, el: bubble };
    state.pending.push(pending);

    var body = { text: text };
    if (state.senderId) body.sender_id = state.senderId;

    fetch(apiBase + "/api/chat", {
      method: "POST",
      headers: authHeaders({ "Content-Type": "application/json", Accept: "application/json" }),
      body: JSON.stringify(body),
      credentials: "include",
    })
      .then(function (res) {
        return res.json().catch(function () { return null; }).then(function (data) {
          return { ok: res.ok, status: res.status, data: data };
        });
      }, function () {
        return { ok: false, status: 0, data: null };
      })
      .then(function (result) {
        if (!result.ok) {
          // A 4xx was refused before storing; a 5xx or lost connection may still have been stored,
          // so that bubble stays adoptable.
          failPending(pending, result.status >= 400 && result.status < 500);
          if (result.status === 401 || result.status === 403) {
            forgetConversation();
            addSystemLine("本次对话已失效，请重新发送您的问题。");
            return null;
          }
          if (result.status) {
            addSystemLine(errorText(result.status, result.data));
            return null;
          }
          return checkOrigin().then(function (verdict) {
            if (verdict !== "refused") addSystemLine("网络异常，消息可能未发送成功，请稍后再试。");
            return null;
          });
        }
        var data = result.data || {};
        if (data.sender_id && data.sender_id !== state.senderId) switchSender(data.sender_id, data.conversation_token);
        if (typeof data.message_id === "number" && data.message_id > 0) adoptPending(pending, data.message_id);
        if (Object.prototype.hasOwnProperty.call(data, "handoff")) showHandoff(data.handoff);
        var first = !state.started;
        state.started = true;
        return fetchMessages()
          .catch(function () {
            // The stream still delivers the replies; one retry covers a stream that is down too.
            return new Promise(function (resolve) { setTimeout(resolve, 1500); }).then(fetchMessages);
          })
          .catch(function () { addSystemLine("回复加载失败，请检查网络后刷新页面。"); })
          .then(function () {
            settlePending(pending);
            if (first || !state.stream) openStream();
          });
      })
      .then(function () { setBusy(false); }, function () { setBusy(false); });
  }

  function failPending(pending, refused) {
    pending.failed = true;
    pending.el.classList.remove("hqt-pending");
    pending.el.classList.add("hqt-failed");
    if (refused) removePending(pending);
  }

  /** The turn is over: a bubble never matched to a stored copy stops floating at the end. */
  function settlePending(pending) {
    if (state.pending.indexOf(pending) < 0) return;
    pending.el.classList.remove("hqt-pending");
    removePending(pending);
  }

  function removePending(pending) {
    var i = state.pending.indexOf(pending);
    if (i >= 0) state.pending.splice(i, 1);
  }

  // -- input -----------------------------------------------------------------------------------
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submitInput();
  });

  function submitInput() {
    if (state.inFlight) return;
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    autosize();
    send(text);
  }

  input.addEventListener("compositionstart", function () { state.composing = true; });
  input.addEventListener("compositionend", function () { state.composing = false; });
  input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey) return;
    // Enter that confirms an IME candidate must not send the half-typed message.
    if (event.isComposing || event.keyCode === 229 || state.composing) return;
    event.preventDefault();
    submitInput();
  });

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }
  input.addEventListener("input", autosize);

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
