/* 惠企通 liaison console, the 知识库 tab (editors and admins): sources, versioned policy records and
 * their publishing, and 待审答复, the queue of staff answers liaisons proposed from their cases.
 *
 * Loaded before console.js, which calls hqtKnowledge(core) once with its shared helpers (the API client,
 * DOM helpers, the status line, the signed-in liaison) and drives the tab through what it returns.
 * All data goes in through textContent, never innerHTML.
 */
/* exported hqtKnowledge */
function hqtKnowledge(core) {
  "use strict";

  const { $, el, clear, api, setStatus, fullTime, shortTime, snippet } = core;

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
    questions: "问题变体", answer: "答复", department: "部门", record_ids: "相关条目", review_by: "复核日期", reason: "驳回理由",
  };
  const VERSION_STATES = { published: "已发布", draft: "草稿", superseded: "历史" };
  const OP_LABELS = { in: "属于", ">=": "不低于", "==": "等于" };
  const PROPOSAL_FIELDS = ["questions", "answer", "department", "record_ids", "review_by", "reason"];
  const PROPOSAL_INPUTS = {
    questions: "kb-proposal-questions", answer: "kb-proposal-answer", department: "kb-proposal-department",
    record_ids: "kb-proposal-records", review_by: "kb-proposal-review-by", reason: "kb-proposal-reason",
  };
  const KB_STATUS_TEXT = {
    400: "请求有误",
    403: "仅编辑和管理员可以维护知识库",
    404: "记录不存在",
    409: "与现有数据冲突",
    413: "文件或内容太大",
    415: "不支持的文件类型，请上传 .txt、.docx 或 .pdf 文件",
  };

  const kb = {
    vocab: { categories: {}, statuses: {}, facts: {}, ops: [], proposal_statuses: {} },
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
    const who = core.liaison() || {};
    return KB_ROLES.includes(who.role);
  }

  async function openKnowledge() {
    if (!kb.vocabLoaded) await loadKbVocabulary();
    await Promise.all([loadSources(), loadRecords(), loadProposals()]);
  }

  function resetKnowledge() {
    clearTimeout(kb.checkTimer);
    Object.assign(kb, { sources: [], records: [], record: null, saved: null, busy: false, lastSourceId: null, texts: {} });
    kb.checkSeq += 1;
    Object.assign(prop, { list: [], current: null, sig: null, busy: false });
    prop.seq += 1;
    Object.assign(push, { recordId: null, version: null, busy: false });
    push.seq += 1;
    if ($("kb-push")) $("kb-push").hidden = true;
    clear($("kb-sources"));
    clear($("kb-records"));
    clear($("kb-proposals"));
    $("kb-proposals-status").value = "pending";
    showKbPane("empty");
    $("view-tabs").hidden = true;
    $("cases-view").hidden = false;
    $("kb-view").hidden = true;
  }

  /** The server's message for the editor: its own Chinese detail, else a Chinese lead with the detail. */
  function kbErrorText(err, form) {
    const detail = err.body && typeof err.body.detail === "string" ? err.body.detail.trim() : "";
    if (detail && /[\u4e00-\u9fff]/.test(detail)) return detail;
    const lead = (form === "proposal" && PROPOSAL_STATUS_TEXT[err.status]) || KB_STATUS_TEXT[err.status];
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
        proposal_statuses: (v && v.proposal_statuses) || {}, // labels of 待审答复 states, when the server sends them
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
    fillRecordPicker();
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
    $("kb-proposal-form").hidden = which !== "proposal";
    markKbSelected();
    markProposalSelected();
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
    showPushFor(null);
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
    showPushFor(data);
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
  // Each form: its fields, where a field's message and input are, and its summary line.
  const FORMS = {
    record: {
      fields: RECORD_FIELDS, error: (f) => `kb-error-${f}`, input: (f) => `kb-field-${f}`, summary: "kb-errors",
    },
    source: {
      fields: SOURCE_FIELDS, error: (f) => `kb-source-error-${f}`, input: (f) => `kb-source-${f}`, summary: "kb-source-errors",
    },
    proposal: {
      fields: PROPOSAL_FIELDS, error: (f) => `kb-proposal-error-${f}`, input: (f) => PROPOSAL_INPUTS[f], summary: "kb-proposal-errors",
    },
  };

  function setFieldError(form, field, message) {
    const node = $(FORMS[form].error(field));
    if (!node) return;
    const text = message ? [node.hidden ? "" : node.textContent, message].filter(Boolean).join("；") : "";
    node.textContent = text;
    node.hidden = !text;
    const box = node.closest(".kb-field");
    if (box) box.classList.toggle("has-error", Boolean(text));
    const input = $(FORMS[form].input(field));
    if (input) {
      if (text) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    }
  }

  function clearErrors(form) {
    for (const field of FORMS[form].fields) setFieldError(form, field, null);
    const summary = $(FORMS[form].summary);
    summary.textContent = "";
    summary.hidden = true;
  }

  /** The form's field a 422 item is about: loc[-1], or the field a nested loc starts from. */
  function fieldOfLoc(form, loc) {
    const fields = FORMS[form].fields;
    const path = Array.isArray(loc) ? loc.map(String) : [];
    const last = path[path.length - 1];
    if (fields.includes(last)) return last;
    return path.find((part) => fields.includes(part)) || null;
  }

  function cleanMsg(msg) {
    return String(msg || "格式有误").replace(/^Value error,\s*/i, "");
  }

  /** A 422's messages go next to their fields and into the summary; anything else into the summary. */
  function showErrors(form, err, lead) {
    clearErrors(form);
    const what = lead || "未保存";
    const summary = $(FORMS[form].summary);
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
      summary.textContent = `${what}，请修改：${parts.join("；")}`;
    } else {
      summary.textContent = `${what}：${kbErrorText(err, form)}`;
    }
    summary.hidden = false;
    const input = first && $(FORMS[form].input(first));
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

  // -- 待审答复: staff answers proposed from cases ---------------------------------------------------
  // A liaison proposes a case's reply as a common answer (建议入库). Here an editor completes it (more
  // ways of asking, related records, a review date) and publishes or rejects it; a published answer
  // can be withdrawn. From 发布 until 撤回 (or its review date) the bot answers matching questions with
  // it, labelled 工作人员答复 · 部门 · 日期. As with records, the server checks every field.
  const PROPOSAL_STATUS_TEXT = {
    404: "该答复不存在",
    409: "该答复的状态已变化（可能已由其他编辑处理），操作未执行",
  };

  const prop = {
    list: [],        // the proposals listed under the chosen status, newest first
    current: null,   // the proposal in the form
    sig: null,       // JSON of the list last drawn: polling redraws only on change
    seq: 0,          // only the newest list request may draw
    busy: false,
  };

  function proposalState(status) {
    return (kb.vocab.proposal_statuses && kb.vocab.proposal_statuses[status]) || status || "";
  }

  /** "2026-11-27": the day in China of a stored time, as the bot's label gives it. */
  function chinaDate(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso || "");
    const parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(d);
    const part = (type) => (parts.find((x) => x.type === type) || {}).value;
    return `${part("year")}-${part("month")}-${part("day")}`;
  }

  function today() {
    const d = new Date();
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  }

  async function loadProposals() {
    const status = $("kb-proposals-status").value || "pending";
    const seq = ++prop.seq;
    let list;
    try {
      list = await api(`/api/knowledge/proposals?status=${enc(status)}`);
    } catch (err) {
      if (err.status !== 401 && seq === prop.seq) setStatus(`待审答复加载失败：${kbErrorText(err, "proposal")}`, "error");
      return;
    }
    if (seq !== prop.seq) return;
    prop.list = Array.isArray(list) ? list : [];
    // The open proposal follows what the server now says of it (another editor may have acted).
    const open = prop.current && prop.list.find((p) => p.id === prop.current.id);
    if (open && open.status !== prop.current.status && !prop.busy) fillProposalForm(open);
    renderProposals();
  }

  function renderProposals() {
    const status = $("kb-proposals-status").value || "pending";
    const count = $("kb-count-proposals");
    count.textContent = `（${prop.list.length}）`;
    count.title = status === "all" ? "全部答复" : `${proposalState(status)}的答复`;
    const sig = JSON.stringify([status, prop.list]);
    if (sig === prop.sig) return;
    prop.sig = sig;
    const list = $("kb-proposals");
    const focused = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-id") : null;
    clear(list);
    if (!prop.list.length) list.appendChild(el("li", "empty", status === "pending" ? "暂无待审核的答复" : "没有符合的答复"));
    for (const p of prop.list) {
      const li = el("li");
      const btn = el("button", `kb-item kb-proposal-item status-${p.status || ""}`);
      btn.type = "button";
      btn.setAttribute("data-id", String(p.id));
      btn.setAttribute("data-status", String(p.status || ""));
      const questions = Array.isArray(p.questions) ? p.questions : [];
      const top = el("span", "kb-item-top");
      top.appendChild(el("span", "kb-item-title", snippet(questions[0], 60) || "（无问题）"));
      top.appendChild(el("span", `status-tag kb-proposal-${p.status || ""}`, proposalState(p.status)));
      btn.appendChild(top);
      btn.appendChild(el("span", "kb-proposal-preview", snippet(p.answer, 80)));
      const meta = el("span", "kb-item-meta");
      meta.appendChild(el("span", "kb-item-id mono", `#${p.id}`));
      if (p.department) meta.appendChild(el("span", "kb-proposal-dept", p.department));
      if (p.proposed_by) meta.appendChild(el("span", "kb-proposal-by", p.proposed_by));
      if (p.proposed_at) meta.appendChild(el("span", "kb-date", shortTime(p.proposed_at)));
      if (questions.length > 1) meta.appendChild(el("span", "chip", `${questions.length} 种问法`));
      btn.appendChild(meta);
      btn.title = questions.join("\n");
      btn.addEventListener("click", () => openProposal(p.id));
      li.appendChild(btn);
      list.appendChild(li);
    }
    markProposalSelected();
    if (focused) {
      const again = list.querySelector(`button[data-id="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  function markProposalSelected() {
    const current = prop.current && !$("kb-proposal-form").hidden ? String(prop.current.id) : null;
    for (const btn of document.querySelectorAll("#kb-proposals .kb-item")) {
      const on = btn.getAttribute("data-id") === current;
      btn.classList.toggle("selected", on);
      if (on) btn.setAttribute("aria-current", "true"); else btn.removeAttribute("aria-current");
    }
  }

  /** The 相关条目 picker: every record, to add its id to the comma-separated list. */
  function fillRecordPicker() {
    const pick = $("kb-proposal-record-pick");
    clear(pick);
    pick.appendChild(new Option("从政策条目中添加…", ""));
    for (const r of kb.records) pick.appendChild(new Option(`${r.id} · ${r.title || ""}`, String(r.id)));
    pick.value = "";
  }

  function addPickedRecord() {
    const pick = $("kb-proposal-record-pick");
    const id = pick.value;
    pick.value = "";
    if (!id) return;
    const input = $("kb-proposal-records");
    const ids = splitList(input.value);
    if (!ids.includes(id)) ids.push(id);
    input.value = ids.join(", ");
    input.focus();
  }

  function openProposal(id) {
    const p = prop.list.find((x) => String(x.id) === String(id));
    if (!p) return;
    fillProposalForm(p);
    setProposalStatus("");
    showKbPane("proposal");
    const first = p.status === "pending" ? $("kb-proposal-questions") : null;
    if (first) first.focus();
  }

  function fillProposalForm(p) {
    prop.current = p;
    const pending = p.status === "pending";
    $("kb-proposal-heading").textContent = `建议答复 #${p.id}`;
    const tag = $("kb-proposal-state");
    tag.textContent = proposalState(p.status);
    tag.className = `status-tag kb-proposal-${p.status || ""}`;
    tag.setAttribute("data-status", String(p.status || ""));
    const meta = [];
    if (p.proposed_by) meta.push(`建议人：${p.proposed_by}${p.proposed_at ? `（${fullTime(p.proposed_at)}）` : ""}`);
    if (p.escalation_id !== null && p.escalation_id !== undefined) meta.push(`来自工单 #${p.escalation_id}`);
    if (p.reviewed_by) meta.push(`审核：${p.reviewed_by}${p.reviewed_at ? `（${fullTime(p.reviewed_at)}）` : ""}`);
    if (p.published_at) meta.push(`发布于 ${fullTime(p.published_at)}`);
    $("kb-proposal-meta").textContent = meta.join(" · ");

    $("kb-proposal-questions").value = (Array.isArray(p.questions) ? p.questions : []).join("\n");
    $("kb-proposal-answer").value = p.answer || "";
    $("kb-proposal-department").value = p.department || "";
    $("kb-proposal-records").value = (Array.isArray(p.record_ids) ? p.record_ids : []).join(", ");
    $("kb-proposal-review-by").value = p.review_by || "";
    $("kb-proposal-review-by").min = today();
    $("kb-proposal-reason").value = p.reason || "";
    for (const id of Object.values(PROPOSAL_INPUTS)) $(id).readOnly = !pending;
    $("kb-proposal-record-pick").hidden = !pending;
    // A rejection's reason is shown; a pending one takes it; other states have none to show.
    $("kb-proposal-reason-box").hidden = !(pending || (p.status === "rejected" && p.reason));
    updateProposalLabel();
    clearErrors("proposal");
    updateProposalButtons();
  }

  /** How the bot will sign this answer: 工作人员答复 · 部门 · 发布日期. */
  function updateProposalLabel() {
    const p = prop.current;
    const department = $("kb-proposal-department").value.trim() || "（部门）";
    const day = p && p.published_at ? chinaDate(p.published_at) : "发布日期";
    $("kb-proposal-label").textContent = `机器人答复时署名：工作人员答复 · ${department} · ${day}`;
  }

  function updateProposalButtons() {
    const status = prop.current ? prop.current.status : null;
    const pending = status === "pending";
    for (const id of ["kb-proposal-save", "kb-proposal-publish", "kb-proposal-reject"]) {
      $(id).hidden = !pending;
      $(id).disabled = prop.busy;
    }
    $("kb-proposal-withdraw").hidden = status !== "published";
    $("kb-proposal-withdraw").disabled = prop.busy;
  }

  function setProposalBusy(on) {
    prop.busy = on;
    updateProposalButtons();
  }

  function setProposalStatus(text, kind) {
    const line = $("kb-proposal-status-line");
    line.textContent = text || "";
    line.className = `kb-status${kind ? ` kb-status-${kind}` : ""}`;
  }

  /** The form as a PUT body: one question variant per line, record ids split on commas. */
  function proposalBody() {
    return {
      questions: $("kb-proposal-questions").value.split("\n").map((q) => q.trim()).filter(Boolean),
      answer: $("kb-proposal-answer").value.trim(),
      department: $("kb-proposal-department").value.trim(),
      record_ids: splitList($("kb-proposal-records").value),
      review_by: $("kb-proposal-review-by").value || null,
    };
  }

  /** Put the open proposal's edits on the server; its answer, or null (the errors shown) on failure. */
  async function putProposal(lead) {
    const id = prop.current.id;
    try {
      return await api(`/api/knowledge/proposals/${enc(id)}`, { method: "PUT", json: proposalBody() });
    } catch (err) {
      if (err.status === 401) return null;
      showErrors("proposal", err, lead);
      setProposalStatus(lead, "error");
      return null;
    }
  }

  /** After an action: the form shows what the server returned and the list is read again. */
  function proposalDone(p, text) {
    if (p && p.id !== undefined) {
      const at = prop.list.findIndex((x) => x.id === p.id);
      if (at >= 0) prop.list[at] = p;
      fillProposalForm(p);
    }
    setProposalStatus(text, "ok");
    loadProposals();
  }

  async function proposalAction(run) {
    if (!prop.current || prop.busy) return;
    setProposalBusy(true);
    clearErrors("proposal");
    try {
      await run(prop.current.id);
    } finally {
      setProposalBusy(false);
    }
  }

  function saveProposal(event) {
    if (event) event.preventDefault();
    return proposalAction(async () => {
      setProposalStatus("正在保存…");
      const saved = await putProposal("未保存");
      if (saved) proposalDone(saved, "已保存（尚未发布）");
    });
  }

  function publishProposal() {
    return proposalAction(async (id) => {
      setProposalStatus("正在发布…");
      if (!(await putProposal("未发布"))) return;
      let res;
      try {
        res = await api(`/api/knowledge/proposals/${enc(id)}/publish`, { method: "POST" });
      } catch (err) {
        if (err.status === 401) return;
        showErrors("proposal", err, "未发布");
        setProposalStatus("未发布", "error");
        return;
      }
      const index = res && res.index ? `（索引 ${res.index.records} 条，用时 ${Math.round(res.index.built_ms)} ms）` : "";
      proposalDone(res && res.proposal, `已发布${index}，机器人即以此答复同类问题`);
    });
  }

  function rejectProposal() {
    const reason = $("kb-proposal-reason").value.trim();
    if (!reason) {
      clearErrors("proposal");
      setFieldError("proposal", "reason", "驳回前请填写理由（建议人可以看到）");
      $("kb-proposal-reason").focus();
      return undefined;
    }
    return proposalAction(async (id) => {
      setProposalStatus("正在驳回…");
      try {
        const p = await api(`/api/knowledge/proposals/${enc(id)}/reject`, { method: "POST", json: { reason } });
        proposalDone(p, "已驳回");
      } catch (err) {
        if (err.status === 401) return;
        showErrors("proposal", err, "未驳回");
        setProposalStatus("未驳回", "error");
      }
    });
  }

  function withdrawProposal() {
    return proposalAction(async (id) => {
      setProposalStatus("正在撤回…");
      try {
        const p = await api(`/api/knowledge/proposals/${enc(id)}/withdraw`, { method: "POST" });
        proposalDone(p, "已撤回，机器人不再以此答复");
      } catch (err) {
        if (err.status === 401) return;
        showErrors("proposal", err, "未撤回");
        setProposalStatus("未撤回", "error");
      }
    });
  }

  function wireProposals() {
    $("kb-proposals-status").addEventListener("change", () => { prop.sig = null; loadProposals(); });
    $("kb-proposal-form").addEventListener("submit", saveProposal);
    $("kb-proposal-publish").addEventListener("click", publishProposal);
    $("kb-proposal-reject").addEventListener("click", rejectProposal);
    $("kb-proposal-withdraw").addEventListener("click", withdrawProposal);
    $("kb-proposal-record-pick").addEventListener("change", addPickedRecord);
    $("kb-proposal-department").addEventListener("input", updateProposalLabel);
  }

  // -- 精准推送: the firms a published record fits, and its push ------------------------------------
  // Under a published record with conditions: the server evaluates every registered firm's profile and
  // lists those the record fits (符合, preselected) or may fit once one fact is known (信息不足); the
  // editor ticks firms and sends. The server never sends a record version twice to a firm, so a second
  // click only lists what it skipped. The push log of the record, and its CSV, are below.
  const push = {
    recordId: null,  // the record the panel shows
    version: null,   // its published version the candidates are for
    seq: 0,          // only the newest load may draw
    busy: false,
  };

  function pushBox() {
    let box = $("kb-push");
    if (box) return box;
    box = el("section", "kb-versions-box kb-push");
    box.id = "kb-push";
    box.setAttribute("aria-labelledby", "kb-push-h");
    box.hidden = true;
    const head = el("h3", "", "精准推送");
    head.id = "kb-push-h";
    box.appendChild(head);
    const summary = el("p", "muted kb-push-summary");
    summary.id = "kb-push-summary";
    box.appendChild(summary);
    const table = el("table", "kb-push-table");
    table.id = "kb-push-candidates";
    box.appendChild(table);
    const buttons = el("div", "kb-buttons");
    const send = el("button", "primary", "发送推送");
    send.id = "kb-push-send";
    send.type = "button";
    send.addEventListener("click", sendPush);
    const reload = el("button", "", "重新查找");
    reload.id = "kb-push-reload";
    reload.type = "button";
    reload.addEventListener("click", () => loadPush(push.recordId));
    buttons.appendChild(send);
    buttons.appendChild(reload);
    box.appendChild(buttons);
    const result = el("p", "kb-status");
    result.id = "kb-push-result";
    result.setAttribute("role", "status");
    result.setAttribute("aria-live", "polite");
    box.appendChild(result);
    const logHead = el("h3", "", "推送记录");
    box.appendChild(logHead);
    const logList = el("ol", "kb-versions kb-push-log");
    logList.id = "kb-push-log";
    box.appendChild(logList);
    const csv = el("button", "", "导出推送记录 CSV");
    csv.id = "kb-push-csv";
    csv.type = "button";
    csv.addEventListener("click", () => downloadPushCsv(push.recordId));
    box.appendChild(csv);
    // The panel lives in the record form: its ticks are not edits of the record.
    for (const type of ["input", "change"]) box.addEventListener(type, (e) => { e.stopPropagation(); updatePushButtons(); });
    const versions = document.querySelector("#kb-record-form .kb-versions-box");
    $("kb-record-form").insertBefore(box, versions);
    return box;
  }

  function hasConditions(data) {
    const c = data && data.conditions;
    return Boolean(c && typeof c === "object" && ((c.all && c.all.length) || (c.any && c.any.length) || c.fact));
  }

  /** Show the panel for the open record when its published version has conditions; hide it otherwise. */
  function showPushFor(record) {
    const box = pushBox();
    const published = record && record.published;
    if (!published || !hasConditions(published)) {
      box.hidden = true;
      push.recordId = null;
      push.seq += 1;
      return;
    }
    box.hidden = false;
    loadPush(record.id);
  }

  function setPushResult(text, kind) {
    const line = $("kb-push-result");
    line.textContent = text || "";
    line.className = `kb-status${kind ? ` kb-status-${kind}` : ""}`;
  }

  function pushedFirms() {
    return Array.from(document.querySelectorAll("#kb-push-candidates .kb-push-pick:checked")).map((b) => b.value);
  }

  function updatePushButtons() {
    const n = pushedFirms().length;
    const send = $("kb-push-send");
    if (!send) return;
    send.disabled = push.busy || n === 0;
    send.textContent = n ? `发送推送（${n} 家）` : "发送推送";
  }

  async function loadPush(recordId) {
    if (!recordId) return;
    const seq = ++push.seq;
    push.recordId = recordId;
    const table = $("kb-push-candidates");
    $("kb-push-summary").textContent = "正在查找符合条件的企业…";
    let data;
    try {
      data = await api(`/api/pushes/candidates?record_id=${enc(recordId)}`);
    } catch (err) {
      if (err.status === 401 || seq !== push.seq) return;
      clear(table);
      $("kb-push-summary").textContent = `无法列出推送对象：${kbErrorText(err)}`;
      updatePushButtons();
      return;
    }
    if (seq !== push.seq) return;
    push.version = data.version;
    const fit = data.candidates.filter((c) => c.verdict === "符合").length;
    const near = data.candidates.length - fit;
    $("kb-push-summary").textContent =
      `已发布 v${data.version}：符合 ${fit} 家，差一项信息 ${near} 家；` +
      `不符合 ${data.not_matching} 家，信息不足（差多项）${data.undecided} 家，已退订 ${data.opted_out} 家，本版本已推送 ${data.already_pushed} 家。`;
    renderCandidates(data.candidates);
    loadPushLog(recordId, seq);
  }

  function renderCandidates(candidates) {
    const table = $("kb-push-candidates");
    clear(table);
    if (!candidates.length) {
      const row = table.insertRow();
      const cell = row.insertCell();
      cell.className = "muted";
      cell.textContent = "没有可推送的企业。";
      updatePushButtons();
      return;
    }
    const head = table.createTHead().insertRow();
    for (const title of ["推送", "企业", "判断", "理由", "待确认", "挂点联络人", "渠道"]) {
      const th = document.createElement("th");
      th.textContent = title;
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const c of candidates) {
      const row = body.insertRow();
      row.className = "kb-push-candidate";
      row.setAttribute("data-uscc", c.uscc);
      const pick = document.createElement("input");
      pick.type = "checkbox";
      pick.className = "kb-push-pick";
      pick.value = c.uscc;
      pick.checked = c.verdict === "符合";
      pick.disabled = !c.channels.length;
      pick.title = c.channels.length ? "" : "该企业没有可送达的渠道";
      pick.setAttribute("aria-label", `推送给${c.name}`);
      row.insertCell().appendChild(pick);
      const firm = row.insertCell();
      firm.appendChild(el("div", "", c.name));
      firm.appendChild(el("div", "muted mono", c.uscc));
      row.insertCell().appendChild(el("span", `status-tag ${c.verdict === "符合" ? "kb-state-published" : "kb-state-draft"}`, c.verdict));
      row.insertCell().textContent = (c.reasons || []).join("；");
      row.insertCell().textContent = c.missing_label || "";
      row.insertCell().textContent = c.liaison ? `${c.liaison.name}（${c.liaison.department}）` : "";
      row.insertCell().textContent = c.channels.length ? c.channels.map((ch) => ch.label).join("、") : "无";
      if (!c.channels.length) pick.checked = false;
    }
    updatePushButtons();
  }

  async function sendPush() {
    const firms = pushedFirms();
    if (!push.recordId || !firms.length || push.busy) return;
    push.busy = true;
    updatePushButtons();
    setPushResult("正在推送…");
    try {
      const res = await api("/api/pushes", { method: "POST", json: { record_id: push.recordId, uscc: firms } });
      const names = new Map(Array.from(document.querySelectorAll("#kb-push-candidates .kb-push-candidate"))
        .map((row) => [row.getAttribute("data-uscc"), row.children[1].firstChild.textContent]));
      const sent = res.sent.map((s) => `${s.name}（${s.channels.length} 个渠道）`);
      const skipped = res.skipped.map((s) => `${names.get(s.uscc) || s.uscc}：${s.reason_label}`);
      const parts = [`v${res.version} 已推送 ${res.sent.length} 家${sent.length ? `：${sent.join("、")}` : ""}`];
      if (skipped.length) parts.push(`跳过 ${skipped.length} 家（${skipped.join("；")}）`);
      push.busy = false;
      await loadPush(push.recordId);
      setPushResult(parts.join("；"), res.sent.length ? "ok" : "error");
    } catch (err) {
      if (err.status !== 401) setPushResult(`推送失败：${kbErrorText(err)}`, "error");
    } finally {
      push.busy = false;
      updatePushButtons();
    }
  }

  async function loadPushLog(recordId, seq) {
    const list = $("kb-push-log");
    let rows;
    try {
      rows = await api(`/api/pushes?record_id=${enc(recordId)}`);
    } catch (err) {
      if (err.status === 401 || seq !== push.seq) return;
      clear(list);
      list.appendChild(el("li", "empty", `推送记录加载失败：${kbErrorText(err)}`));
      return;
    }
    if (seq !== push.seq) return;
    clear(list);
    if (!rows.length) list.appendChild(el("li", "empty", "该条目尚未推送"));
    for (const p of rows) {
      const li = el("li", "kb-version kb-push-entry");
      const head = el("div", "kb-version-head");
      head.appendChild(el("span", "kb-version-no", `v${p.version}`));
      head.appendChild(el("span", "", p.firm_name || p.uscc));
      head.appendChild(el("span", "status-tag", p.verdict));
      head.appendChild(el("span", "kb-version-author", p.sent_by));
      head.appendChild(el("span", "kb-version-time", fullTime(p.created_at)));
      li.appendChild(head);
      li.appendChild(el("div", "kb-version-note muted", `渠道：${p.channels || "无"}${p.seen_at ? `；网页已读 ${fullTime(p.seen_at)}` : ""}`));
      list.appendChild(li);
    }
  }

  async function downloadPushCsv(recordId) {
    const btn = $("kb-push-csv");
    btn.disabled = true;
    try {
      const query = recordId ? `?record_id=${enc(recordId)}` : "";
      const res = await api(`/api/pushes.csv${query}`, { raw: true, headers: { Accept: "text/csv" } });
      const url = URL.createObjectURL(await res.blob());
      const link = document.createElement("a");
      link.href = url;
      link.download = recordId ? `pushes-${recordId}.csv` : "pushes.csv";
      link.hidden = true;
      document.body.appendChild(link);
      link.click();
      document.body.removeChild(link);
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      if (err.status !== 401) setPushResult(`导出失败：${kbErrorText(err)}`, "error");
    } finally {
      btn.disabled = false;
    }
  }

  /** The dashboard's 一键起草: a topic of unanswered questions becomes a new record's draft form. */
  async function draftRecord(event) {
    const detail = (event && event.detail) || {};
    if (!canEditKnowledge()) return;
    if (!$("kb-record-form").hidden && isDirty() && !window.confirm("当前条目有未保存的修改，放弃修改并新建条目？")) return;
    if ($("kb-view").hidden) $("tab-knowledge").click();
    if (!kb.vocabLoaded) await loadKbVocabulary();
    newRecord();
    $("kb-field-title").value = String(detail.title || "");
    const questions = Array.isArray(detail.questions) ? detail.questions.map(String).filter(Boolean) : [];
    // How owners asked: the record's aliases (企业可能的叫法), for the editor to trim before saving.
    if (questions.length) $("kb-field-aliases").value = questions.join("、");
    updateRecordButtons();
    setKbStatus("已根据未解答的问题新建草稿表单：请补充来源、条款和原文引用后保存", "ok");
    $("kb-field-id").focus();
  }

  function wireKnowledge() {
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
    wireProposals();
    window.addEventListener("hqt:draft-record", draftRecord);
  }

  return {
    canEdit: canEditKnowledge,
    open: openKnowledge,
    reset: resetKnowledge,
    wire: wireKnowledge,
    /** Called by the console's poll while the tab is shown: new proposals appear without a reload. */
    poll: loadProposals,
  };
}
