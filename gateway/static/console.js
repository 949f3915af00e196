/* 惠企通 liaison console: login, the two escalation lists, the detail pane and its actions; for
 * editors and admins also the 知识库 tab (sources, versioned policy records, publishing).
 *
 * Lists and the open escalation are polled every 3 s; a list polls its first page only (newest
 * first, PAGE_SIZE cases), and 加载更多 appends the next page once, on request. Each part of the page is redrawn only when
 * its data changed, so polling does not steal focus, scroll position or half-typed replies.
 * All data goes in through textContent, never innerHTML.
 */
(() => {
  "use strict";

  const BASE = (document.body.getAttribute("data-base-url") || "").replace(/\/+$/, "");
  const TOKEN_KEY = "hqt_token";
  const LIAISON_KEY = "hqt_liaison";
  const POLL_MS = 3000;
  const PAGE_SIZE = 50;

  // The domain's words and their labels come from the server (GET /api/vocabulary, huiqitong.vocabulary);
  // until they arrive, or if they cannot, the raw names are shown.
  const VOCAB = {
    facts: {}, identity: {}, case_statuses: {}, sla_states: {}, message_roles: {}, case_events: {}, handoff_reasons: {}, channels: {},
  };
  const label = (part, key) => (key && VOCAB[part] && VOCAB[part][key]) || key || "";

  async function loadVocabulary() {
    try {
      const res = await fetch(`${BASE}/api/vocabulary`, { headers: { Accept: "application/json" } });
      if (res.ok) Object.assign(VOCAB, await res.json());
    } catch (e) { /* raw names until the next page load */ }
  }

  const $ = (id) => document.getElementById(id);

  const state = {
    token: storageGet(TOKEN_KEY),
    liaison: parseJson(storageGet(LIAISON_KEY)),
    currentId: null,
    detail: null,
    sigs: {},            // part name -> JSON of the data it was last drawn from
    lists: { mine: emptyList(), queue: emptyList() },
    timer: null,
    ticking: false,
    acting: false,       // an action request is in flight
    statusTimer: null,
  };

  // -- small helpers ---------------------------------------------------------------------------
  /** A case list: the polled first page, the pages loaded on request after it, their cursors. */
  function emptyList() {
    return {
      first: [],         // the first page, refreshed by every poll
      next: null,        // the first page's cursor (the id it ends at), null when it holds every case
      more: [],          // cases of the pages loaded with 加载更多 (not polled)
      moreNext: null,    // the last loaded page's cursor
      total: 0,
      loading: false,
    };
  }
  function storageGet(key) {
    try { return window.sessionStorage.getItem(key); } catch (e) { return null; }
  }
  function storageSet(key, value) {
    try {
      if (value === null) window.sessionStorage.removeItem(key);
      else window.sessionStorage.setItem(key, value);
    } catch (e) { /* storage disabled: the session lasts until reload */ }
  }
  function parseJson(text) {
    try { return text ? JSON.parse(text) : null; } catch (e) { return null; }
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function pad(n) { return String(n).padStart(2, "0"); }

  /** "03-08 14:05" for lists; the full local time goes in a title. */
  function shortTime(iso) {
    const d = new Date(iso);
    if (!iso || Number.isNaN(d.getTime())) return iso ? String(iso) : "";
    return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  function fullTime(iso) {
    const d = new Date(iso);
    if (!iso || Number.isNaN(d.getTime())) return iso ? String(iso) : "";
    return d.toLocaleString("zh-CN", { hour12: false });
  }

  function describe(name, value) {
    if (value === true) return "是";
    if (value === false) return "否";
    if (value === "unknown") return "不清楚";
    if (value === null || value === undefined || value === "") return "—";
    if (Array.isArray(value)) return value.map((v) => describe(name, v)).join("、");
    if (typeof value === "object") return JSON.stringify(value);
    return name === "growth_pct" ? `${value}%` : String(value);
  }

  /** How a citation names its document: its own short name or 文号; the seed letter's records carry neither. */
  function citedAs(c) {
    return (c && (c.cited_as || c.doc_no)) || "答复函";
  }

  function snippet(text, max) {
    const s = String(text || "").replace(/\s+/g, " ").trim();
    return s.length > max ? `${s.slice(0, max)}…` : s;
  }

  /** Redraw a part only when its data changed; returns true when it did. */
  function changed(part, data) {
    const sig = JSON.stringify(data === undefined ? null : data);
    if (state.sigs[part] === sig) return false;
    state.sigs[part] = sig;
    return true;
  }

  // -- status line -----------------------------------------------------------------------------
  function setStatus(text, kind) {
    const line = $("status");
    line.textContent = text || "";
    line.className = `status${kind ? ` status-${kind}` : ""}`;
    if (state.statusTimer) clearTimeout(state.statusTimer);
    state.statusTimer = null;
    if (text && kind !== "error") {
      state.statusTimer = setTimeout(() => { line.textContent = ""; line.className = "status"; }, 5000);
    }
  }

  // -- API -------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, message, body) {
      super(message);
      this.status = status;
      this.body = body || null; // the parsed JSON, e.g. a 422's list of field errors
    }
  }

  const STATUS_TEXT = {
    400: "请求有误",
    401: "用户名或密码错误",
    403: "没有权限执行此操作",
    404: "工单不存在或您无权查看",
    409: "工单状态已变化，操作未执行",
    413: "内容太长",
    422: "请求格式有误",
    429: "操作过于频繁，请稍后再试",
  };

  /** The gateway's detail, led by a Chinese summary when the detail itself is not Chinese. */
  function detailText(status, body) {
    let detail = body && body.detail;
    if (Array.isArray(detail)) detail = detail.map((d) => (d && d.msg ? String(d.msg) : "")).filter(Boolean).join("; ");
    detail = typeof detail === "string" ? detail.trim() : "";
    if (detail && /[\u4e00-\u9fff]/.test(detail)) return detail;
    const lead = STATUS_TEXT[status] || (status >= 500 ? "服务暂时不可用，请稍后再试" : `请求失败（${status}）`);
    return detail ? `${lead}（${detail}）` : `${lead}。`;
  }

  /** fetch with the Bearer token; 401 sends the liaison back to the login form.
   *  ``json`` is sent as JSON, ``body`` (e.g. FormData) as it is. */
  async function api(path, options = {}) {
    const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    if (options.json !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(BASE + path, {
        method: options.method || "GET",
        headers,
        body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
      });
    } catch (e) {
      throw new ApiError(0, "无法连接服务器，请检查网络。");
    }
    if (res.status === 401 && state.token) {
      logout("登录已过期，请重新登录。");
      throw new ApiError(401, "登录已过期，请重新登录。");
    }
    if (options.raw && res.ok) return res;
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    if (!res.ok) throw new ApiError(res.status, detailText(res.status, body), body);
    return body;
  }

  // -- login / logout --------------------------------------------------------------------------
  function showLoginError(text) {
    const box = $("login-error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  async function login(event) {
    event.preventDefault();
    const username = $("login-username").value.trim();
    const password = $("login-password").value;
    if (!username || !password) {
      showLoginError("请输入用户名和密码。");
      return;
    }
    const submit = $("login-submit");
    submit.disabled = true;
    showLoginError("");
    try {
      state.token = null;
      const data = await api("/api/liaison/login", { method: "POST", json: { username, password } });
      if (!data || !data.token) throw new ApiError(500, "登录响应无效，请稍后再试。");
      state.token = data.token;
      state.liaison = data.liaison || { username };
      storageSet(TOKEN_KEY, state.token);
      storageSet(LIAISON_KEY, JSON.stringify(state.liaison));
      $("login-password").value = "";
      showApp();
    } catch (err) {
      // The two answers a liaison can act on get a plain sentence; anything else shows the detail.
      if (err.status === 401) showLoginError("用户名或密码错误，请重新输入。");
      else if (err.status === 429) showLoginError("登录失败次数过多，请几分钟后再试。");
      else showLoginError(err.message || "登录失败，请稍后再试。");
    } finally {
      submit.disabled = false;
    }
  }

  function logout(message) {
    stopPolling();
    if (state.token && message === "") {
      // Revoke the token server-side too; the form comes back whether or not this succeeds.
      fetch(`${BASE}/api/liaison/logout`, { method: "POST", headers: { Authorization: `Bearer ${state.token}` } })
        .catch(() => {});
    }
    state.token = null;
    state.liaison = null;
    state.currentId = null;
    state.detail = null;
    state.sigs = {};
    state.lists = { mine: emptyList(), queue: emptyList() };
    storageSet(TOKEN_KEY, null);
    storageSet(LIAISON_KEY, null);
    resetKnowledge();
    clear($("list-mine"));
    clear($("list-queue"));
    showDetailPane(false);
    setStatus("");
    $("app").hidden = true;
    $("login-view").hidden = false;
    showLoginError(message || "");
    $("login-username").focus();
  }

  function showApp() {
    $("login-view").hidden = true;
    $("app").hidden = false;
    const who = state.liaison || {};
    $("liaison-name").textContent = who.name || who.username || "";
    $("liaison-department").textContent = who.department || "";
    $("btn-audit").hidden = who.role !== "admin"; // the server refuses others anyway (403)
    // Editors and admins get the 知识库 tab; the server refuses everyone else anyway (403).
    $("view-tabs").hidden = !canEditKnowledge();
    $("tab-knowledge").hidden = !canEditKnowledge();
    showView("cases");
    refreshAll();
    startPolling();
  }

  // -- polling ---------------------------------------------------------------------------------
  function startPolling() {
    stopPolling();
    state.timer = setInterval(() => {
      if (!document.hidden) refreshAll();
    }, POLL_MS);
  }
  function stopPolling() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
  }

  async function refreshAll() {
    if (state.ticking || !state.token) return;
    state.ticking = true;
    try {
      await Promise.all([refreshList("mine"), refreshList("queue"), refreshDetail()]);
    } finally {
      state.ticking = false;
    }
  }

  // -- lists -----------------------------------------------------------------------------------
  function listPath(scope, before) {
    const cursor = before === null || before === undefined ? "" : `&before=${encodeURIComponent(before)}`;
    return `/api/escalations?scope=${encodeURIComponent(scope)}&limit=${PAGE_SIZE}${cursor}`;
  }

  function asPage(body) {
    const page = body && typeof body === "object" ? body : {};
    return {
      items: Array.isArray(page.items) ? page.items : [],
      next: page.next === undefined ? null : page.next,
      total: Number.isFinite(page.total) ? page.total : 0,
    };
  }

  /** Where 加载更多 continues: after the loaded pages, else after the first page; null at the end. */
  function moreCursor(list) {
    return list.more.length ? list.moreNext : list.next;
  }

  async function refreshList(scope) {
    let page;
    try {
      page = asPage(await api(listPath(scope, null)));
    } catch (err) {
      if (err.status !== 401) setStatus(`工单列表刷新失败：${err.message}`, "error");
      return;
    }
    const list = state.lists[scope];
    if (list.more.length) {
      // The loaded pages continue the new first page only if its end did not move up (new cases
      // pushed older ones off it): then drop what the first page now holds; else start over.
      if (page.next === null || list.next === null || page.next > list.next) {
        list.more = [];
        list.moreNext = null;
      } else {
        list.more = list.more.filter((item) => item.id < page.next);
      }
    }
    list.first = page.items;
    list.next = page.next;
    list.total = page.total;
    renderList(scope);
  }

  async function loadMore(scope) {
    const list = state.lists[scope];
    const cursor = moreCursor(list);
    if (cursor === null || list.loading) return;
    list.loading = true;
    renderList(scope);
    let page = null;
    try {
      page = asPage(await api(listPath(scope, cursor)));
    } catch (err) {
      if (err.status !== 401) setStatus(`加载更多工单失败：${err.message}`, "error");
    } finally {
      list.loading = false;
    }
    if (list !== state.lists[scope]) return; // logged out meanwhile
    if (page && moreCursor(list) === cursor) { // a poll in between may have started the list over
      const shown = new Set(list.first.concat(list.more).map((item) => item.id));
      list.more = list.more.concat(page.items.filter((item) => !shown.has(item.id)));
      list.moreNext = page.next;
      list.total = page.total;
    }
    renderList(scope);
    if (page && page.items.length) {
      const first = $(`list-${scope}`).querySelector(`.esc-item[data-id="${CSS.escape(String(page.items[0].id))}"]`);
      if (first) first.focus();
    }
  }

  function slaBadge(sla, due) {
    const key = VOCAB.sla_states[sla] ? sla : "ok";
    const badge = el("span", `sla-badge sla-${key}`, label("sla_states", key));
    if (due) badge.title = `首次响应时限：${fullTime(due)}`;
    return badge;
  }

  function renderList(scope) {
    const data = state.lists[scope];
    const items = data.first.concat(data.more);
    const cursor = moreCursor(data);
    const list = $(`list-${scope}`);
    $(`count-${scope}`).textContent = `（${data.total}）`;
    if (!changed(`list-${scope}`, [items, cursor, data.loading, state.currentId])) return;
    const focusedId = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-id") : null;
    clear(list);
    if (!items.length) {
      list.appendChild(el("li", "empty", scope === "mine" ? "暂无我的工单" : "队列中暂无工单"));
      return;
    }
    for (const item of items) {
      const li = el("li");
      const btn = el("button", `esc-item status-${item.status}`);
      btn.type = "button";
      btn.setAttribute("data-id", String(item.id));
      if (item.sla_state === "overdue") btn.classList.add("is-overdue");
      if (String(item.id) === String(state.currentId)) {
        btn.classList.add("selected");
        btn.setAttribute("aria-current", "true");
      }

      const top = el("div", "esc-top");
      top.appendChild(el("span", "esc-firm", item.firm_name || "未登记企业"));
      if (item.unread > 0) {
        const unread = el("span", "esc-unread", item.unread > 99 ? "99+" : item.unread);
        unread.title = `${item.unread} 条未读消息`;
        top.appendChild(unread);
      }
      btn.appendChild(top);

      const question = el("div", "esc-question", snippet(item.question, 60) || "（无问题描述）");
      question.title = item.question || "";
      btn.appendChild(question);

      const meta = el("div", "esc-meta");
      meta.appendChild(el("span", "esc-id", `#${item.id}`));
      meta.appendChild(el("span", `esc-status status-tag status-${item.status}`, label("case_statuses", item.status)));
      meta.appendChild(slaBadge(item.sla_state, item.first_response_due));
      const when = el("span", "esc-time", shortTime(item.created_at));
      when.title = `创建于 ${fullTime(item.created_at)}`;
      meta.appendChild(when);
      if (item.claimed_by) meta.appendChild(el("span", "esc-claimed", `认领：${item.claimed_by}`));
      btn.appendChild(meta);

      btn.addEventListener("click", () => openDetail(item.id));
      li.appendChild(btn);
      list.appendChild(li);
    }
    if (cursor !== null) {
      const li = el("li", "load-more");
      const more = el("button", "load-more-button", data.loading ? "加载中…" : "加载更多");
      more.type = "button";
      more.setAttribute("data-id", `more-${scope}`);
      more.disabled = data.loading;
      more.title = `已显示 ${items.length} 件，共 ${data.total} 件`;
      more.addEventListener("click", () => loadMore(scope));
      li.appendChild(more);
      list.appendChild(li);
    }
    if (focusedId) {
      const again = list.querySelector(`button[data-id="${CSS.escape(focusedId)}"]`);
      if (again) again.focus();
    }
  }

  function markSelected() {
    for (const btn of document.querySelectorAll(".esc-item")) {
      const on = btn.getAttribute("data-id") === String(state.currentId);
      btn.classList.toggle("selected", on);
      if (on) btn.setAttribute("aria-current", "true"); else btn.removeAttribute("aria-current");
    }
  }

  // -- detail ----------------------------------------------------------------------------------
  function showDetailPane(on) {
    $("detail-empty").hidden = on;
    $("detail-body").hidden = !on;
    $("app").classList.toggle("show-detail", on);
  }

  async function openDetail(id) {
    if (String(id) !== String(state.currentId)) {
      state.currentId = id;
      state.detail = null;
      for (const part of ["head", "packet", "transcript", "notes", "events"]) delete state.sigs[part];
      $("reply-input").value = "";
      $("note-input").value = "";
    }
    markSelected();
    showDetailPane(true);
    $("detail-title").textContent = `工单 #${id}`;
    await refreshDetail();
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  function closeDetail() {
    state.currentId = null;
    state.detail = null;
    showDetailPane(false);
    markSelected();
    updateActionButtons();
  }

  async function refreshDetail() {
    const id = state.currentId;
    if (id === null) return;
    try {
      const detail = await api(`/api/escalations/${encodeURIComponent(id)}`);
      if (String(id) === String(state.currentId)) renderDetail(detail);
    } catch (err) {
      if (err.status === 401 || String(id) !== String(state.currentId)) return;
      if (err.status === 404) closeDetail();
      setStatus(`工单 #${id} 加载失败：${err.message}`, "error");
    }
  }

  function renderDetail(d) {
    if (!d) return;
    state.detail = d;
    const packet = d.packet || {};
    const firm = packet.firm || {};
    const firmName = d.firm_name || firm.name || "未登记企业";

    if (changed("head", [d.id, d.status, d.sla_state, d.first_response_due, firmName, d.channel, d.sender_id,
      d.created_at, d.department, d.liaison_username, d.claimed_by])) {
      $("detail-title").textContent = `工单 #${d.id} · ${firmName}`;
      const status = $("detail-status");
      status.textContent = label("case_statuses", d.status);
      status.className = `status-tag status-${d.status}`;
      const sla = $("detail-sla");
      const key = VOCAB.sla_states[d.sla_state] ? d.sla_state : "ok";
      sla.textContent = label("sla_states", key);
      sla.className = `sla-badge sla-${key}`;
      sla.title = d.first_response_due ? `首次响应时限：${fullTime(d.first_response_due)}` : "";
      const meta = [
        `渠道：${label("channels", d.channel) || "—"}`,
        `会话：${d.sender_id || "—"}`,
        `创建：${fullTime(d.created_at)}`,
        `首次响应时限：${fullTime(d.first_response_due) || "—"}`,
      ];
      if (d.department) meta.push(`部门：${d.department}`);
      if (d.liaison_username) meta.push(`挂点联络员：${d.liaison_username}`);
      if (d.claimed_by) meta.push(`认领人：${d.claimed_by}`);
      $("detail-meta").textContent = meta.join(" · ");
    }
    updateActionButtons();

    if (changed("packet", [packet, d.firm_name, d.firm_uscc, d.question])) renderPacket(d, packet, firm);
    const transcript = Array.isArray(d.transcript) && d.transcript.length ? d.transcript : (packet.last_turns || []);
    if (changed("transcript", transcript)) renderTranscript(transcript);
    if (changed("notes", d.notes || [])) renderNotes(d.notes || []);
    if (changed("events", d.events || [])) renderEvents(d.events || []);
  }

  function addField(dl, label, value, className) {
    dl.appendChild(el("dt", null, label));
    dl.appendChild(el("dd", className || null, value));
  }

  function renderPacket(d, packet, firm) {
    const dl = $("packet");
    clear(dl);
    addField(dl, "企业", d.firm_name || firm.name || "未登记企业");
    addField(dl, label("identity", "uscc"), d.firm_uscc || firm.uscc || "未提供", "mono");
    addField(dl, "咨询问题", d.question || packet.question || "（无）", "question");
    if (packet.reason) addField(dl, "转人工原因", label("handoff_reasons", packet.reason));
    if (packet.intent) addField(dl, "识别意图", packet.intent, "mono");

    const body = $("facts").querySelector("tbody");
    clear(body);
    const slots = packet.slots && typeof packet.slots === "object" ? packet.slots : {};
    const names = Object.keys(slots).filter((k) => slots[k] !== null && slots[k] !== undefined);
    if (!names.length) {
      const tr = el("tr", "empty");
      const td = el("td", null, "企业尚未提供相关情况");
      td.colSpan = 2;
      tr.appendChild(td);
      body.appendChild(tr);
    }
    for (const name of names) {
      const tr = el("tr");
      const th = el("th", null, label("facts", name) !== name ? label("facts", name) : label("identity", name));
      th.scope = "row";
      tr.appendChild(th);
      tr.appendChild(el("td", null, describe(name, slots[name])));
      body.appendChild(tr);
    }

    const cites = $("citations");
    clear(cites);
    const citations = Array.isArray(packet.citations) ? packet.citations : [];
    if (!citations.length) cites.appendChild(el("li", "empty", "无"));
    for (const c of citations) {
      const li = el("li", "citation");
      li.appendChild(el("span", "cite-section", `${citedAs(c)} ${c.section || ""}`.trim()));
      li.appendChild(el("span", "cite-title", c.title || c.policy_id || ""));
      if (c.policy_id) li.appendChild(el("span", "cite-id mono", c.policy_id));
      const deps = Array.isArray(c.departments) ? c.departments : [];
      if (deps.length) li.appendChild(el("span", "cite-deps", `责任部门：${deps.join("、")}`));
      cites.appendChild(li);
    }
  }

  function renderTranscript(messages) {
    const box = $("transcript");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    clear(box);
    if (!messages.length) box.appendChild(el("p", "empty", "暂无对话记录"));
    for (const m of messages) {
      const role = VOCAB.message_roles[m.role] ? m.role : "system";
      const row = el("div", `msg msg-${role}`);
      row.setAttribute("data-role", role);
      if (m.id !== undefined && m.id !== null) row.setAttribute("data-id", String(m.id));
      const head = el("div", "msg-head");
      head.appendChild(el("span", "msg-who", role === "liaison" && m.author ? `${label("message_roles", "liaison")} · ${m.author}` : label("message_roles", role)));
      const when = m.created_at || m.timestamp;
      if (when) {
        const t = el("span", "msg-time", typeof when === "number" ? fullTime(when * 1000) : fullTime(when));
        head.appendChild(t);
      }
      row.appendChild(head);
      row.appendChild(el("div", "msg-text", m.text || ""));
      const sources = Array.isArray(m.sources) ? m.sources : [];
      if (sources.length) {
        const wrap = el("div", "msg-sources");
        for (const s of sources) {
          wrap.appendChild(el("span", "chip", [`依据：${citedAs(s)}`, s.section, s.title].filter(Boolean).join(" ")));
        }
        row.appendChild(wrap);
      }
      const buttons = Array.isArray(m.buttons) ? m.buttons : [];
      if (buttons.length) {
        const wrap = el("div", "msg-buttons");
        for (const b of buttons) wrap.appendChild(el("span", "chip chip-button", `按钮：${b.title || b.payload || ""}`));
        row.appendChild(wrap);
      }
      box.appendChild(row);
    }
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  function renderNotes(notes) {
    const list = $("notes");
    clear(list);
    if (!notes.length) list.appendChild(el("li", "empty", "暂无备注"));
    for (const n of notes) {
      const li = el("li", "note");
      if (n.id !== undefined) li.setAttribute("data-id", String(n.id));
      const head = el("div", "note-head");
      head.appendChild(el("span", "note-author", n.author || ""));
      head.appendChild(el("span", "note-time", fullTime(n.created_at)));
      li.appendChild(head);
      li.appendChild(el("div", "note-text", n.text || ""));
      list.appendChild(li);
    }
  }

  function renderEvents(events) {
    const list = $("events");
    clear(list);
    if (!events.length) list.appendChild(el("li", "empty", "暂无记录"));
    for (const e of events) {
      const li = el("li", `event event-${e.kind}`);
      li.setAttribute("data-kind", e.kind || "");
      li.appendChild(el("span", "event-time", fullTime(e.created_at)));
      li.appendChild(el("span", "event-kind", label("case_events", e.kind)));
      li.appendChild(el("span", "event-actor", e.actor || ""));
      if (e.detail) li.appendChild(el("span", "event-detail", e.detail));
      list.appendChild(li);
    }
  }

  function updateActionButtons() {
    const d = state.detail;
    const status = d ? d.status : null;
    const me = state.liaison && state.liaison.username;
    // Reply and resolve claim an open case first, so they are allowed on open cases and on my claims.
    const mine = status === "claimed" && (!me || d.claimed_by === me);
    const canAct = status === "open" || mine;
    const busy = state.acting || !d;
    $("btn-claim").disabled = busy || status !== "open";
    $("btn-return").disabled = busy || !mine;
    $("btn-resolve").disabled = busy || !canAct;
    $("reply-submit").disabled = busy || !canAct;
    $("reply-input").disabled = !canAct;
    $("note-submit").disabled = busy;
    $("bind-submit").disabled = busy || status === "resolved";
  }

  // -- actions ---------------------------------------------------------------------------------
  async function act(path, body, done) {
    const id = state.currentId;
    if (id === null || state.acting) return false;
    state.acting = true;
    updateActionButtons();
    try {
      const detail = await api(`/api/escalations/${encodeURIComponent(id)}/${path}`, { method: "POST", json: body });
      if (String(id) === String(state.currentId)) {
        // Some actions answer with the summary only; keep the pane whole by reading the full case.
        if (detail && detail.packet && Array.isArray(detail.transcript)) renderDetail(detail);
        else await refreshDetail();
      }
      setStatus(done, "ok");
      return true;
    } catch (err) {
      if (err.status !== 401) setStatus(`工单 #${id}：${err.message}`, "error");
      return false;
    } finally {
      state.acting = false;
      updateActionButtons();
      refreshList("mine");
      refreshList("queue");
    }
  }

  async function sendReply(event) {
    if (event) event.preventDefault();
    const input = $("reply-input");
    const text = input.value.trim();
    if (!text) { setStatus("请输入回复内容。", "error"); input.focus(); return; }
    if (await act("reply", { text }, `已回复工单 #${state.currentId}`)) {
      input.value = "";
      const box = $("transcript");
      box.scrollTop = box.scrollHeight;
    }
  }

  /** The liaison has confirmed which registered firm the owner speaks for (e.g. by phone). */
  async function bindFirm(event) {
    if (event) event.preventDefault();
    const input = $("bind-uscc");
    const uscc = input.value.trim().toUpperCase();
    if (!/^[0-9A-Z]{18}$/.test(uscc)) { setStatus("请输入18位统一社会信用代码。", "error"); input.focus(); return; }
    if (await act("bind-firm", { uscc }, `已绑定企业（工单 #${state.currentId}）`)) input.value = "";
  }

  async function addNote(event) {
    if (event) event.preventDefault();
    const input = $("note-input");
    const text = input.value.trim();
    if (!text) { setStatus("请输入备注内容。", "error"); input.focus(); return; }
    if (await act("notes", { text }, `已添加备注（工单 #${state.currentId}）`)) input.value = "";
  }

  /** Download a CSV route as ``filename`` (cases for everyone, the audit log for admins). */
  async function exportCsv(path, filename, btn) {
    btn.disabled = true;
    try {
      const res = await api(path, { raw: true, headers: { Accept: "text/csv" } });
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = filename;
      link.hidden = true;
      document.body.appendChild(link);
      link.click();
      document.body.removeChild(link);
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      setStatus(`已导出 ${filename}`, "ok");
    } catch (err) {
      if (err.status !== 401) setStatus(`导出失败：${err.message}`, "error");
    } finally {
      btn.disabled = false;
    }
  }

  /** Ctrl/⌘+Enter submits a textarea, except while an IME is composing. */
  function submitOnCtrlEnter(textarea, submit) {
    textarea.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
      if (event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      submit();
    });
  }

  // -- knowledge base (editors and admins) -------------------------------------------------------
  // Sources and versioned policy records (/api/knowledge). Saving makes a draft version; only 发布
  // makes it what the bot answers from. The server owns the vocabulary (categories, statuses, facts,
  // ops) and every rule: the form sends what was typed and shows each 422 message at its field.
  const KB_ROLES = ["editor", "admin"];
  const RECORD_FIELDS = ["id", "source_id", "title", "section", "departments", "category", "audience", "benefit_text",
    "amounts_wan", "conditions", "aliases", "status", "valid_from", "valid_until", "quote"];
  const SOURCE_FIELDS = ["title", "doc_no", "issuer", "date", "disclosure", "cited_as", "text", "file"];
  const FIELD_LABELS = {
    id: "编号", source_id: "来源文件", title: "标题", section: "条款", departments: "负责部门", category: "类别",
    audience: "适用对象", benefit_text: "支持内容", amounts_wan: "金额", conditions: "申报条件", aliases: "别名",
    status: "状态", valid_from: "生效日期", valid_until: "失效日期", quote: "原文引用",
    doc_no: "文号", issuer: "发文单位", date: "日期", disclosure: "公开方式", cited_as: "引用简称", text: "全文", file: "文件",
  };
  const VERSION_STATES = { published: "已发布", draft: "草稿", superseded: "历史" };
  const OP_LABELS = { in: "属于", ">=": "不低于", "==": "等于" };
  const KB_STATUS_TEXT = {
    400: "请求有误",
    403: "仅编辑和管理员可以维护知识库",
    404: "记录不存在",
    409: "与现有数据冲突",
    413: "文件或内容太大",
    415: "不支持的文件类型，请上传 .txt、.docx 或 .pdf 文件",
  };

  const kb = {
    vocab: { categories: {}, statuses: {}, facts: {}, ops: [] },
    vocabLoaded: false,
    sources: [],
    records: [],
    record: null,        // GET /api/knowledge/records/{id} of the open record; null while creating one
    saved: null,         // the form's body when last loaded or saved: what "unsaved changes" compares with
    busy: false,
    checkTimer: null,
    checkSeq: 0,         // only the newest quote check may draw
    lastSourceId: null,  // a new record starts on the source added last
    texts: {},           // source id -> full text, for the preview
  };
  const rowExtras = new WeakMap(); // row -> keys of an amount or condition the form does not edit (note, unknown_values)

  function canEditKnowledge() {
    const who = state.liaison || {};
    return KB_ROLES.includes(who.role);
  }

  function showView(name) {
    const knowledge = name === "knowledge" && canEditKnowledge();
    $("cases-view").hidden = knowledge;
    $("kb-view").hidden = !knowledge;
    $("tab-cases").setAttribute("aria-selected", String(!knowledge));
    $("tab-knowledge").setAttribute("aria-selected", String(knowledge));
    $("tab-cases").classList.toggle("active", !knowledge);
    $("tab-knowledge").classList.toggle("active", knowledge);
    if (knowledge) openKnowledge();
  }

  async function openKnowledge() {
    if (!kb.vocabLoaded) await loadKbVocabulary();
    await Promise.all([loadSources(), loadRecords()]);
  }

  function resetKnowledge() {
    clearTimeout(kb.checkTimer);
    Object.assign(kb, { sources: [], records: [], record: null, saved: null, busy: false, lastSourceId: null, texts: {} });
    kb.checkSeq += 1;
    clear($("kb-sources"));
    clear($("kb-records"));
    showKbPane("empty");
    $("view-tabs").hidden = true;
    $("cases-view").hidden = false;
    $("kb-view").hidden = true;
  }

  /** The server's message for the editor: its own Chinese detail, else a Chinese lead with the detail. */
  function kbErrorText(err) {
    const detail = err.body && typeof err.body.detail === "string" ? err.body.detail.trim() : "";
    if (detail && /[\u4e00-\u9fff]/.test(detail)) return detail;
    const lead = KB_STATUS_TEXT[err.status];
    if (!lead) return err.message;
    return detail ? `${lead}（${detail}）` : lead;
  }

  function splitList(text) {
    return String(text || "").split(/[,，、;；\n]+/).map((t) => t.trim()).filter(Boolean);
  }

  function enc(value) { return encodeURIComponent(String(value)); }

  function fillSelect(select, options, placeholder) {
    const keep = select.value;
    clear(select);
    if (placeholder !== undefined) select.appendChild(new Option(placeholder, ""));
    for (const [value, text] of options) select.appendChild(new Option(text, value));
    if (keep && options.some(([value]) => value === keep)) select.value = keep;
  }

  /** Select ``value``, adding it as an option when the list lacks it (a word the vocabulary dropped). */
  function selectValue(select, value) {
    const v = value === null || value === undefined ? "" : String(value);
    if (v && !Array.from(select.options).some((o) => o.value === v)) select.appendChild(new Option(v, v));
    select.value = v;
  }

  async function loadKbVocabulary() {
    try {
      const v = await api("/api/knowledge/vocabulary");
      kb.vocab = {
        categories: (v && v.categories) || {},
        statuses: (v && v.statuses) || {},
        facts: (v && v.facts) || {},
        ops: Array.isArray(v && v.ops) ? v.ops : [],
      };
      kb.vocabLoaded = true;
    } catch (err) {
      if (err.status !== 401) setStatus(`知识库词表加载失败：${kbErrorText(err)}`, "error");
      return;
    }
    fillSelect($("kb-field-category"), Object.entries(kb.vocab.categories), "请选择类别");
    fillSelect($("kb-field-status"), Object.entries(kb.vocab.statuses));
  }

  // -- knowledge: lists --------------------------------------------------------------------------
  async function loadSources() {
    try {
      const list = await api("/api/knowledge/sources");
      kb.sources = Array.isArray(list) ? list : [];
    } catch (err) {
      if (err.status !== 401) setStatus(`来源文件加载失败：${kbErrorText(err)}`, "error");
      return;
    }
    renderSources();
  }

  function sourceName(s) {
    return [s.doc_no || s.cited_as, s.title].filter(Boolean).join(" ");
  }

  function renderSources() {
    const list = $("kb-sources");
    clear(list);
    $("kb-count-sources").textContent = `（${kb.sources.length}）`;
    if (!kb.sources.length) list.appendChild(el("li", "empty", "暂无来源文件"));
    for (const s of kb.sources) {
      const li = el("li");
      const btn = el("button", "kb-item kb-source");
      btn.type = "button";
      btn.setAttribute("data-id", String(s.id));
      btn.title = [s.issuer, s.disclosure].filter(Boolean).join(" · ");
      btn.appendChild(el("span", "kb-item-title", s.title || s.id));
      const meta = el("span", "kb-item-meta");
      meta.appendChild(el("span", "kb-doc-no", s.doc_no || "无文号"));
      if (s.date) meta.appendChild(el("span", "kb-date", s.date));
      meta.appendChild(el("span", "kb-chars", `${Number(s.chars) || 0} 字`));
      if (s.cited_as) meta.appendChild(el("span", "chip", `简称：${s.cited_as}`));
      btn.appendChild(meta);
      btn.addEventListener("click", () => openSource(s.id));
      li.appendChild(btn);
      list.appendChild(li);
    }
    const sources = kb.sources.map((s) => [String(s.id), sourceName(s)]);
    fillSelect($("kb-field-source_id"), sources, "请选择来源文件");
  }

  async function loadRecords() {
    try {
      const list = await api("/api/knowledge/records");
      kb.records = Array.isArray(list) ? list : [];
    } catch (err) {
      if (err.status !== 401) setStatus(`政策条目加载失败：${kbErrorText(err)}`, "error");
      return;
    }
    renderRecords();
  }

  function renderRecords() {
    const list = $("kb-records");
    const needle = $("kb-record-filter").value.trim().toLowerCase();
    const shown = kb.records.filter((r) => !needle
      || [r.id, r.title, r.section].some((v) => String(v || "").toLowerCase().includes(needle)));
    $("kb-count-records").textContent = needle ? `（${shown.length}/${kb.records.length}）` : `（${kb.records.length}）`;
    clear(list);
    if (!shown.length) list.appendChild(el("li", "empty", needle ? "没有符合的条目" : "暂无政策条目"));
    for (const r of shown) {
      const li = el("li");
      const btn = el("button", `kb-item kb-record status-${r.status || ""}`);
      btn.type = "button";
      btn.setAttribute("data-id", String(r.id));
      const top = el("span", "kb-item-top");
      top.appendChild(el("span", "kb-item-title", r.title || r.id));
      top.appendChild(el("span", `status-tag kb-status-${r.status || ""}`, label2("statuses", r.status)));
      btn.appendChild(top);
      const meta = el("span", "kb-item-meta");
      meta.appendChild(el("span", "kb-item-id mono", r.id));
      if (r.section) meta.appendChild(el("span", "kb-item-section", r.section));
      meta.appendChild(el("span", "kb-published",
        r.published_version === null || r.published_version === undefined ? "未发布" : `已发布 v${r.published_version}`));
      if (r.draft_version !== null && r.draft_version !== undefined) {
        meta.appendChild(el("span", "kb-draft", `草稿 v${r.draft_version}`));
      }
      btn.appendChild(meta);
      if (r.updated_at) btn.title = `最近修改：${fullTime(r.updated_at)}${r.updated_by ? ` · ${r.updated_by}` : ""}`;
      btn.addEventListener("click", () => openRecord(r.id));
      li.appendChild(btn);
      list.appendChild(li);
    }
    markKbSelected();
  }

  function label2(part, key) {
    return (key && kb.vocab[part] && kb.vocab[part][key]) || key || "";
  }

  function markKbSelected() {
    const current = kb.record && !$("kb-record-form").hidden ? String(kb.record.id) : null;
    for (const btn of document.querySelectorAll("#kb-records .kb-item")) {
      const on = btn.getAttribute("data-id") === current;
      btn.classList.toggle("selected", on);
      if (on) btn.setAttribute("aria-current", "true"); else btn.removeAttribute("aria-current");
    }
  }

  /** Show one thing in the right-hand pane: "empty", "source" (view), "source-form" or "record". */
  function showKbPane(which) {
    $("kb-empty").hidden = which !== "empty";
    $("kb-source-view").hidden = which !== "source";
    $("kb-source-form").hidden = which !== "source-form";
    $("kb-record-form").hidden = which !== "record";
    markKbSelected();
  }

  // -- knowledge: sources ------------------------------------------------------------------------
  async function sourceText(id) {
    if (kb.texts[id] === undefined) {
      const s = await api(`/api/knowledge/sources/${enc(id)}`);
      kb.texts[id] = (s && s.text) || "";
    }
    return kb.texts[id];
  }

  async function openSource(id) {
    const s = kb.sources.find((x) => String(x.id) === String(id));
    if (!s) return;
    $("kb-source-view-title").textContent = s.title || s.id;
    $("kb-source-view-meta").textContent = [s.doc_no, s.issuer, s.date, s.disclosure, s.cited_as ? `简称：${s.cited_as}` : "",
      `${Number(s.chars) || 0} 字`, s.created_by ? `录入：${s.created_by}` : ""].filter(Boolean).join(" · ");
    $("kb-source-view-new").setAttribute("data-id", String(s.id));
    $("kb-source-view-text").textContent = "加载中…";
    showKbPane("source");
    try {
      const text = await sourceText(s.id);
      if ($("kb-source-view-new").getAttribute("data-id") === String(s.id)) $("kb-source-view-text").textContent = text;
    } catch (err) {
      if (err.status !== 401) $("kb-source-view-text").textContent = `全文加载失败：${kbErrorText(err)}`;
    }
  }

  function newSource() {
    $("kb-source-form").reset(); // back to the defaults in the page (公开方式 主动公开)
    clearErrors("source");
    $("kb-source-file-note").hidden = true;
    updateSourceChars();
    showKbPane("source-form");
    $("kb-source-title").focus();
  }

  function updateSourceChars() {
    const n = $("kb-source-text").value.length;
    $("kb-source-chars").textContent = n ? `（${n} 字）` : "";
  }

  /** Send the chosen file to the server, which returns its text layer for the 全文 box. */
  async function extractSourceFile() {
    const input = $("kb-source-file");
    const file = input.files && input.files[0];
    const note = $("kb-source-file-note");
    setFieldError("source", "file", null);
    note.hidden = true;
    if (!file) return;
    const form = new FormData();
    form.append("file", file, file.name);
    note.textContent = `正在提取 ${file.name}…`;
    note.hidden = false;
    try {
      const res = await api("/api/knowledge/sources/extract", { method: "POST", body: form });
      $("kb-source-text").value = (res && res.text) || "";
      updateSourceChars();
      if (!$("kb-source-title").value.trim()) $("kb-source-title").value = file.name.replace(/\.[^.]+$/, "");
      note.textContent = `已从 ${(res && res.filename) || file.name} 提取 ${res && res.chars !== undefined ? res.chars : ""} 字，请核对后保存。`;
    } catch (err) {
      note.hidden = true;
      if (err.status !== 401) setFieldError("source", "file", kbErrorText(err));
    }
  }

  function sourceBody() {
    const value = (name) => $(`kb-source-${name}`).value.trim();
    const body = {
      title: value("title"),
      doc_no: value("doc_no"),
      issuer: value("issuer"),
      date: value("date"),
      disclosure: value("disclosure"),
      text: $("kb-source-text").value,
    };
    if (value("cited_as")) body.cited_as = value("cited_as");
    return body;
  }

  async function saveSource(event) {
    event.preventDefault();
    if (kb.busy) return;
    setKbBusy(true);
    clearErrors("source");
    try {
      const s = await api("/api/knowledge/sources", { method: "POST", json: sourceBody() });
      kb.lastSourceId = s && s.id ? String(s.id) : null;
      await loadSources();
      setStatus(`已新增来源：${sourceName(s || {})}`, "ok");
      if (kb.lastSourceId) openSource(kb.lastSourceId); else showKbPane("empty");
    } catch (err) {
      if (err.status !== 401) showErrors("source", err);
    } finally {
      setKbBusy(false);
    }
  }

  // -- knowledge: the record form ----------------------------------------------------------------
  function setKbBusy(on) {
    kb.busy = on;
    $("kb-source-save").disabled = on;
    updateRecordButtons();
  }

  function setKbStatus(text, kind) {
    const line = $("kb-status");
    line.textContent = text || "";
    line.className = `kb-status${kind ? ` kb-status-${kind}` : ""}`;
  }

  function isDirty() {
    return kb.saved !== null && JSON.stringify(recordBody()) !== kb.saved;
  }

  function updateRecordButtons() {
    const hasDraft = Boolean(kb.record && kb.record.draft);
    const dirty = !$("kb-record-form").hidden && isDirty();
    $("kb-save").disabled = kb.busy;
    $("kb-publish").disabled = kb.busy || !hasDraft || dirty;
    $("kb-publish").title = !hasDraft ? "没有待发布的草稿" : dirty ? "有未保存的修改：请先保存草稿" : "发布后机器人即按此版本回答";
    $("kb-dirty").hidden = !dirty;
    for (const btn of document.querySelectorAll("#kb-versions .kb-restore")) {
      btn.disabled = kb.busy || btn.getAttribute("data-state") === "draft";
    }
  }

  function newRecord(sourceId) {
    kb.record = null;
    $("kb-record-heading").textContent = "新建政策条目";
    fillRecordForm({ source_id: sourceId || kb.lastSourceId || "", status: "in_force" });
    clear($("kb-versions"));
    $("kb-versions").appendChild(el("li", "empty", "保存草稿后在此查看各版本"));
    setKbStatus("");
    showKbPane("record");
    $("kb-field-id").focus();
  }

  async function openRecord(id, quiet) {
    let data;
    try {
      data = await api(`/api/knowledge/records/${enc(id)}`);
    } catch (err) {
      if (err.status !== 401) setStatus(`政策条目 ${id} 加载失败：${kbErrorText(err)}`, "error");
      return;
    }
    kb.record = data;
    const shown = data.draft || data.published || { id: data.id };
    $("kb-record-heading").textContent = `${shown.title || data.id}`;
    fillRecordForm(shown);
    showKbPane("record");
    if (!quiet) setKbStatus(describeRecord(data));
    await loadVersions(data.id);
  }

  function describeRecord(r) {
    const parts = [r.published ? `已发布 v${r.published.version}` : "尚未发布"];
    if (r.draft) parts.push(`草稿 v${r.draft.version} 待发布`);
    return parts.join("；");
  }

  function fillRecordForm(r) {
    const text = (name, value) => { $(`kb-field-${name}`).value = value === null || value === undefined ? "" : String(value); };
    text("id", r.id);
    $("kb-field-id").readOnly = Boolean(kb.record);
    selectValue($("kb-field-source_id"), r.source_id);
    text("title", r.title);
    text("section", r.section);
    text("departments", (r.departments || []).join("、"));
    selectValue($("kb-field-category"), r.category);
    selectValue($("kb-field-status"), r.status || "in_force");
    text("audience", r.audience);
    text("benefit_text", r.benefit_text);
    text("aliases", (r.aliases || []).join("、"));
    text("valid_from", r.valid_from);
    text("valid_until", r.valid_until);
    text("quote", r.quote);

    clear($("kb-amounts"));
    for (const a of r.amounts_wan || []) addAmountRow(a);
    clear($("kb-conditions"));
    const cond = r.conditions && typeof r.conditions === "object" ? r.conditions : null;
    const join = cond && Array.isArray(cond.any) ? "any" : "all";
    $("kb-cond-join").value = join;
    for (const c of (cond && cond[join]) || []) addConditionRow(c);

    const tag = $("kb-record-state");
    tag.textContent = r.version ? `${r === (kb.record && kb.record.draft) ? "草稿" : "已发布"} v${r.version}` : "未保存";
    tag.className = `status-tag ${r.version ? (r === (kb.record && kb.record.draft) ? "kb-state-draft" : "kb-state-published") : ""}`;

    $("kb-source-preview").open = false;
    clearErrors("record");
    kb.saved = JSON.stringify(recordBody());
    updateRecordButtons();
    checkQuoteSoon(0);
  }

  /** The keys of ``obj`` the form has no input for, kept so that saving does not drop them. */
  function extrasOf(obj, edited) {
    const extra = {};
    if (obj && typeof obj === "object") {
      for (const [k, v] of Object.entries(obj)) if (!edited.includes(k)) extra[k] = v;
    }
    return extra;
  }

  function rowInput(className, value, placeholder, type) {
    const input = el("input", className);
    input.type = type || "text";
    if (type === "number") input.step = "any";
    input.placeholder = placeholder;
    input.setAttribute("aria-label", placeholder);
    input.value = value === null || value === undefined ? "" : String(value);
    return input;
  }

  function removeButton(row, what) {
    const btn = el("button", "kb-remove", "删除");
    btn.type = "button";
    btn.setAttribute("aria-label", `删除此${what}`);
    btn.addEventListener("click", () => { row.remove(); updateRecordButtons(); });
    return btn;
  }

  function addAmountRow(a) {
    const row = el("div", "kb-row kb-amount-row");
    rowExtras.set(row, extrasOf(a, ["min", "max", "label"]));
    row.appendChild(rowInput("kb-amount-min", a && a.min, "最低（万元）", "number"));
    row.appendChild(el("span", "kb-dash", "至"));
    row.appendChild(rowInput("kb-amount-max", a && a.max, "最高（万元）", "number"));
    row.appendChild(rowInput("kb-amount-label", a && a.label, "说明，如 设备奖补"));
    row.appendChild(removeButton(row, "金额"));
    $("kb-amounts").appendChild(row);
    return row;
  }

  function amountRows() {
    const rows = [];
    for (const row of $("kb-amounts").querySelectorAll(".kb-amount-row")) {
      const min = row.querySelector(".kb-amount-min").value.trim();
      const max = row.querySelector(".kb-amount-max").value.trim();
      const lbl = row.querySelector(".kb-amount-label").value.trim();
      if (!min && !max && !lbl) continue;
      const amount = Object.assign({}, rowExtras.get(row) || {});
      if (min) amount.min = Number(min);
      if (max) amount.max = Number(max);
      amount.label = lbl;
      rows.push(amount);
    }
    return rows;
  }

  /** A condition's value as typed: a list for ``in``, a number for ``>=``, 是/否 for ``==``. */
  function conditionText(op, value) {
    if (Array.isArray(value)) return value.join("，");
    if (value === true) return "是";
    if (value === false) return "否";
    return value === null || value === undefined ? "" : String(value);
  }

  function conditionValue(op, text) {
    const t = text.trim();
    if (op === "in") return splitList(t);
    if (op === ">=") return t !== "" && Number.isFinite(Number(t)) ? Number(t) : t;
    if (op === "==") {
      if (["是", "true", "对", "有"].includes(t.toLowerCase())) return true;
      if (["否", "false", "不是", "无"].includes(t.toLowerCase())) return false;
    }
    return t;
  }

  const OP_HINTS = { in: "多个值用逗号分隔", ">=": "数字", "==": "是 / 否" };

  function addConditionRow(c) {
    const row = el("div", "kb-row kb-cond-row");
    if (c && typeof c === "object" && !c.fact && (c.all || c.any)) {
      // A nested group: the form keeps it as it is (it can be removed, not edited).
      rowExtras.set(row, { nested: c });
      row.appendChild(el("span", "kb-nested mono", JSON.stringify(c)));
      row.appendChild(removeButton(row, "条件"));
      $("kb-conditions").appendChild(row);
      return row;
    }
    rowExtras.set(row, extrasOf(c, ["fact", "op", "value", "note"]));
    const fact = el("select", "kb-cond-fact");
    fact.setAttribute("aria-label", "条件事项");
    fillSelect(fact, Object.entries(kb.vocab.facts), "请选择事项");
    selectValue(fact, c && c.fact);
    const op = el("select", "kb-cond-op");
    op.setAttribute("aria-label", "比较方式");
    fillSelect(op, kb.vocab.ops.map((o) => [o, OP_LABELS[o] ? `${OP_LABELS[o]}（${o}）` : o]));
    selectValue(op, (c && c.op) || kb.vocab.ops[0] || "in");
    const value = rowInput("kb-cond-value", conditionText(op.value, c && c.value), OP_HINTS[op.value] || "取值");
    op.addEventListener("change", () => {
      value.placeholder = OP_HINTS[op.value] || "取值";
      value.setAttribute("aria-label", value.placeholder);
    });
    row.appendChild(fact);
    row.appendChild(op);
    row.appendChild(value);
    row.appendChild(rowInput("kb-cond-note", c && c.note, "说明（可选）"));
    row.appendChild(removeButton(row, "条件"));
    $("kb-conditions").appendChild(row);
    return row;
  }

  function conditionsValue() {
    const items = [];
    for (const row of $("kb-conditions").querySelectorAll(".kb-cond-row")) {
      const extra = rowExtras.get(row) || {};
      if (extra.nested) { items.push(extra.nested); continue; }
      const op = row.querySelector(".kb-cond-op").value;
      const item = Object.assign({}, extra, {
        fact: row.querySelector(".kb-cond-fact").value,
        op,
        value: conditionValue(op, row.querySelector(".kb-cond-value").value),
      });
      const note = row.querySelector(".kb-cond-note").value.trim();
      if (note) item.note = note;
      items.push(item);
    }
    return items.length ? { [$("kb-cond-join").value || "all"]: items } : null;
  }

  /** The form as a RecordIn body. */
  function recordBody() {
    const value = (name) => $(`kb-field-${name}`).value.trim();
    return {
      id: value("id"),
      source_id: $("kb-field-source_id").value,
      title: value("title"),
      section: value("section"),
      departments: splitList(value("departments")),
      category: $("kb-field-category").value,
      audience: value("audience"),
      benefit_text: value("benefit_text"),
      amounts_wan: amountRows(),
      conditions: conditionsValue(),
      aliases: splitList(value("aliases")),
      status: $("kb-field-status").value,
      valid_from: value("valid_from") || null,
      valid_until: value("valid_until") || null,
      quote: value("quote"),
    };
  }

  // -- knowledge: errors -------------------------------------------------------------------------
  function errorNode(form, field) {
    return $(form === "record" ? `kb-error-${field}` : `kb-source-error-${field}`);
  }

  function setFieldError(form, field, message) {
    const node = errorNode(form, field);
    if (!node) return;
    const text = message ? [node.hidden ? "" : node.textContent, message].filter(Boolean).join("；") : "";
    node.textContent = text;
    node.hidden = !text;
    const box = node.closest(".kb-field");
    if (box) box.classList.toggle("has-error", Boolean(text));
    const input = form === "record" ? $(`kb-field-${field}`) : $(`kb-source-${field}`);
    if (input) {
      if (text) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    }
  }

  function clearErrors(form) {
    for (const field of form === "record" ? RECORD_FIELDS : SOURCE_FIELDS) setFieldError(form, field, null);
    const summary = $(form === "record" ? "kb-errors" : "kb-source-errors");
    summary.textContent = "";
    summary.hidden = true;
  }

  /** The form's field a 422 item is about: loc[-1], or the field a nested loc starts from. */
  function fieldOfLoc(form, loc) {
    const fields = form === "record" ? RECORD_FIELDS : SOURCE_FIELDS;
    const path = Array.isArray(loc) ? loc.map(String) : [];
    const last = path[path.length - 1];
    if (fields.includes(last)) return last;
    return path.find((part) => fields.includes(part)) || null;
  }

  function cleanMsg(msg) {
    return String(msg || "格式有误").replace(/^Value error,\s*/i, "");
  }

  /** A 422's messages go next to their fields and into the summary; anything else into the summary. */
  function showErrors(form, err) {
    clearErrors(form);
    const summary = $(form === "record" ? "kb-errors" : "kb-source-errors");
    const detail = err.body && err.body.detail;
    let first = null;
    if (err.status === 422 && Array.isArray(detail)) {
      const parts = [];
      for (const item of detail) {
        const field = fieldOfLoc(form, item && item.loc);
        const msg = cleanMsg(item && item.msg);
        if (field) {
          setFieldError(form, field, msg);
          first = first || field;
          parts.push(`${FIELD_LABELS[field] || field}：${msg}`);
        } else {
          parts.push(msg);
        }
      }
      summary.textContent = `未保存，请修改：${parts.join("；")}`;
    } else {
      summary.textContent = `未保存：${kbErrorText(err)}`;
    }
    summary.hidden = false;
    const input = first && (form === "record" ? $(`kb-field-${first}`) : $(`kb-source-${first}`));
    if (input) input.focus(); else summary.scrollIntoView({ block: "nearest" });
  }

  // -- knowledge: quote check --------------------------------------------------------------------
  function checkQuoteSoon(delay) {
    clearTimeout(kb.checkTimer);
    kb.checkTimer = setTimeout(checkQuote, delay === undefined ? 400 : delay);
  }

  /** Ask the server where the quote sits in its source, and show it with its context. */
  async function checkQuote() {
    const seq = ++kb.checkSeq;
    const box = $("kb-quote-check");
    const quote = $("kb-field-quote").value.trim();
    const sourceId = $("kb-field-source_id").value;
    if (!quote || !sourceId) {
      clear(box);
      box.hidden = true;
      box.removeAttribute("data-found");
      return;
    }
    let res;
    try {
      res = await api("/api/knowledge/check-quote", { method: "POST", json: { source_id: sourceId, quote } });
    } catch (err) {
      if (seq !== kb.checkSeq || err.status === 401) return;
      box.textContent = `暂时无法核对引文：${kbErrorText(err)}`;
      box.className = "kb-check";
      box.removeAttribute("data-found");
      box.hidden = false;
      return;
    }
    if (seq !== kb.checkSeq) return;
    clear(box);
    box.hidden = false;
    const found = Boolean(res && res.found);
    box.setAttribute("data-found", String(found));
    box.className = `kb-check ${found ? "kb-check-found" : "kb-check-missing"}`;
    if (!found) {
      box.textContent = "引文在来源中找不到";
      return;
    }
    const at = (res && res.quote_at) || {};
    box.appendChild(el("span", "kb-check-lead", "在来源中找到："));
    box.appendChild(document.createTextNode(`…${at.before || ""}`));
    box.appendChild(el("mark", "kb-check-quote", `【${quote}】`));
    box.appendChild(document.createTextNode(`${at.after || ""}…`));
  }

  async function toggleSourcePreview() {
    const details = $("kb-source-preview");
    if (!details.open) return;
    const id = $("kb-field-source_id").value;
    const pre = $("kb-source-preview-text");
    if (!id) { pre.textContent = "请先选择来源文件。"; return; }
    pre.textContent = "加载中…";
    try {
      const text = await sourceText(id);
      if ($("kb-field-source_id").value === id) pre.textContent = text;
    } catch (err) {
      if (err.status !== 401) pre.textContent = `全文加载失败：${kbErrorText(err)}`;
    }
  }

  // -- knowledge: save, publish, versions --------------------------------------------------------
  async function saveRecord(event) {
    if (event) event.preventDefault();
    if (kb.busy) return;
    const existing = kb.record ? String(kb.record.id) : null;
    const body = recordBody();
    setKbBusy(true);
    clearErrors("record");
    setKbStatus("正在保存…");
    try {
      const res = existing
        ? await api(`/api/knowledge/records/${enc(existing)}`, { method: "PUT", json: body })
        : await api("/api/knowledge/records", { method: "POST", json: body });
      await openRecord(res.id, true);
      setKbStatus(`已保存草稿 v${res.version}（尚未发布）`, "ok");
      loadRecords();
    } catch (err) {
      if (err.status === 401) return;
      showErrors("record", err);
      setKbStatus("未保存", "error");
    } finally {
      setKbBusy(false);
    }
  }

  async function publishRecord() {
    const id = kb.record && kb.record.id;
    if (!id || kb.busy) return;
    setKbBusy(true);
    clearErrors("record");
    setKbStatus("正在发布…");
    try {
      const res = await api(`/api/knowledge/records/${enc(id)}/publish`, { method: "POST" });
      await openRecord(id, true);
      const index = res && res.index ? `（索引 ${res.index.records} 条，用时 ${Math.round(res.index.built_ms)} ms）` : "";
      setKbStatus(`已发布 v${res.version}${index}，机器人即按此版本回答`, "ok");
      loadRecords();
    } catch (err) {
      if (err.status === 401) return;
      setKbStatus(`发布失败：${kbErrorText(err)}`, "error");
    } finally {
      setKbBusy(false);
    }
  }

  async function loadVersions(id) {
    const list = $("kb-versions");
    let versions;
    try {
      versions = await api(`/api/knowledge/records/${enc(id)}/versions`);
    } catch (err) {
      if (err.status === 401) return;
      clear(list);
      list.appendChild(el("li", "empty", `版本记录加载失败：${kbErrorText(err)}`));
      return;
    }
    if (!kb.record || String(kb.record.id) !== String(id)) return;
    clear(list);
    if (!Array.isArray(versions) || !versions.length) list.appendChild(el("li", "empty", "暂无版本"));
    for (const v of versions || []) {
      const li = el("li", `kb-version kb-version-${v.state}`);
      li.setAttribute("data-version", String(v.version));
      li.setAttribute("data-state", String(v.state || ""));
      const head = el("div", "kb-version-head");
      head.appendChild(el("span", "kb-version-no", `v${v.version}`));
      head.appendChild(el("span", `status-tag kb-state-${v.state}`, VERSION_STATES[v.state] || v.state));
      if (v.author) head.appendChild(el("span", "kb-version-author", v.author));
      if (v.created_at) head.appendChild(el("span", "kb-version-time", fullTime(v.created_at)));
      li.appendChild(head);
      li.appendChild(el("div", "kb-version-title", [v.title, label2("statuses", v.status)].filter(Boolean).join(" · ")));
      if (v.note) li.appendChild(el("div", "kb-version-note muted", v.note));
      const btn = el("button", "kb-restore", "恢复");
      btn.type = "button";
      btn.setAttribute("data-state", String(v.state || ""));
      btn.title = v.state === "draft" ? "这就是当前草稿" : `以 v${v.version} 的内容新建草稿（发布后生效）`;
      btn.addEventListener("click", () => restoreVersion(id, v.version));
      li.appendChild(btn);
      list.appendChild(li);
    }
    updateRecordButtons();
  }

  async function restoreVersion(id, version) {
    if (kb.busy) return;
    setKbBusy(true);
    clearErrors("record");
    try {
      const res = await api(`/api/knowledge/records/${enc(id)}/versions/${enc(version)}/restore`, { method: "POST" });
      await openRecord(id, true);
      setKbStatus(`已将 v${version} 恢复为草稿 v${res.version}，发布后生效`, "ok");
      loadRecords();
    } catch (err) {
      if (err.status !== 401) setKbStatus(`恢复失败：${kbErrorText(err)}`, "error");
    } finally {
      setKbBusy(false);
    }
  }

  function wireKnowledge() {
    $("tab-cases").addEventListener("click", () => showView("cases"));
    $("tab-knowledge").addEventListener("click", () => showView("knowledge"));
    $("kb-new-source").addEventListener("click", newSource);
    $("kb-new-record").addEventListener("click", () => newRecord());
    $("kb-record-filter").addEventListener("input", renderRecords);
    $("kb-source-view-new").addEventListener("click", () => newRecord($("kb-source-view-new").getAttribute("data-id")));
    $("kb-source-form").addEventListener("submit", saveSource);
    $("kb-source-cancel").addEventListener("click", () => showKbPane("empty"));
    $("kb-source-file").addEventListener("change", extractSourceFile);
    $("kb-source-text").addEventListener("input", updateSourceChars);
    const form = $("kb-record-form");
    form.addEventListener("submit", saveRecord);
    form.addEventListener("input", updateRecordButtons);
    form.addEventListener("change", updateRecordButtons);
    $("kb-publish").addEventListener("click", publishRecord);
    $("kb-add-amount").addEventListener("click", () => { addAmountRow(null).querySelector("input").focus(); updateRecordButtons(); });
    $("kb-add-condition").addEventListener("click", () => { addConditionRow(null).querySelector("select").focus(); updateRecordButtons(); });
    $("kb-field-quote").addEventListener("input", () => checkQuoteSoon());
    $("kb-field-source_id").addEventListener("change", () => {
      checkQuoteSoon(0);
      toggleSourcePreview();
    });
    $("kb-source-preview").addEventListener("toggle", toggleSourcePreview);
  }

  // -- wiring ----------------------------------------------------------------------------------
  function init() {
    $("login-form").addEventListener("submit", login);
    $("btn-logout").addEventListener("click", () => logout(""));
    $("btn-export").addEventListener("click", () => exportCsv("/api/escalations.csv", "escalations.csv", $("btn-export")));
    $("btn-audit").addEventListener("click", () => exportCsv("/api/admin/audit.csv", "audit_log.csv", $("btn-audit")));
    $("btn-claim").addEventListener("click", () => act("claim", undefined, `已认领工单 #${state.currentId}`));
    $("btn-return").addEventListener("click", () => act("return", undefined, `工单 #${state.currentId} 已退回部门队列`));
    $("btn-resolve").addEventListener("click", () => act("resolve", undefined, `工单 #${state.currentId} 已办结`));
    $("reply-form").addEventListener("submit", sendReply);
    $("note-form").addEventListener("submit", addNote);
    $("bind-form").addEventListener("submit", bindFirm);
    submitOnCtrlEnter($("reply-input"), sendReply);
    submitOnCtrlEnter($("note-input"), addNote);
    $("btn-back").addEventListener("click", () => {
      const id = state.currentId;
      closeDetail();
      const item = document.querySelector(`.esc-item[data-id="${CSS.escape(String(id))}"]`);
      if (item) item.focus();
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && state.token) refreshAll();
    });
    wireKnowledge();
    updateActionButtons();

    loadVocabulary().then(() => {
      if (state.token) showApp();
      else logout("");
    });
  }

  init();
})();
