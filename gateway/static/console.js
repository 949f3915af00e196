/* 惠企通 liaison console: login, the two escalation lists, the detail pane and its actions (with
 * 快捷回复 beside the reply box and 建议入库 to propose a reply as a common answer). The 知识库 tab of
 * editors and admins lives in knowledge.js, the 数据看板 tab in dashboard.js, both loaded first; this
 * file hands them the shared helpers.
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
    facts: {}, identity: {}, case_statuses: {}, sla_states: {}, message_roles: {}, case_events: {}, handoff_reasons: {}, channels: {}, outcomes: {},
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
    snippetsTimer: null,
    snippetsSeq: 0,      // only the newest 快捷回复 search may draw
    proposed: false,     // the 建议入库 panel's text was submitted and not changed since
  };

  // The 知识库 tab (knowledge.js); without it the console is the case view alone.
  const knowledge = typeof window.hqtKnowledge === "function"
    ? window.hqtKnowledge({ $, el, clear, api, setStatus, fullTime, shortTime, snippet, liaison: () => state.liaison })
    : { canEdit: () => false, open() {}, reset() {}, wire() {}, poll() {} };
  // The 数据看板 tab (dashboard.js): every figure for editors and admins, a liaison's own service figures.
  const dashboard = typeof window.hqtDashboard === "function"
    ? window.hqtDashboard({ $, el, clear, api, setStatus, fullTime, exportCsv, showView, liaison: () => state.liaison })
    : { open() {}, reset() {}, wire() {} };

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
    knowledge.reset();
    dashboard.reset();
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
    $("view-tabs").hidden = false;
    $("tab-knowledge").hidden = !knowledge.canEdit();
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
      const polls = [refreshList("mine"), refreshList("queue"), refreshDetail()];
      if (!$("kb-view").hidden) polls.push(knowledge.poll());
      await Promise.all(polls);
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
      closeSnippets(false);
      closePropose(false);
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
    $("btn-snippets").disabled = !canAct;
    if (!canAct) closeSnippets(false);
    // A reply worth keeping can be proposed while I handle the case and after it is closed.
    const propose = status === "resolved" || mine;
    $("btn-propose").hidden = !propose;
    if (!propose) closePropose(false);
    $("propose-submit").disabled = busy || state.proposed;
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

  // -- 快捷回复: a record's quote or a published staff answer into the reply box ----------------------
  function caseQuestion(d) {
    const packet = (d && d.packet) || {};
    const asked = packet.question || (d && d.question);
    if (asked) return String(asked);
    const transcript = d && Array.isArray(d.transcript) ? d.transcript : [];
    const owner = transcript.filter((m) => m.role === "user" && m.text).pop();
    return owner ? String(owner.text) : "";
  }

  function openSnippets() {
    const panel = $("snippets-panel");
    const q = $("snippets-q");
    if (panel.hidden) {
      q.value = caseQuestion(state.detail).slice(0, 200);
      panel.hidden = false;
      $("btn-snippets").setAttribute("aria-expanded", "true");
      searchSnippets();
      panel.scrollIntoView({ block: "nearest" });
    }
    q.focus();
    q.select();
  }

  function closeSnippets(focusReply) {
    clearTimeout(state.snippetsTimer);
    state.snippetsSeq += 1;
    $("snippets-panel").hidden = true;
    $("btn-snippets").setAttribute("aria-expanded", "false");
    if (focusReply) $("reply-input").focus();
  }

  function searchSnippetsSoon() {
    clearTimeout(state.snippetsTimer);
    state.snippetsTimer = setTimeout(searchSnippets, 300);
  }

  async function searchSnippets() {
    clearTimeout(state.snippetsTimer);
    const seq = ++state.snippetsSeq;
    const q = $("snippets-q").value.trim().slice(0, 200);
    const list = $("snippets-list");
    const note = $("snippets-note");
    if (!q) {
      clear(list);
      note.textContent = "请输入关键词，如政策名称或企业的问题。";
      return;
    }
    note.textContent = "正在搜索…";
    let items;
    try {
      items = await api(`/api/knowledge/snippets?q=${encodeURIComponent(q)}`);
    } catch (err) {
      if (seq !== state.snippetsSeq || err.status === 401) return;
      clear(list);
      note.textContent = `快捷回复加载失败：${err.message}`;
      return;
    }
    if (seq !== state.snippetsSeq) return;
    items = Array.isArray(items) ? items : [];
    clear(list);
    note.textContent = items.length ? `${items.length} 条，点击插入回复框` : "没有找到相关的政策原文或工作人员答复。";
    for (const item of items) {
      const li = el("li");
      const btn = el("button", `snippet-item snippet-${item.kind}`);
      btn.type = "button";
      btn.setAttribute("data-kind", String(item.kind || ""));
      btn.setAttribute("data-id", String(item.id || ""));
      btn.title = item.text || "";
      const top = el("span", "snippet-top");
      top.appendChild(el("span", "snippet-kind", item.kind === "staff" ? label("outcomes", "staff") : "政策原文"));
      top.appendChild(el("span", "snippet-title", item.title || item.id || ""));
      btn.appendChild(top);
      btn.appendChild(el("span", "snippet-preview", snippet(item.text, 120)));
      btn.addEventListener("click", () => insertSnippet(String(item.text || "")));
      li.appendChild(btn);
      list.appendChild(li);
    }
  }

  /** Put ``text`` at the reply box's cursor (replacing a selection), on a line of its own. */
  function insertSnippet(text) {
    const input = $("reply-input");
    if (input.disabled || !text) return;
    const value = input.value;
    const start = Math.min(input.selectionStart ?? value.length, value.length);
    const end = Math.min(input.selectionEnd ?? start, value.length);
    const before = start > 0 && !/\s$/.test(value.slice(0, start)) ? "\n" : "";
    const after = end < value.length && !/^\s/.test(value.slice(end)) ? "\n" : "";
    input.setRangeText(`${before}${text}${after}`, start, end, "end");
    closeSnippets(true);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  /** Arrow keys move between the search box and the results; Escape closes the panel. */
  function snippetKeys(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      closeSnippets(false);
      $("btn-snippets").focus();
      return;
    }
    const items = Array.from($("snippets-list").querySelectorAll(".snippet-item"));
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") {
      if (event.key === "Enter" && event.target === $("snippets-q")) { event.preventDefault(); searchSnippets(); }
      return;
    }
    event.preventDefault();
    const at = items.indexOf(document.activeElement);
    const next = event.key === "ArrowDown" ? at + 1 : at - 1;
    if (next < 0) $("snippets-q").focus();
    else if (items[Math.min(next, items.length - 1)]) items[Math.min(next, items.length - 1)].focus();
  }

  // -- 建议入库: propose a reply as a common answer --------------------------------------------------
  /** My last reply in the case (by name; any liaison's when I wrote none). */
  function myLastReply(d) {
    const me = state.liaison || {};
    const replies = (d && Array.isArray(d.transcript) ? d.transcript : []).filter((m) => m.role === "liaison" && m.text);
    const mine = replies.filter((m) => !m.author || m.author === me.name || m.author === me.username);
    const last = (mine.length ? mine : replies).pop();
    return last ? String(last.text) : "";
  }

  function openPropose() {
    const panel = $("propose-panel");
    if (panel.hidden) {
      const d = state.detail;
      $("propose-question").value = caseQuestion(d);
      $("propose-answer").value = myLastReply(d);
      $("propose-department").value = (state.liaison && state.liaison.department) || (d && d.department) || "";
      setProposeStatus("");
      state.proposed = false;
      panel.hidden = false;
      $("btn-propose").setAttribute("aria-expanded", "true");
      updateActionButtons();
      panel.scrollIntoView({ block: "nearest" });
    }
    const empty = ["propose-question", "propose-answer"].map($).find((input) => !input.value.trim());
    (empty || $("propose-answer")).focus();
  }

  function closePropose(focusButton) {
    $("propose-panel").hidden = true;
    $("btn-propose").setAttribute("aria-expanded", "false");
    if (focusButton) $("btn-propose").focus();
  }

  function setProposeStatus(text, kind) {
    const line = $("propose-status");
    line.textContent = text || "";
    line.className = `propose-status${kind ? ` propose-status-${kind}` : ""}`;
  }

  async function submitProposal(event) {
    if (event) event.preventDefault();
    const id = state.currentId;
    if (id === null || state.acting || state.proposed) return;
    const question = $("propose-question").value.trim();
    const answer = $("propose-answer").value.trim();
    const department = $("propose-department").value.trim();
    if (!question || !answer) {
      setProposeStatus(!question ? "请填写问题。" : "请填写答复。", "error");
      $(!question ? "propose-question" : "propose-answer").focus();
      return;
    }
    const body = { question, answer };
    if (department) body.department = department;
    state.acting = true;
    updateActionButtons();
    setProposeStatus("正在提交…");
    try {
      const p = await api(`/api/escalations/${encodeURIComponent(id)}/propose`, { method: "POST", json: body });
      if (String(id) !== String(state.currentId)) return;
      state.proposed = true;
      setProposeStatus(`已提交，待编辑审核${p && p.id !== undefined ? `（建议答复 #${p.id}）` : ""}`, "ok");
    } catch (err) {
      if (err.status !== 401 && String(id) === String(state.currentId)) setProposeStatus(`未提交：${err.message}`, "error");
    } finally {
      state.acting = false;
      updateActionButtons();
    }
  }

  function wireCaseTools() {
    $("btn-snippets").addEventListener("click", () => ($("snippets-panel").hidden ? openSnippets() : closeSnippets(true)));
    $("snippets-q").addEventListener("input", searchSnippetsSoon);
    $("snippets-panel").addEventListener("keydown", snippetKeys);
    $("btn-propose").addEventListener("click", () => ($("propose-panel").hidden ? openPropose() : closePropose(true)));
    $("propose-panel").addEventListener("submit", submitProposal);
    $("propose-panel").addEventListener("input", () => {
      if (!state.proposed) return;
      state.proposed = false; // changed after submitting: it may go in again, as another proposal
      updateActionButtons();
    });
    $("propose-cancel").addEventListener("click", () => closePropose(true));
  }

  // -- view tabs: 案件 | 知识库 (editors and admins) | 数据看板 ----------------------------------------
  const VIEWS = { cases: "cases-view", knowledge: "kb-view", dashboard: "dash-view" };
  function showView(name) {
    const shown = name === "knowledge" && !knowledge.canEdit() ? "cases" : name;
    for (const [view, panel] of Object.entries(VIEWS)) {
      $(panel).hidden = view !== shown;
      $(`tab-${view}`).setAttribute("aria-selected", String(view === shown));
      $(`tab-${view}`).classList.toggle("active", view === shown);
    }
    if (shown === "knowledge") knowledge.open();
    if (shown === "dashboard") dashboard.open();
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
    wireCaseTools();
    $("tab-cases").addEventListener("click", () => showView("cases"));
    $("tab-knowledge").addEventListener("click", () => showView("knowledge"));
    $("tab-dashboard").addEventListener("click", () => showView("dashboard"));
    knowledge.wire();
    dashboard.wire();
    updateActionButtons();

    loadVocabulary().then(() => {
      if (state.token) showApp();
      else logout("");
    });
  }

  init();
})();
