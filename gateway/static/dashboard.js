/* 惠企通 liaison console, the 数据看板 tab: volume by outcome per day or week and channel, unanswered
 * demand as topics (each one click from a draft staff answer or a draft record), service against the
 * SLA per department and liaison, cases past SLA and ratings. Editors and admins see every figure; a
 * liaison sees the service figures of their own cases (the server decides: /api/dashboard/*).
 *
 * Loaded before console.js, which calls hqtDashboard(core) once with its shared helpers and drives the
 * tab through what it returns. Charts are Chart.js (static/vendor/chartjs, no CDN); every figure has a
 * CSV download (the same route plus ".csv"). All data goes in through textContent, never innerHTML.
 */
/* exported hqtDashboard */
/* global Chart */
function hqtDashboard(core) {
  "use strict";

  const { $, el, clear, api, setStatus, exportCsv, showView } = core;
  const STAFF_ROLES = ["editor", "admin"];
  const DEFAULT_DAYS = 30;
  const CHANNEL_FIGURES = ["volume", "topics", "ratings"];
  const OUTCOME_KEYS = ["answer", "staff", "verdict", "not_in_letter", "out_of_scope", "handoff"];
  const COLORS = {
    answer: "#15803d", staff: "#0e7490", verdict: "#4f46e5", not_in_letter: "#b45309",
    out_of_scope: "#6b7280", handoff: "#b3261e", others: "#d1d5db", purged: "#9ca3af",
  };
  const SERVICE_NUMBERS = [
    ["cases", "案件"], ["responded", "已响应"], ["resolved", "已办结"],
    ["first_response_median_h", "首次响应中位数（工时）"], ["first_response_p90_h", "首次响应 P90"],
    ["resolution_median_h", "办结中位数（工时）"], ["resolution_p90_h", "办结 P90"],
    ["within_sla_share", "按时响应率"], ["past_sla", "超时案件"], ["satisfaction_mean", "满意度（1–5）"],
    ["satisfaction_count", "评价数"],
  ];
  const dash = {
    vocab: { outcomes: {}, channels: {} },
    charts: {},      // canvas id -> Chart
    loaded: false,   // figures drawn at least once since login
    busy: false,
  };

  const isStaff = () => STAFF_ROLES.includes((core.liaison() || {}).role);
  const outcomeLabel = (key) => ({ others: "其他", purged: "已清理（结果不详）" }[key] || dash.vocab.outcomes[key] || key);
  const channelLabel = (key) => dash.vocab.channels[key] || key;
  const hours = (value) => (value === null || value === undefined ? "—" : `${value}`);
  const share = (value) => (value === null || value === undefined ? "—" : `${Math.round(value * 1000) / 10}%`);

  function localToday() {
    const now = new Date(Date.now() + 8 * 3600 * 1000); // China's day, whatever the browser's zone
    return now.toISOString().slice(0, 10);
  }
  function minusDays(iso, days) {
    const d = new Date(`${iso}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() - days);
    return d.toISOString().slice(0, 10);
  }

  /** The query of a figure's route: the range, the grain for volume, the channel where it applies. */
  function query(figure) {
    const params = new URLSearchParams({ from: $("dash-from").value, to: $("dash-to").value });
    if (figure === "volume") params.set("by", $("dash-by").value);
    if (CHANNEL_FIGURES.includes(figure) && $("dash-channel").value) params.set("channel", $("dash-channel").value);
    return params.toString();
  }

  async function loadVocabulary() {
    try {
      const vocab = await api("/api/vocabulary");
      dash.vocab.outcomes = vocab.outcomes || {};
      dash.vocab.channels = vocab.channels || {};
    } catch (e) { /* raw names */ }
    const select = $("dash-channel");
    while (select.options.length > 1) select.remove(1);
    for (const [key, name] of Object.entries(dash.vocab.channels)) {
      const option = el("option", "", name);
      option.value = key;
      select.appendChild(option);
    }
  }

  function showError(text) {
    $("dash-error").textContent = text || "";
    $("dash-error").hidden = !text;
  }

  function drawChart(id, config) {
    if (typeof Chart !== "function") return; // the library did not load: the tables still show
    if (dash.charts[id]) dash.charts[id].destroy();
    dash.charts[id] = new Chart($(id), config);
  }

  function table(node, head, rows) {
    clear(node);
    const thead = el("thead");
    const tr = el("tr");
    for (const name of head) tr.appendChild(el("th", "", name));
    thead.appendChild(tr);
    node.appendChild(thead);
    const tbody = el("tbody");
    if (!rows.length) {
      const empty = el("tr");
      const cell = el("td", "muted", "该时间段没有数据");
      cell.colSpan = head.length;
      empty.appendChild(cell);
      tbody.appendChild(empty);
    }
    for (const row of rows) {
      const line = el("tr");
      for (const value of row) {
        if (value instanceof Node) {
          const cell = el("td");
          cell.appendChild(value);
          line.appendChild(cell);
        } else {
          const numeric = typeof value === "number" || /^\d+(\.\d+)?%?$/.test(String(value));
          line.appendChild(el("td", numeric ? "num" : "", value));
        }
      }
      tbody.appendChild(line);
    }
    node.appendChild(tbody);
  }

  // -- volume ----------------------------------------------------------------------------------
  function drawVolume(body) {
    const periods = [];
    const byPeriod = {};
    for (const row of body.rows) {
      if (!byPeriod[row.period]) {
        byPeriod[row.period] = { label: row.label };
        periods.push(row.period);
      }
      const slot = byPeriod[row.period];
      for (const key of [...OUTCOME_KEYS, "others", "purged", "conversations", "messages"]) {
        slot[key] = (slot[key] || 0) + row[key];
      }
    }
    // Over the whole range each owner counts once (an owner writes in one channel): the server's totals.
    const totals = { conversations: 0, messages: 0 };
    for (const row of body.totals) {
      totals.conversations += row.conversations;
      totals.messages += row.messages;
    }
    const outcomes = [...OUTCOME_KEYS, "others", "purged"];
    const sums = Object.fromEntries(outcomes.map((k) => [k, body.rows.reduce((n, r) => n + r[k], 0)]));
    const summary = $("dash-volume-summary");
    clear(summary);
    for (const [name, value] of [["会话", totals.conversations], ["企业消息", totals.messages],
      ...outcomes.filter((k) => k !== "purged" || sums.purged).map((k) => [outcomeLabel(k), sums[k]])]) {
      const box = el("div", "dash-figure");
      box.appendChild(el("span", "dash-figure-value", value));
      box.appendChild(el("span", "dash-figure-name", name));
      summary.appendChild(box);
    }
    drawChart("dash-volume-chart", {
      type: "bar",
      data: {
        labels: periods.map((p) => byPeriod[p].label),
        datasets: [
          ...outcomes.filter((k) => k !== "purged" || sums.purged).map((k) => ({
            type: "bar", label: outcomeLabel(k), data: periods.map((p) => byPeriod[p][k] || 0),
            backgroundColor: COLORS[k], stack: "messages",
          })),
          {
            type: "line", label: "会话", data: periods.map((p) => byPeriod[p].conversations),
            borderColor: "#111827", backgroundColor: "#111827", tension: 0.2,
          },
        ],
      },
      options: {
        animation: false, maintainAspectRatio: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
    table($("dash-volume-channels"), ["渠道", "会话", "企业消息"],
      body.totals.map((row) => [channelLabel(row.channel), row.conversations, row.messages]));
  }

  // -- unanswered demand -----------------------------------------------------------------------
  function trendText(topic) {
    if (!topic.previous) return "新出现";
    if (topic.change > 0) return `↑ ${topic.change}`;
    if (topic.change < 0) return `↓ ${-topic.change}`;
    return "持平";
  }

  function topicActions(topic) {
    const box = el("div", "dash-actions");
    const propose = el("button", "", "生成待审答复");
    propose.type = "button";
    propose.addEventListener("click", () => proposeAnswer(topic, propose));
    const draft = el("button", "", "起草知识条目");
    draft.type = "button";
    draft.addEventListener("click", () => {
      window.dispatchEvent(new CustomEvent("hqt:draft-record", { detail: { title: topic.title, questions: topic.examples } }));
      if ($("kb-view").hidden) showView("knowledge"); // unless the knowledge tab's listener switched already
    });
    box.append(propose, draft);
    return box;
  }

  async function proposeAnswer(topic, btn) {
    btn.disabled = true;
    try {
      const made = await api("/api/dashboard/topics/propose", {
        method: "POST", json: { questions: topic.examples, record_ids: topic.record_ids },
      });
      btn.textContent = `已加入待审答复 #${made.id}`;
      setStatus(`已生成待审答复 #${made.id}，请在知识库的“待审答复”中填写答复后发布。`, "ok");
    } catch (err) {
      btn.disabled = false;
      if (err.status !== 401) setStatus(`生成失败：${err.message}`, "error");
    }
  }

  function drawTopics(body) {
    $("dash-topics-period").textContent = `与上期 ${body.previous_start} 至 ${body.previous_end} 比较`;
    table($("dash-topics-table"), ["话题", "关键词", "本期", "上期", "趋势", "示例", "操作"], body.topics.map((t) => {
      const examples = el("ul", "dash-examples");
      for (const text of t.examples) examples.appendChild(el("li", "", text));
      return [t.title, t.keywords.join("、"), t.count, t.previous, trendText(t), examples, topicActions(t)];
    }));
    const top = body.topics.slice(0, 10);
    drawChart("dash-topics-chart", {
      type: "bar",
      data: {
        labels: top.map((t) => t.title),
        datasets: [
          { label: "本期", data: top.map((t) => t.count), backgroundColor: COLORS.handoff },
          { label: "上期", data: top.map((t) => t.previous), backgroundColor: COLORS.others },
        ],
      },
      options: { animation: false, maintainAspectRatio: false, indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }

  // -- service ---------------------------------------------------------------------------------
  function drawService(body) {
    const name = (row) => row.name || "（未认领）";
    const cells = (row) => SERVICE_NUMBERS.map(([key]) => (key === "within_sla_share" ? share(row[key])
      : key.endsWith("_h") || key === "satisfaction_mean" ? hours(row[key]) : row[key]));
    const departments = body.rows.filter((r) => r.level === "department");
    table($("dash-service-departments"), ["部门", ...SERVICE_NUMBERS.map(([, label]) => label)],
      departments.map((r) => [name(r), ...cells(r)]));
    table($("dash-service-liaisons"), ["联络员", ...SERVICE_NUMBERS.map(([, label]) => label)],
      body.rows.filter((r) => r.level === "liaison").map((r) => [name(r), ...cells(r)]));
    drawChart("dash-service-chart", {
      type: "bar",
      data: {
        labels: departments.map(name),
        datasets: [
          { label: "首次响应中位数（工时）", data: departments.map((r) => r.first_response_median_h), backgroundColor: COLORS.staff },
          { label: "办结中位数（工时）", data: departments.map((r) => r.resolution_median_h), backgroundColor: COLORS.verdict },
        ],
      },
      options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
    });
  }

  function drawLate(cases) {
    table($("dash-late-table"), ["工单", "企业", "部门", "联络员", "应响应时间", "首次响应", "超时（工时）"], cases.map((c) => [
      `#${c.id}`, c.firm_name || "—", c.department || "—", c.liaison || "（未认领）",
      core.fullTime(c.due_at), c.first_response_at ? core.fullTime(c.first_response_at) : "未响应", c.late_h,
    ]));
  }

  function drawRatings(rows) {
    table($("dash-ratings-table"), ["类别", "渠道", "评价数", "有帮助占比", "满意度均分"], rows.map((r) => [
      r.kind === "answer" ? "答复评价" : "办结满意度", channelLabel(r.channel), r.count,
      r.kind === "answer" ? share(r.helpful_share) : "—", r.kind === "case" ? hours(r.mean) : "—",
    ]));
  }

  // -- loading ---------------------------------------------------------------------------------
  async function refresh(event) {
    if (event) event.preventDefault();
    if (dash.busy) return;
    dash.busy = true;
    $("dash-view").removeAttribute("data-loaded"); // set again once every figure of this range is drawn
    showError("");
    $("dash-refresh").disabled = true;
    const staff = isStaff();
    try {
      const jobs = [
        api(`/api/dashboard/service?${query("service")}`).then(drawService),
        api(`/api/dashboard/late?${query("late")}`).then(drawLate),
      ];
      if (staff) {
        jobs.push(
          api(`/api/dashboard/volume?${query("volume")}`).then(drawVolume),
          api(`/api/dashboard/topics?${query("topics")}`).then(drawTopics),
          api(`/api/dashboard/ratings?${query("ratings")}`).then(drawRatings),
        );
      }
      await Promise.all(jobs);
      dash.loaded = true;
      $("dash-view").setAttribute("data-loaded", "true");
    } catch (err) {
      if (err.status !== 401) showError(`加载失败：${err.message}`);
    } finally {
      dash.busy = false;
      $("dash-refresh").disabled = false;
    }
  }

  function download(event) {
    const btn = event.target.closest("[data-csv]");
    if (!btn) return;
    const figure = btn.getAttribute("data-csv");
    exportCsv(`/api/dashboard/${figure}.csv?${query(figure)}`, `${figure}_${$("dash-from").value}_${$("dash-to").value}.csv`, btn);
  }

  async function open() {
    const staff = isStaff();
    for (const node of document.querySelectorAll("#dash-view [data-staff-only]")) node.hidden = !staff;
    if (!$("dash-to").value) {
      $("dash-to").value = localToday();
      $("dash-from").value = minusDays($("dash-to").value, DEFAULT_DAYS - 1);
    }
    if (!dash.loaded) {
      await loadVocabulary();
      await refresh();
    }
  }

  function reset() {
    for (const chart of Object.values(dash.charts)) chart.destroy();
    dash.charts = {};
    dash.loaded = false;
    $("dash-view").removeAttribute("data-loaded");
    $("dash-from").value = "";
    $("dash-to").value = "";
  }

  function wire() {
    $("dash-filters").addEventListener("submit", refresh);
    $("dash-view").addEventListener("click", download);
  }

  return { open, reset, wire };
}
