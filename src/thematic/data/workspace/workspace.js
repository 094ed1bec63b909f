// Front end of thematic.CodingWorkspace: plain ES module (anywidget), no build step.
//
// The kernel owns the study: this view sends {id, action, ...} messages, waits for the
// reply, and draws what the synced `state` trait says (one page of responses, the codes
// and themes). Offsets from and to the kernel count Unicode code points (as Python and
// codings.csv do); JavaScript strings count UTF-16 units, so every offset is converted.

const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
  "#882255", "#44AA99", "#117733", "#AA4499", "#999933", "#6699CC"];
const STATUSES = ["candidate", "reviewed", "final"];
const TIMEOUT_MS = 30000;
const POLL_MS = 5000;
let VIEWS = 0;

// ----------------------------------------------------------------------------- helpers

function h(tag, attrs = {}, ...children) {
  const el = tag === "svg" || attrs.svg ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false || k === "svg") continue;
    if (k === "text") el.textContent = v;
    else if (k === "class") el.setAttribute("class", v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else if (k === "selected") el.selected = !!v;
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function s(tag, attrs = {}, ...children) { return h(tag, { ...attrs, svg: true }, ...children); }

/** Code-point <-> UTF-16 maps of one text. */
function cpMap(text) {
  const toU16 = [];
  const toCp = new Int32Array(text.length + 1);
  let u = 0;
  let c = 0;
  while (u < text.length) {
    toU16.push(u);
    toCp[u] = c;
    const code = text.charCodeAt(u);
    const pair = code >= 0xd800 && code <= 0xdbff && u + 1 < text.length;
    if (pair) toCp[u + 1] = c + 1; // an offset inside a pair rounds up past it
    u += pair ? 2 : 1;
    c += 1;
  }
  toU16.push(u);
  toCp[u] = c;
  return { toU16, toCp, n: c };
}

function short(t, n = 60) {
  const x = String(t).replace(/\s+/g, " ").trim();
  return x.length <= n ? x : x.slice(0, n - 1) + "…";
}

/** Offset (UTF-16) of a DOM point inside textEl, clamped to its text. */
function offsetIn(textEl, node, off) {
  const len = textEl.textContent.length;
  if (node === textEl || textEl.contains(node)) {
    const r = document.createRange();
    r.setStart(textEl, 0);
    r.setEnd(node, off);
    return r.toString().length;
  }
  if (node.contains && node.contains(textEl)) {
    let child = textEl;
    while (child.parentNode !== node) child = child.parentNode;
    const idx = Array.prototype.indexOf.call(node.childNodes, child);
    return off <= idx ? 0 : len;
  }
  const pos = textEl.compareDocumentPosition(node);
  return pos & Node.DOCUMENT_POSITION_PRECEDING ? 0 : len;
}

/** DOM point at UTF-16 offset u inside textEl. */
function pointAt(textEl, u) {
  const walker = document.createTreeWalker(textEl, NodeFilter.SHOW_TEXT);
  let acc = 0;
  let last = null;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const l = n.data.length;
    if (acc + l >= u) return [n, u - acc];
    acc += l;
    last = n;
  }
  return last ? [last, last.data.length] : [textEl, 0];
}

const isSpace = (ch) => /\s/.test(ch);
const plural = (n, one, many = one + "s") => `${n} ${n === 1 ? one : many}`;

// ----------------------------------------------------------------------------- the view

function render({ model, el }) {
  const vid = ++VIEWS;
  const ids = (x) => `tw${vid}-${x}`;
  let seq = 0;
  const pending = new Map();
  const ui = {
    tab: "read",
    active: null, // response id whose text is "Response text"
    sel: null, // {rid, start, end} in code points (the pending selection)
    caret: {}, // rid -> {anchor, focus} in UTF-16 while using the keyboard
    detail: null, // {rid, segs:[...]} segments shown in the side panel
    optIndex: -1,
    options: [],
    editing: null, // {kind, id}
    merge: new Set(),
    dragging: null,
    busy: 0,
  };
  const maps = new Map(); // rid -> cpMap
  const state = () => model.get("state") || {};

  // ------------------------------------------------------------------ messaging
  const status = h("div", { class: "tw-status", role: "status", "aria-live": "polite",
    "aria-atomic": "true", id: ids("status") });

  function say(text, kind = "info") {
    status.textContent = text;
    status.dataset.kind = kind;
  }

  function send(action, args = {}, label = null) {
    const id = ++seq;
    const msg = { id, action, ...args };
    if (label) say(`Saving: ${label}…`, "busy");
    ui.busy += 1;
    root.setAttribute("aria-busy", "true");
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (!pending.has(id)) return;
        pending.delete(id);
        done();
        say(`Error: no answer from the kernel after ${TIMEOUT_MS / 1000} s ` +
          `(${action}); is it running? Nothing is shown as saved.`, "error");
        resolve({ ok: false, error: "timeout" });
      }, TIMEOUT_MS);
      pending.set(id, (reply) => { clearTimeout(timer); resolve(reply); });
      try {
        model.send(msg);
      } catch (err) {
        clearTimeout(timer);
        pending.delete(id);
        done();
        say(`Error: could not reach the kernel: ${err}`, "error");
        resolve({ ok: false, error: String(err) });
      }
    }).then((reply) => {
      if (reply.error !== "timeout") done();
      if (!reply.ok) {
        if (reply.error !== "timeout") say(`Error: ${reply.error}`, "error");
      } else if (reply.message) {
        say(label ? `Saved: ${reply.message}` : reply.message, label ? "ok" : "info");
      } else if (label) {
        say("", "info");
      }
      return reply;
    });
  }

  function done() {
    ui.busy = Math.max(0, ui.busy - 1);
    if (!ui.busy) root.removeAttribute("aria-busy");
  }

  // view-only actions say what they did without "Saved"
  function view(action, args = {}) {
    return send(action, args);
  }

  function onCustom(msg) {
    if (!msg || msg.type !== "reply") return;
    const cb = pending.get(msg.id);
    if (cb) { pending.delete(msg.id); cb(msg); }
  }
  model.on("msg:custom", onCustom);

  // ------------------------------------------------------------------ skeleton
  const root = h("div", { class: "tw", "data-lm-suppress-shortcuts": "true" });
  const title = h("h2", { class: "tw-title", id: ids("title") });
  const meta = h("p", { class: "tw-meta-line" });
  const undoBtn = h("button", { type: "button", class: "tw-btn", text: "Undo",
    "aria-keyshortcuts": "Control+Z", title: "Take back this view's last change",
    onclick: () => send("undo", {}, "undo") });
  const refreshBtn = h("button", { type: "button", class: "tw-btn", text: "Refresh",
    title: "Re-read the study's files", onclick: () => view("refresh") });
  const head = h("header", { class: "tw-head" },
    h("div", {}, title, meta), h("div", { class: "tw-head-actions" }, undoBtn, refreshBtn));

  const TABS = [["read", "Read and code"], ["codes", "Codes"], ["themes", "Themes"]];
  const tablist = h("div", { role: "tablist", "aria-label": "Workspace", class: "tw-tabs" });
  const panels = {};
  const tabs = {};
  for (const [key, label] of TABS) {
    tabs[key] = h("button", { type: "button", role: "tab", id: ids(`tab-${key}`),
      "aria-controls": ids(`panel-${key}`), class: "tw-tab", text: label,
      onclick: () => selectTab(key) });
    tablist.append(tabs[key]);
    panels[key] = h("section", { role: "tabpanel", id: ids(`panel-${key}`),
      "aria-labelledby": ids(`tab-${key}`), class: "tw-panel", tabindex: "0" });
  }
  tablist.addEventListener("keydown", (e) => {
    const keys = TABS.map((t) => t[0]);
    let i = keys.indexOf(ui.tab);
    if (e.key === "ArrowRight") i = (i + 1) % keys.length;
    else if (e.key === "ArrowLeft") i = (i + keys.length - 1) % keys.length;
    else if (e.key === "Home") i = 0;
    else if (e.key === "End") i = keys.length - 1;
    else return;
    e.preventDefault();
    selectTab(keys[i]);
    tabs[keys[i]].focus();
  });

  function selectTab(key) {
    ui.tab = key;
    for (const [k] of TABS) {
      tabs[k].setAttribute("aria-selected", String(k === key));
      tabs[k].tabIndex = k === key ? 0 : -1;
      panels[k].hidden = k !== key;
    }
    if (key === "themes") drawThemes();
    if (key === "codes") drawCodes();
  }

  root.append(head, tablist, status, ...Object.values(panels));
  el.append(root);
  // keys typed in the workspace are the workspace's (not the notebook's shortcuts)
  root.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === "z") {
      const t = e.target;
      if (!(t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement)) {
        e.preventDefault();
        send("undo", {}, "undo");
      }
    }
    e.stopPropagation();
  });

  // ------------------------------------------------------------------ read & code: controls
  const fQuestion = h("select", { id: ids("f-question"), "data-key": "f-question" });
  const fGroup = h("select", { id: ids("f-group"), "data-key": "f-group" });
  const fCoded = h("select", { id: ids("f-coded") },
    h("option", { value: "all", text: "all" }),
    h("option", { value: "uncoded", text: "not yet coded by you" }),
    h("option", { value: "coded", text: "coded by you" }));
  const fSearch = h("input", { type: "search", id: ids("f-search"), placeholder: "word or phrase",
    "aria-label": "Search responses",
    autocomplete: "off" });
  const fRegex = h("input", { type: "checkbox", id: ids("f-regex") });
  const fExcluded = h("input", { type: "checkbox", id: ids("f-excluded") });
  const fOthers = h("input", { type: "checkbox", id: ids("f-others") });
  const groupLabel = h("label", { for: ids("f-group"), text: "Group" });
  const filterForm = h("form", { role: "search", "aria-label": "Filter responses",
    class: "tw-filters", onsubmit: (e) => { e.preventDefault(); applyFilters(); } },
  h("span", { class: "tw-field" }, h("label", { for: ids("f-question"), text: "Question" }), fQuestion),
  h("span", { class: "tw-field" }, groupLabel, fGroup),
  h("span", { class: "tw-field" }, h("label", { for: ids("f-coded"), text: "Show" }), fCoded),
  h("span", { class: "tw-field" }, h("label", { for: ids("f-search"), text: "Search" }), fSearch,
    h("button", { type: "submit", class: "tw-btn", text: "Find" })),
  h("span", { class: "tw-check" }, fRegex, h("label", { for: ids("f-regex"), text: "regular expression" })),
  h("span", { class: "tw-check" }, fExcluded, h("label", { for: ids("f-excluded"), text: "show excluded" })),
  h("span", { class: "tw-check" }, fOthers, h("label", { for: ids("f-others"), text: "other coders' segments" })));
  for (const c of [fQuestion, fGroup, fCoded, fRegex, fExcluded, fOthers]) {
    c.addEventListener("change", applyFilters);
  }

  function applyFilters() {
    view("filter", { question: fQuestion.value || null, group: fGroup.value || null,
      coded: fCoded.value, search: fSearch.value, regex: fRegex.checked,
      excluded: fExcluded.checked, others: fOthers.checked });
  }

  const modeOne = h("input", { type: "radio", name: ids("mode"), id: ids("mode-one"), value: "one",
    onchange: () => view("view", { mode: "one" }) });
  const modeList = h("input", { type: "radio", name: ids("mode"), id: ids("mode-list"), value: "list",
    onchange: () => view("view", { mode: "list" }) });
  const pagerText = h("span", { class: "tw-pager-text", "aria-live": "polite" });
  const btn = (text, label, fn) => h("button", { type: "button", class: "tw-btn", text,
    "aria-label": label, onclick: fn });
  const firstBtn = btn("« First", "First", () => view("page", { index: 0 }));
  const prevBtn = btn("◀ Previous", "Previous", () => view("page", { delta: -1 }));
  const nextBtn = btn("Next ▶", "Next", () => view("page", { delta: 1 }));
  const lastBtn = btn("Last »", "Last", () => view("page", { index: state().page.total - 1 }));
  const pager = h("nav", { class: "tw-pager", "aria-label": "Pages of responses" },
    h("fieldset", { class: "tw-mode" }, h("legend", { class: "tw-sr", text: "View" }),
      h("span", { class: "tw-check" }, modeOne, h("label", { for: ids("mode-one"), text: "one at a time" })),
      h("span", { class: "tw-check" }, modeList, h("label", { for: ids("mode-list"), text: "list" }))),
    firstBtn, prevBtn, pagerText, nextBtn, lastBtn);

  const responsesBox = h("div", { class: "tw-responses" });

  // the code picker: a combobox labelled "Code"
  const listbox = h("ul", { role: "listbox", id: ids("codes-list"), class: "tw-listbox",
    "aria-label": "Matching codes", hidden: true });
  const combo = h("input", { type: "text", role: "combobox", "aria-label": "Code",
    id: ids("code"), "aria-autocomplete": "list", "aria-expanded": "false",
    "aria-controls": ids("codes-list"), autocomplete: "off", spellcheck: "false",
    placeholder: "type or pick a code, then Enter", "aria-describedby": ids("sel-desc") });
  const applyBtn = h("button", { type: "button", class: "tw-btn tw-primary", text: "Apply code",
    onclick: () => applyCode(combo.value) });
  applyBtn.addEventListener("mousedown", onSelectionChange);
  const selDesc = h("p", { id: ids("sel-desc"), class: "tw-sel" });
  const clearSelBtn = h("button", { type: "button", class: "tw-btn tw-small", text: "Clear selection",
    onclick: () => setSel(null) });
  const segBox = h("div", { class: "tw-segbox" });
  const memoBox = h("div", { class: "tw-memos" });
  const side = h("aside", { class: "tw-side", "aria-label": "Coding" },
    h("h3", { text: "Code the selection" }), selDesc, clearSelBtn,
    h("div", { class: "tw-combo" }, h("label", { for: ids("code"), class: "tw-label", text: "Code" }),
      h("div", { class: "tw-combo-row" }, combo, applyBtn), listbox),
    segBox, memoBox);
  const help = h("p", { id: ids("help"), class: "tw-help",
    text: "Select a passage with the mouse, or click in the text (or Tab to it) and use " +
      "Shift+arrow keys (Ctrl+Shift+arrows by word, S for the sentence); Enter moves to " +
      "the Code box. Click a highlighted segment to see its codes." });
  panels.read.append(filterForm, pager, help, h("div", { class: "tw-grid" }, responsesBox, side));

  // ------------------------------------------------------------------ combobox
  function codeOptions(text) {
    const codes = state().codes || [];
    const q = text.trim().toLowerCase();
    let opts = codes.filter((c) => !q || c.name.toLowerCase().includes(q) || c.id.toLowerCase().includes(q));
    opts.sort((a, b) => (b.name.toLowerCase().startsWith(q) - a.name.toLowerCase().startsWith(q)));
    opts = opts.slice(0, 50).map((c) => ({ id: c.id, label: c.name, n: c.n }));
    const exact = codes.some((c) => c.name.toLowerCase() === q || c.id.toLowerCase() === q);
    if (q && !exact) opts.push({ id: null, label: text.trim(), create: true });
    return opts;
  }

  function openList(show = true) {
    ui.options = show ? codeOptions(combo.value) : [];
    if (ui.optIndex >= ui.options.length) ui.optIndex = -1;
    listbox.replaceChildren(...ui.options.map((o, i) => h("li", {
      role: "option", id: ids(`opt-${i}`), class: "tw-option" + (o.create ? " tw-create" : ""),
      "aria-selected": String(i === ui.optIndex),
      onmousedown: (e) => { e.preventDefault(); ui.optIndex = i; choose(); } },
    o.create ? [h("span", { text: "New code: " }), h("strong", { text: o.label })]
      : [h("span", { class: "tw-swatch", style: { background: colorOf(o.id) }, "aria-hidden": "true" }),
        o.label, h("span", { class: "tw-count", text: ` ${o.n}` })])));
    const open = show && ui.options.length > 0;
    listbox.hidden = !open;
    combo.setAttribute("aria-expanded", String(open));
    if (open && ui.optIndex >= 0) {
      combo.setAttribute("aria-activedescendant", ids(`opt-${ui.optIndex}`));
      const li = listbox.children[ui.optIndex];
      if (li && li.scrollIntoView) li.scrollIntoView({ block: "nearest" });
    } else combo.removeAttribute("aria-activedescendant");
  }

  function choose() {
    const o = ui.options[ui.optIndex];
    if (!o) return applyCode(combo.value);
    return applyCode(o.create ? o.label : o.id, o.label);
  }

  combo.addEventListener("input", () => { ui.optIndex = -1; openList(true); });
  combo.addEventListener("mousedown", onSelectionChange);
  combo.addEventListener("focus", () => { onSelectionChange(); openList(true); });
  combo.addEventListener("blur", () => setTimeout(() => openList(false), 150));
  combo.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (listbox.hidden) openList(true);
      const n = ui.options.length;
      if (!n) return;
      ui.optIndex = e.key === "ArrowDown" ? (ui.optIndex + 1) % n : (ui.optIndex <= 0 ? n - 1 : ui.optIndex - 1);
      openList(true);
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (!listbox.hidden && ui.optIndex >= 0) choose();
      else applyCode(combo.value);
    } else if (e.key === "Escape") {
      e.preventDefault();
      if (!listbox.hidden) openList(false);
      else combo.value = "";
    }
  });

  async function applyCode(label, shown = null) {
    label = String(label || "").trim();
    if (!ui.sel) {
      say("Error: select a passage of the response first (mouse, or Shift+arrow keys in the text)", "error");
      return;
    }
    if (!label) {
      say("Error: type or pick a code first", "error");
      combo.focus();
      return;
    }
    const r = pageResponse(ui.sel.rid);
    if (!r) { say("Error: the selected response is no longer on this page", "error"); return; }
    const m = mapOf(r);
    const excerpt = r.text.slice(m.toU16[ui.sel.start], m.toU16[ui.sel.end]);
    const reply = await send("code", { response_id: r.id, start: ui.sel.start, end: ui.sel.end,
      excerpt, code: label }, `code “${short(excerpt, 30)}” as ${shown || label}`);
    if (reply.ok) {
      combo.value = "";
      ui.optIndex = -1;
      openList(false);
      setSel(null);
    }
  }

  // ------------------------------------------------------------------ selection
  function pageResponse(rid) {
    return (state().page?.responses || []).find((r) => r.id === rid);
  }

  function mapOf(r) {
    let m = maps.get(r.id);
    if (!m || m.text !== r.text) { m = { ...cpMap(r.text), text: r.text }; maps.set(r.id, m); }
    return m;
  }

  function setSel(sel) {
    ui.sel = sel;
    showSel();
  }

  function showSel() {
    const sel = ui.sel;
    if (!sel) {
      selDesc.textContent = "Nothing selected.";
      clearSelBtn.hidden = true;
    } else {
      const r = pageResponse(sel.rid);
      const m = r && mapOf(r);
      const ex = r ? r.text.slice(m.toU16[sel.start], m.toU16[sel.end]) : "";
      selDesc.textContent = `Selected in ${sel.rid}: “${short(ex, 120)}” ` +
        `(characters ${sel.start}–${sel.end})`;
      clearSelBtn.hidden = false;
    }
    paintPending();
  }

  // the pending selection stays visible when focus moves to the Code box
  function paintPending() {
    if (!(window.CSS && CSS.highlights && window.Highlight)) return;
    let hl = CSS.highlights.get("tw-pending");
    if (!hl) { hl = new Highlight(); CSS.highlights.set("tw-pending", hl); }
    if (ui.pendingRange) { hl.delete(ui.pendingRange); ui.pendingRange = null; }
    const sel = ui.sel;
    if (!sel) return;
    const textEl = root.querySelector(`[data-text-of="${CSS.escape(sel.rid)}"]`);
    const r = pageResponse(sel.rid);
    if (!textEl || !r) return;
    const m = mapOf(r);
    const range = document.createRange();
    const [a, ao] = pointAt(textEl, m.toU16[sel.start]);
    const [b, bo] = pointAt(textEl, m.toU16[sel.end]);
    range.setStart(a, ao);
    range.setEnd(b, bo);
    hl.add(range);
    ui.pendingRange = range;
  }

  function textEls() { return Array.from(root.querySelectorAll("[data-text-of]")); }

  // read the document's selection now (also called before focus moves to the Code box,
  // so a selection made a moment ago is never lost to a late selectionchange event)
  function onSelectionChange() {
    const dsel = document.getSelection();
    if (!dsel || !dsel.rangeCount) return;
    const range = dsel.getRangeAt(0);
    const textEl = textEls().find((t) => t.contains(range.startContainer) || t.contains(range.endContainer)
      || t === range.startContainer);
    if (!textEl) return; // a selection elsewhere (e.g. in the Code box) keeps ours
    const rid = textEl.dataset.textOf;
    const r = pageResponse(rid);
    if (!r) return;
    activate(rid);
    let a = offsetIn(textEl, range.startContainer, range.startOffset);
    let b = offsetIn(textEl, range.endContainer, range.endOffset);
    if (a > b) [a, b] = [b, a];
    while (a < b && isSpace(r.text[a])) a += 1;
    while (b > a && isSpace(r.text[b - 1])) b -= 1;
    const m = mapOf(r);
    const anchor = offsetIn(textEl, dsel.anchorNode, dsel.anchorOffset);
    const focus = offsetIn(textEl, dsel.focusNode, dsel.focusOffset);
    ui.caret[rid] = { anchor, focus };
    placeCaret(textEl, focus);
    if (a >= b) {
      if (ui.sel && ui.sel.rid === rid) setSel(null);
      return;
    }
    setSel({ rid, start: m.toCp[a], end: m.toCp[b] });
  }
  document.addEventListener("selectionchange", onSelectionChange);

  function placeCaret(textEl, u) {
    let caret = textEl.parentNode.querySelector(".tw-caret");
    if (!caret) return;
    if (document.activeElement !== textEl) { caret.hidden = true; return; }
    const [n, o] = pointAt(textEl, u);
    const r = document.createRange();
    r.setStart(n, o);
    r.collapse(true);
    const rects = r.getClientRects();
    const box = textEl.parentNode.getBoundingClientRect();
    const rect = rects.length ? rects[rects.length - 1] : null;
    if (!rect) { caret.hidden = true; return; }
    caret.hidden = false;
    caret.style.left = `${rect.left - box.left}px`;
    caret.style.top = `${rect.top - box.top}px`;
    caret.style.height = `${rect.height || 18}px`;
  }

  function selectU16(textEl, anchor, focus) {
    const [a, ao] = pointAt(textEl, anchor);
    const [f, fo] = pointAt(textEl, focus);
    document.getSelection().setBaseAndExtent(a, ao, f, fo);
    onSelectionChange(); // now, not when the (asynchronous) selectionchange event comes
  }

  function textKeydown(e, textEl, r) {
    const t = r.text;
    const cur = ui.caret[r.id] || { anchor: 0, focus: 0 };
    let f = cur.focus;
    const word = e.ctrlKey || e.altKey || e.metaKey;
    const step = (dir) => {
      if (dir > 0) {
        if (f >= t.length) return;
        const c = t.charCodeAt(f);
        f += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
      } else {
        if (f <= 0) return;
        const c = t.charCodeAt(f - 1);
        f -= c >= 0xdc00 && c <= 0xdfff && f > 1 ? 2 : 1;
      }
    };
    const wordStep = (dir) => {
      if (dir > 0) {
        while (f < t.length && isSpace(t[f])) f += 1;
        while (f < t.length && !isSpace(t[f])) f += 1;
      } else {
        while (f > 0 && isSpace(t[f - 1])) f -= 1;
        while (f > 0 && !isSpace(t[f - 1])) f -= 1;
      }
    };
    if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      const dir = e.key === "ArrowRight" ? 1 : -1;
      if (word) wordStep(dir); else step(dir);
    } else if (e.key === "Home") f = 0;
    else if (e.key === "End") f = t.length;
    else if (e.key === "s" || e.key === "S") {
      // the sentence around the caret
      let a = f;
      while (a > 0 && !/[.!?]/.test(t[a - 1])) a -= 1;
      while (a < t.length && isSpace(t[a])) a += 1;
      let b = f;
      while (b < t.length && !/[.!?]/.test(t[b])) b += 1;
      if (b < t.length) b += 1;
      e.preventDefault();
      ui.caret[r.id] = { anchor: a, focus: b };
      selectU16(textEl, a, b);
      return;
    } else if (e.key === "Enter") {
      e.preventDefault();
      onSelectionChange();
      combo.focus();
      return;
    } else if (e.key === "Escape") {
      e.preventDefault();
      ui.caret[r.id] = { anchor: f, focus: f };
      selectU16(textEl, f, f);
      return;
    } else return;
    e.preventDefault();
    const anchor = e.shiftKey ? cur.anchor : f;
    ui.caret[r.id] = { anchor, focus: f };
    selectU16(textEl, anchor, f);
    placeCaret(textEl, f);
  }

  // ------------------------------------------------------------------ colours
  function colorOf(code) {
    const codes = state().codes || [];
    const i = codes.findIndex((c) => c.id === code);
    if (i < 0) {
      let hsh = 0;
      for (const ch of String(code)) hsh = (hsh * 31 + ch.codePointAt(0)) >>> 0;
      return PALETTE[hsh % PALETTE.length];
    }
    return PALETTE[i % PALETTE.length];
  }
  function nameOf(code) {
    const c = (state().codes || []).find((x) => x.id === code);
    if (c) return c.name;
    const t = (state().themes || []).find((x) => x.id === code);
    return t ? t.name : code;
  }
  function rgba(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
  }

  // ------------------------------------------------------------------ drawing responses
  function drawText(r, textEl) {
    const m = mapOf(r);
    const segs = r.segments.map((g) => ({ ...g, a: m.toU16[g.start], b: m.toU16[g.end] }))
      .filter((g) => g.a < g.b);
    const hits = r.matches.map(([x, y]) => [m.toU16[x], m.toU16[y]]);
    const cuts = new Set([0, r.text.length]);
    for (const g of segs) { cuts.add(g.a); cuts.add(g.b); }
    for (const [x, y] of hits) { cuts.add(x); cuts.add(y); }
    const bounds = [...cuts].filter((x) => x >= 0 && x <= r.text.length).sort((x, y) => x - y);
    const parts = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const x = bounds[i];
      const y = bounds[i + 1];
      const piece = r.text.slice(x, y);
      const cover = segs.filter((g) => g.a <= x && g.b >= y);
      const hit = hits.some(([p, q]) => p <= x && q >= y);
      let node = document.createTextNode(piece);
      if (hit) node = h("mark", { class: "tw-match" }, node);
      if (cover.length) {
        const own = cover.filter((g) => g.coder === state().study.coder);
        const inner = [...cover].sort((p, q) => (p.b - p.a) - (q.b - q.a))[0];
        const shadows = cover.slice(0, 4).map((g, k) => `inset 0 -${3 * (k + 1)}px 0 ${colorOf(g.code)}`);
        node = h("span", {
          class: "tw-seg" + (cover.length > 1 ? " tw-overlap" : "") + (own.length ? "" : " tw-other"),
          "data-x": x, "data-depth": cover.length,
          title: cover.map((g) => nameOf(g.code) + (g.coder !== state().study.coder ? ` (${g.coder})` : "")).join(" · "),
          style: { backgroundColor: rgba(colorOf(inner.code), Math.min(0.16 + 0.12 * (cover.length - 1), 0.5)),
            boxShadow: shadows.join(", "), paddingBottom: `${3 * Math.min(cover.length, 4)}px` },
        }, node);
      }
      parts.push(node);
    }
    textEl.replaceChildren(...parts);
  }

  function segsAt(r, u) {
    const m = mapOf(r);
    return r.segments.filter((g) => m.toU16[g.start] <= u && m.toU16[g.end] > u);
  }

  function activate(rid) {
    if (ui.active === rid) return;
    ui.active = rid;
    for (const t of textEls()) {
      t.setAttribute("aria-label", t.dataset.textOf === rid ? "Response text" : `Response ${t.dataset.textOf}`);
      t.closest(".tw-card")?.classList.toggle("tw-active", t.dataset.textOf === rid);
    }
    if (ui.detail && ui.detail.rid !== rid) ui.detail = null;
    drawSide();
  }

  function drawResponses() {
    const st = state();
    const page = st.page || { responses: [] };
    const rs = page.responses;
    if (!rs.some((r) => r.id === ui.active)) ui.active = rs.length ? rs[0].id : null;
    if (ui.sel && !rs.some((r) => r.id === ui.sel.rid)) ui.sel = null;
    if (ui.detail && !rs.some((r) => r.id === ui.detail.rid)) ui.detail = null;
    const cards = rs.map((r) => {
      const textEl = h("div", { class: "tw-text", role: "region", tabindex: "0",
        "aria-label": r.id === ui.active ? "Response text" : `Response ${r.id}`,
        "aria-describedby": ids("help"), "data-text-of": r.id, "data-key": `text-${r.id}` });
      drawText(r, textEl);
      textEl.addEventListener("keydown", (e) => textKeydown(e, textEl, r));
      textEl.addEventListener("mouseup", () => { onSelectionChange(); setTimeout(onSelectionChange, 0); });
      textEl.addEventListener("focus", () => { activate(r.id); placeCaret(textEl, (ui.caret[r.id] || { focus: 0 }).focus); });
      textEl.addEventListener("blur", () => { const c = textEl.parentNode.querySelector(".tw-caret"); if (c) c.hidden = true; });
      textEl.addEventListener("click", (e) => {
        const dsel = document.getSelection();
        if (dsel && !dsel.isCollapsed) return; // a selection, not a click
        const span = e.target.closest && e.target.closest(".tw-seg");
        activate(r.id);
        if (!span) { ui.detail = null; drawSide(); return; }
        const u = Number(span.dataset.x);
        ui.detail = { rid: r.id, segs: segsAt(r, u).map((g) => ({ ...g })) };
        drawSide();
      });
      const badges = [];
      if (r.exclude) badges.push(h("span", { class: "tw-badge tw-excl", text: `excluded${r.reason ? ": " + r.reason : ""}` }));
      if (r.segments.length) badges.push(h("span", { class: "tw-badge", text: `${r.segments.length} segment${r.segments.length === 1 ? "" : "s"}` }));
      if (r.memos.length) badges.push(h("span", { class: "tw-badge", text: `${r.memos.length} memo${r.memos.length === 1 ? "" : "s"}` }));
      return h("article", { class: "tw-card" + (r.id === ui.active ? " tw-active" : ""), "aria-label": `Response ${r.id}` },
        h("div", { class: "tw-card-meta" },
          h("strong", { text: r.id }),
          r.group ? h("span", { text: `${st.study.group_label}: ${r.group}` }) : null,
          ...badges),
        r.question ? h("p", { class: "tw-question", text: r.question }) : null,
        h("div", { class: "tw-text-wrap" }, textEl, h("div", { class: "tw-caret", hidden: true, "aria-hidden": "true" })));
    });
    if (!cards.length) {
      cards.push(h("p", { class: "tw-empty", text: page.total === 0 && st.counts?.matching === 0
        ? "No response matches the filters." : "Nothing to show." }));
    }
    responsesBox.replaceChildren(...cards);
  }

  // ------------------------------------------------------------------ side panel
  function wordLeft(t, u) { while (u > 0 && isSpace(t[u - 1])) u -= 1; while (u > 0 && !isSpace(t[u - 1])) u -= 1; return u; }
  function wordRight(t, u) { while (u < t.length && isSpace(t[u])) u += 1; while (u < t.length && !isSpace(t[u])) u += 1; return u; }

  function drawSide() {
    const st = state();
    const r = pageResponse(ui.active);
    showSel();
    // segments of the active response
    const segs = r ? [...r.segments].sort((p, q) => p.start - q.start || p.end - q.end) : [];
    const items = segs.map((g) => {
      const m = mapOf(r);
      const ex = r.text.slice(m.toU16[g.start], m.toU16[g.end]);
      const on = ui.detail && ui.detail.segs.some((d) => d.start === g.start && d.end === g.end && d.code === g.code && d.coder === g.coder);
      return h("li", {}, h("button", { type: "button", class: "tw-seglink", "aria-pressed": String(!!on),
        "data-key": `seg-${g.code}-${g.start}-${g.end}-${g.coder}`,
        onclick: () => { ui.detail = { rid: r.id, segs: segsAt(r, m.toU16[g.start]).filter((d) => d.start === g.start && d.end === g.end) }; drawSide(); } },
      h("span", { class: "tw-swatch", style: { background: colorOf(g.code) }, "aria-hidden": "true" }),
      h("strong", { text: nameOf(g.code) }), ` “${short(ex, 50)}”`,
      g.coder !== st.study.coder ? h("em", { text: ` (${g.coder})` }) : null));
    });
    const parts = [h("h3", { text: r ? `Segments in ${r.id} (${segs.length})` : "Segments" })];
    parts.push(items.length ? h("ul", { class: "tw-seglist" }, items) : h("p", { class: "tw-empty", text: "No coded segment yet." }));
    if (ui.detail && r) parts.push(detailPanel(r));
    segBox.replaceChildren(...parts);
    drawMemos(r);
  }

  function detailPanel(r) {
    const st = state();
    const m = mapOf(r);
    const t = r.text;
    const boxes = ui.detail.segs.map((g) => {
      const mine = g.coder === st.study.coder;
      const a = m.toU16[g.start];
      const b = m.toU16[g.end];
      const resize = (na, nb, what) => send("resize", { response_id: r.id, code: g.code, start: g.start, end: g.end,
        new_start: m.toCp[na], new_end: m.toCp[nb] }, what).then((rep) => {
        if (rep.ok) { g.start = m.toCp[na]; g.end = m.toCp[nb]; drawSide(); }
      });
      const memoId = ids(`segmemo-${g.code}-${g.start}`);
      const memo = h("textarea", { id: memoId, rows: 2, class: "tw-textarea", value: g.memo || "",
        "data-key": `segmemo-${g.code}-${g.start}-${g.end}` });
      memo.value = g.memo || "";
      const label = nameOf(g.code);
      return h("div", { class: "tw-detail", role: "group", "aria-label": `Segment coded ${label}` },
        h("p", {}, h("span", { class: "tw-swatch", style: { background: colorOf(g.code) }, "aria-hidden": "true" }),
          h("strong", { text: label }), ` — “${short(t.slice(a, b), 140)}” (${g.start}–${g.end})`,
          mine ? null : h("em", { text: ` coded by ${g.coder}` })),
        mine ? h("div", { class: "tw-row" },
          h("button", { type: "button", class: "tw-btn", text: "Remove code", "aria-label": `Remove code ${label} from this segment`,
            onclick: () => send("uncode", { response_id: r.id, code: g.code, start: g.start, end: g.end }, `remove ${label}`)
              .then((rep) => { if (rep.ok) { ui.detail.segs = ui.detail.segs.filter((d) => d !== g); drawSide(); } }) }),
          h("button", { type: "button", class: "tw-btn", text: "Extend to selection",
            "aria-label": `Extend the ${label} segment to include the selection`,
            onclick: () => {
              if (!ui.sel || ui.sel.rid !== r.id) { say("Error: select the passage to add first, in this response", "error"); return; }
              const na = Math.min(a, m.toU16[ui.sel.start]);
              const nb = Math.max(b, m.toU16[ui.sel.end]);
              resize(na, nb, `extend ${label}`).then(() => setSel(null));
            } }),
          h("button", { type: "button", class: "tw-btn", text: "◀ word", "aria-label": `Extend the ${label} segment one word to the left`,
            onclick: () => { const na = wordLeft(t, a); if (na < a) resize(na, b, `extend ${label}`); } }),
          h("button", { type: "button", class: "tw-btn", text: "word ▶", "aria-label": `Extend the ${label} segment one word to the right`,
            onclick: () => { const nb = wordRight(t, b); if (nb > b) resize(a, nb, `extend ${label}`); } })) : null,
        mine ? h("div", { class: "tw-memo-edit" },
          h("label", { for: memoId, text: "Memo on this segment" }), memo,
          h("button", { type: "button", class: "tw-btn", text: "Save segment memo",
            onclick: () => send("annotate", { response_id: r.id, code: g.code, start: g.start, end: g.end, memo: memo.value },
              "segment memo").then((rep) => { if (rep.ok) g.memo = memo.value; }) })) : (g.memo ? h("p", { class: "tw-memo", text: g.memo }) : null));
    });
    return h("section", { class: "tw-details", "aria-label": "Codes of the chosen segment" },
      h("h4", { text: "Chosen segment" }), ...boxes,
      h("button", { type: "button", class: "tw-btn tw-small", text: "Close", onclick: () => { ui.detail = null; drawSide(); } }));
  }

  const memoText = h("textarea", { id: ids("memo"), rows: 3, class: "tw-textarea", "data-key": "memo" });
  function drawMemos(r) {
    const st = state();
    const list = (ms) => h("ul", { class: "tw-memolist" }, ms.map((m) => h("li", {},
      h("span", { class: "tw-memo-meta", text: `${m.date} · ${m.author}` }), h("p", { text: m.text }))));
    memoBox.replaceChildren(...[
      h("h3", { text: "Familiarisation memos" }),
      h("label", { for: ids("memo"), text: r ? `Memo on ${r.id} or on the study` : "Memo on the study" }), memoText,
      h("div", { class: "tw-row" },
        r ? h("button", { type: "button", class: "tw-btn", text: "Save memo on this response",
          onclick: () => saveMemo(r.id) }) : null,
        h("button", { type: "button", class: "tw-btn", text: "Save memo on the study", onclick: () => saveMemo(null) })),
      r && r.memos.length ? [h("h4", { text: `On ${r.id}` }), list(r.memos)] : null,
      st.memos && st.memos.length ? [h("h4", { text: "On the study (latest)" }), list(st.memos)] : null,
    ].flat().filter(Boolean));
  }
  async function saveMemo(about) {
    if (!memoText.value.trim()) { say("Error: write the memo first", "error"); memoText.focus(); return; }
    const reply = await send("memo", { text: memoText.value, about }, about ? `memo on ${about}` : "memo on the study");
    if (reply.ok) memoText.value = "";
  }

  // ------------------------------------------------------------------ codes tab
  const newCode = h("input", { type: "text", id: ids("new-code"), autocomplete: "off" });
  const newCodeDef = h("input", { type: "text", id: ids("new-code-def"), autocomplete: "off" });
  const codesBox = h("div", { class: "tw-codes" });
  const retrieveBox = h("section", { class: "tw-retrieved", role: "region", "aria-label": "Retrieved segments" });
  panels.codes.append(
    h("form", { class: "tw-row tw-form", "aria-label": "Add a code", onsubmit: async (e) => {
      e.preventDefault();
      const rep = await send("add_code", { name: newCode.value, definition: newCodeDef.value }, `add code ${newCode.value}`);
      if (rep.ok) { newCode.value = ""; newCodeDef.value = ""; }
    } }, h("label", { for: ids("new-code"), text: "New code" }), newCode,
    h("label", { for: ids("new-code-def"), text: "Definition" }), newCodeDef,
    h("button", { type: "submit", class: "tw-btn", text: "Add code" })),
    codesBox, retrieveBox);

  function inlineForm(label, value, onSave, multiline = false) {
    const id = ids(`edit-${++seq}`);
    const input = multiline ? h("textarea", { id, rows: 3, class: "tw-textarea", "data-key": "edit" })
      : h("input", { type: "text", id, "data-key": "edit", autocomplete: "off" });
    input.value = value || "";
    const form = h("form", { class: "tw-inline", onsubmit: (e) => { e.preventDefault(); onSave(input.value); } },
      h("label", { for: id, text: label }), input,
      h("button", { type: "submit", class: "tw-btn tw-primary", text: "Save" }),
      h("button", { type: "button", class: "tw-btn", text: "Cancel", onclick: () => { ui.editing = null; redraw(); } }));
    input.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { ui.editing = null; redraw(); }
      if (e.key === "Enter" && multiline && (e.ctrlKey || e.metaKey)) { e.preventDefault(); onSave(input.value); }
    });
    setTimeout(() => input.focus(), 0);
    return form;
  }

  function editAction(action, args, label) {
    return send(action, args, label).then((rep) => { if (rep.ok) { ui.editing = null; redraw(); } return rep; });
  }

  function drawCodes() {
    const st = state();
    const codes = st.codes || [];
    const themeName = (id) => (st.themes || []).find((t) => t.id === id)?.name || "";
    for (const id of [...ui.merge]) if (!codes.some((c) => c.id === id)) ui.merge.delete(id);
    const rows = [];
    for (const c of codes) {
      const ed = ui.editing && ui.editing.id === c.id ? ui.editing.kind : null;
      rows.push(h("tr", { class: st.retrieved?.code === c.id ? "tw-current" : "" },
        h("td", {}, h("input", { type: "checkbox", checked: ui.merge.has(c.id), "aria-label": `Select code ${c.name} for merging`,
          onchange: (e) => { if (e.target.checked) ui.merge.add(c.id); else ui.merge.delete(c.id); drawMergeBar(); } })),
        h("th", { scope: "row" }, h("span", { class: "tw-swatch", style: { background: colorOf(c.id) }, "aria-hidden": "true" }), c.name,
          c.name !== c.id ? h("span", { class: "tw-id", text: ` ${c.id}` }) : null),
        h("td", { text: c.theme ? themeName(c.theme) : "—" }),
        h("td", { class: "tw-num", text: c.n }), h("td", { class: "tw-num", text: c.nr }),
        h("td", { class: "tw-def", text: c.definition || "" }),
        h("td", { class: "tw-actions" },
          h("button", { type: "button", class: "tw-btn tw-small", text: "Retrieve", "aria-label": `Retrieve segments of ${c.name}`,
            onclick: () => view("retrieve", { code: c.id }) }),
          h("button", { type: "button", class: "tw-btn tw-small", text: "Rename", "aria-label": `Rename code ${c.name}`,
            "aria-expanded": String(ed === "rename"), onclick: () => { ui.editing = { kind: "rename", id: c.id }; drawCodes(); } }),
          h("button", { type: "button", class: "tw-btn tw-small", text: "Define", "aria-label": `Define code ${c.name}`,
            "aria-expanded": String(ed === "define"), onclick: () => { ui.editing = { kind: "define", id: c.id }; drawCodes(); } }))));
      if (ed === "rename") {
        rows.push(h("tr", { class: "tw-editrow" }, h("td", { colspan: 7 },
          inlineForm(`New name for code ${c.name}`, c.name, (v) => editAction("rename_code", { code: c.id, name: v }, `rename ${c.name}`)))));
      } else if (ed === "define") {
        rows.push(h("tr", { class: "tw-editrow" }, h("td", { colspan: 7 },
          inlineForm(`Definition of code ${c.name}`, c.definition, (v) => editAction("define", { id: c.id, definition: v }, `define ${c.name}`), true))));
      }
    }
    const table = h("table", { class: "tw-table" },
      h("caption", { text: `Codes (${codes.length}) — segments and responses of every coder` }),
      h("thead", {}, h("tr", {}, ...["Merge", "Code", "Theme", "Segments", "Responses", "Definition", "Actions"]
        .map((x) => h("th", { scope: "col", text: x })))),
      h("tbody", {}, rows));
    codesBox.replaceChildren(codes.length ? table : h("p", { class: "tw-empty", text: "No codes yet: code a passage in Read and code, or add one above." }), mergeBar);
    drawMergeBar();
    drawRetrieved();
  }

  const mergeInto = h("select", { id: ids("merge-into") });
  const mergeNew = h("input", { type: "text", id: ids("merge-new"), autocomplete: "off", placeholder: "or a new name" });
  const mergeBar = h("form", { class: "tw-row tw-form", "aria-label": "Merge codes", onsubmit: (e) => {
    e.preventDefault();
    const codes = [...ui.merge];
    const into = mergeNew.value.trim() || mergeInto.value;
    send("merge_codes", { codes, into }, "merge codes").then((rep) => { if (rep.ok) { ui.merge.clear(); mergeNew.value = ""; drawCodes(); } });
  } }, h("span", { class: "tw-merge-count" }), h("label", { for: ids("merge-into"), text: "Merge the selected codes into" }), mergeInto,
  h("label", { for: ids("merge-new"), class: "tw-sr", text: "New name of the merged code" }), mergeNew,
  h("button", { type: "submit", class: "tw-btn", text: "Merge" }));
  function drawMergeBar() {
    const sel = [...ui.merge];
    mergeBar.querySelector(".tw-merge-count").textContent = `${sel.length} selected.`;
    const keep = mergeInto.value;
    mergeInto.replaceChildren(...sel.map((id) => h("option", { value: id, text: nameOf(id), selected: id === keep })));
    mergeBar.querySelector("button[type=submit]").disabled = sel.length < 2;
  }

  function drawRetrieved() {
    const st = state();
    const rv = st.retrieved;
    if (!rv) { retrieveBox.replaceChildren(h("p", { class: "tw-empty", text: "Retrieve a code to read all its segments in context." })); return; }
    retrieveBox.replaceChildren(...[
      h("h3", { text: `Segments coded “${nameOf(rv.code)}”: ${rv.rows.length} of ${rv.total}` }),
      h("ol", { class: "tw-kwic" }, rv.rows.map((x) => h("li", {},
        h("div", { class: "tw-card-meta" }, h("strong", { text: x.response_id }),
          x.group ? h("span", { text: `${st.study.group_label}: ${x.group}` }) : null,
          h("span", { text: `coder: ${x.coder}` }),
          h("button", { type: "button", class: "tw-btn tw-small", text: "Open", "aria-label": `Open response ${x.response_id}`,
            onclick: async () => { const rep = await view("page", { response_id: x.response_id }); if (rep.ok) selectTab("read"); } })),
        h("blockquote", {}, (x.more_before ? "…" : "") + x.before, h("mark", { class: "tw-kwic-hit", text: x.excerpt }),
          x.after + (x.more_after ? "…" : "")),
        x.memo ? h("p", { class: "tw-memo", text: `Memo: ${x.memo}` }) : null))),
      rv.rows.length < rv.total ? h("button", { type: "button", class: "tw-btn", text: "Show more",
        onclick: () => view("retrieve", { code: rv.code, limit: rv.limit + 50 }) }) : null,
      h("button", { type: "button", class: "tw-btn tw-small", text: "Close", onclick: () => view("retrieve", { code: null }) }),
    ].filter(Boolean));
  }

  // ------------------------------------------------------------------ themes tab
  const newTheme = h("input", { type: "text", id: ids("new-theme"), autocomplete: "off" });
  const newThemeDef = h("input", { type: "text", id: ids("new-theme-def"), autocomplete: "off" });
  const mapStatus = h("select", { id: ids("map-status"), onchange: () => send("set_status", { theme: null, status: mapStatus.value }, "status of the map") },
    STATUSES.map((x) => h("option", { value: x, text: x })));
  const versionName = h("input", { type: "text", id: ids("version"), autocomplete: "off" });
  const themesBox = h("div", { class: "tw-themes" });
  const mapBox = h("figure", { class: "tw-map" });
  const versionsList = h("ul", { class: "tw-versions" });
  panels.themes.append(
    h("form", { class: "tw-row tw-form", "aria-label": "Add a candidate theme", onsubmit: async (e) => {
      e.preventDefault();
      const rep = await send("add_theme", { name: newTheme.value, definition: newThemeDef.value }, `add theme ${newTheme.value}`);
      if (rep.ok) { newTheme.value = ""; newThemeDef.value = ""; }
    } }, h("label", { for: ids("new-theme"), text: "New theme" }), newTheme,
    h("label", { for: ids("new-theme-def"), text: "Definition" }), newThemeDef,
    h("button", { type: "submit", class: "tw-btn", text: "Add theme" })),
    h("div", { class: "tw-row" }, h("label", { for: ids("map-status"), text: "Status of the map" }), mapStatus),
    themesBox, mapBox,
    h("form", { class: "tw-row tw-form", "aria-label": "Save a version", onsubmit: async (e) => {
      e.preventDefault();
      const rep = await send("save_version", { name: versionName.value }, `version ${versionName.value}`);
      if (rep.ok) versionName.value = "";
    } }, h("label", { for: ids("version"), text: "Version name" }), versionName,
    h("button", { type: "submit", class: "tw-btn", text: "Save version" })),
    h("h3", { text: "Saved versions" }), versionsList);

  function chip(c, st) {
    const selId = ids(`move-${c.id}`);
    const li = h("li", { class: "tw-chip", draggable: "true", "data-code": c.id },
      h("span", { class: "tw-swatch", style: { background: colorOf(c.id) }, "aria-hidden": "true" }),
      h("span", { class: "tw-chip-name", text: c.name }), h("span", { class: "tw-count", text: ` ${c.n}` }),
      h("label", { for: selId, class: "tw-sr", text: `Move code ${c.name} to theme` }),
      h("select", { id: selId, "aria-label": `Move code ${c.name} to theme`, class: "tw-move",
        onchange: (e) => send("move_code", { code: c.id, theme: e.target.value || null }, `move ${c.name}`) },
      h("option", { value: "", text: "(no theme)", selected: !c.theme }),
      (st.themes || []).map((t) => h("option", { value: t.id, text: t.name, selected: c.theme === t.id }))));
    li.addEventListener("dragstart", (e) => { ui.dragging = c.id; e.dataTransfer.setData("text/plain", c.id); e.dataTransfer.effectAllowed = "move"; });
    li.addEventListener("dragend", () => { ui.dragging = null; });
    return li;
  }

  function dropTarget(node, themeId) {
    node.addEventListener("dragover", (e) => { if (ui.dragging) { e.preventDefault(); node.classList.add("tw-drop"); } });
    node.addEventListener("dragleave", () => node.classList.remove("tw-drop"));
    node.addEventListener("drop", (e) => {
      e.preventDefault();
      node.classList.remove("tw-drop");
      const code = e.dataTransfer.getData("text/plain") || ui.dragging;
      ui.dragging = null;
      const c = (state().codes || []).find((x) => x.id === code);
      if (c && (c.theme || null) !== themeId) send("move_code", { code, theme: themeId }, `move ${c.name}`);
    });
  }

  function drawThemes() {
    const st = state();
    const codes = st.codes || [];
    mapStatus.value = st.study.map_status || "candidate";
    const cards = (st.themes || []).map((t) => {
      const ed = ui.editing && ui.editing.id === t.id ? ui.editing.kind : null;
      const stId = ids(`status-${t.id}`);
      const mine = codes.filter((c) => c.theme === t.id);
      const card = h("section", { class: `tw-theme tw-status-${t.status}`, role: "group", "aria-label": `Theme: ${t.name}` },
        h("div", { class: "tw-theme-head" }, h("h4", { text: t.name }), h("span", { class: "tw-id", text: t.id })),
        h("div", { class: "tw-row" }, h("label", { for: stId, text: "Status" }),
          h("select", { id: stId, "aria-label": `Status of theme ${t.name}`,
            onchange: (e) => send("set_status", { theme: t.id, status: e.target.value }, `status of ${t.name}`) },
          STATUSES.map((x) => h("option", { value: x, text: x, selected: x === t.status }))),
          h("span", { class: "tw-count", text: `${plural(t.n, "segment")}, ${plural(t.nr, st.study.unit, st.study.units)}` })),
        t.definition ? h("p", { class: "tw-def", text: t.definition }) : h("p", { class: "tw-empty", text: "No definition yet." }),
        h("div", { class: "tw-row" },
          h("button", { type: "button", class: "tw-btn tw-small", text: "Rename", "aria-label": `Rename theme ${t.name}`,
            onclick: () => { ui.editing = { kind: "rename", id: t.id }; drawThemes(); } }),
          h("button", { type: "button", class: "tw-btn tw-small", text: "Define", "aria-label": `Define theme ${t.name}`,
            onclick: () => { ui.editing = { kind: "define", id: t.id }; drawThemes(); } })),
        ed === "rename" ? inlineForm(`New name for theme ${t.name}`, t.name, (v) => editAction("rename_theme", { theme: t.id, name: v }, `rename ${t.name}`)) : null,
        ed === "define" ? inlineForm(`Definition of theme ${t.name}`, t.definition, (v) => editAction("define", { id: t.id, definition: v }, `define ${t.name}`), true) : null,
        h("ul", { class: "tw-chips", "aria-label": `Codes in ${t.name}` }, mine.map((c) => chip(c, st))),
        mine.length ? null : h("p", { class: "tw-empty", text: "Drop codes here, or move them with a code's picker." }));
      dropTarget(card, t.id);
      return card;
    });
    const loose = codes.filter((c) => !c.theme);
    const looseCard = h("section", { class: "tw-theme tw-loose", role: "group", "aria-label": "Codes without a theme" },
      h("div", { class: "tw-theme-head" }, h("h4", { text: `Codes without a theme (${loose.length})` })),
      h("ul", { class: "tw-chips", "aria-label": "Codes without a theme" }, loose.map((c) => chip(c, st))),
      loose.length ? null : h("p", { class: "tw-empty", text: "Every code is in a theme." }));
    dropTarget(looseCard, null);
    themesBox.replaceChildren(...cards, looseCard);
    versionsList.replaceChildren(...(st.versions || []).map((v) => h("li", { text: v })));
    if (!(st.versions || []).length) versionsList.replaceChildren(h("li", { class: "tw-empty", text: "none yet" }));
    drawMap(st);
  }

  function drawMap(st) {
    const themes = st.themes || [];
    const codes = st.codes || [];
    const cols = Math.max(1, Math.min(4, themes.length + (codes.some((c) => !c.theme) ? 1 : 0)));
    const colW = 190;
    const boxH = 40;
    const codeH = 22;
    const maxCodes = 8;
    const groups = themes.map((t) => ({ t, codes: codes.filter((c) => c.theme === t.id) }));
    const loose = codes.filter((c) => !c.theme);
    if (loose.length) groups.push({ t: null, codes: loose });
    const rowsOf = (g) => Math.min(g.codes.length, maxCodes) + (g.codes.length > maxCodes ? 1 : 0);
    const rowH = (i) => { let m = 0; for (let k = i; k < Math.min(i + cols, groups.length); k++) m = Math.max(m, rowsOf(groups[k])); return boxH + 20 + m * (codeH + 4) + 20; };
    let height = 10;
    const tops = [];
    for (let i = 0; i < groups.length; i += cols) { tops.push(height); height += rowH(i); }
    const width = cols * colW + 10;
    const svg = s("svg", { viewBox: `0 0 ${width} ${Math.max(height, 60)}`, width, height: Math.max(height, 60), role: "img",
      "aria-labelledby": ids("map-cap") });
    groups.forEach((g, i) => {
      const x = 5 + (i % cols) * colW;
      const y = tops[Math.floor(i / cols)];
      const cx = x + (colW - 10) / 2;
      const st2 = g.t ? g.t.status : "none";
      const box = s("rect", { x, y, width: colW - 10, height: boxH, rx: 8, class: `tw-map-theme tw-map-${st2}` });
      const label = g.t ? g.t.name : "(no theme)";
      svg.append(box, s("text", { x: cx, y: y + 17, "text-anchor": "middle", class: "tw-map-label" }, short(label, 24)),
        s("text", { x: cx, y: y + 32, "text-anchor": "middle", class: "tw-map-sub" }, g.t ? `${g.t.status} · ${g.t.n} seg.` : `${g.codes.length} codes`),
        s("title", {}, label));
      g.codes.slice(0, maxCodes).forEach((c, k) => {
        const cy = y + boxH + 20 + k * (codeH + 4);
        svg.append(s("line", { x1: x + 12, y1: y + boxH, x2: x + 12, y2: cy + codeH / 2, class: "tw-map-edge" }),
          s("line", { x1: x + 12, y1: cy + codeH / 2, x2: x + 22, y2: cy + codeH / 2, class: "tw-map-edge" }),
          s("rect", { x: x + 22, y: cy, width: colW - 34, height: codeH, rx: 11, class: "tw-map-code", style: `stroke:${colorOf(c.id)}` }),
          s("text", { x: x + 32, y: cy + 15, class: "tw-map-code-label" }, `${short(c.name, 22)} (${c.n})`));
      });
      if (g.codes.length > maxCodes) {
        const cy = y + boxH + 20 + maxCodes * (codeH + 4);
        svg.append(s("text", { x: x + 32, y: cy + 15, class: "tw-map-sub" }, `and ${g.codes.length - maxCodes} more`));
      }
    });
    mapBox.replaceChildren(h("figcaption", { id: ids("map-cap"),
      text: `Thematic map (${st.study.map_status}): ${themes.length} theme${themes.length === 1 ? "" : "s"}, ${codes.length} code${codes.length === 1 ? "" : "s"}` +
        (loose.length ? `, ${loose.length} without a theme` : "") }),
    groups.length ? svg : h("p", { class: "tw-empty", text: "No codes or themes yet." }));
  }

  // ------------------------------------------------------------------ the whole view
  function syncControls() {
    const st = state();
    const f = st.filters || {};
    const opts = st.options || {};
    title.textContent = st.study?.title || "";
    const c = st.counts || {};
    meta.textContent = `coder: ${st.study?.coder} · ${c.analysable} analysable ${st.study?.units} ` +
      `(${c.excluded} excluded) · you coded ${c.segments} segment${c.segments === 1 ? "" : "s"} in ${c.coded} ` +
      `${c.coded === 1 ? st.study?.unit : st.study?.units}`;
    undoBtn.disabled = !st.can_undo;
    groupLabel.textContent = (st.study?.group_label || "group").replace(/^./, (x) => x.toUpperCase());
    const fill = (sel, values, value, all) => {
      if (document.activeElement === sel) return;
      sel.replaceChildren(h("option", { value: "", text: all }), ...values.map((v) => h("option", { value: v, text: short(v, 70), title: v })));
      sel.value = value || "";
    };
    fill(fQuestion, opts.questions || [], f.question, "all questions");
    fill(fGroup, opts.groups || [], f.group, `all ${st.study?.group_label || "group"}s`);
    if (document.activeElement !== fCoded) fCoded.value = f.coded || "all";
    if (document.activeElement !== fSearch) fSearch.value = f.search || "";
    fRegex.checked = !!f.regex;
    fExcluded.checked = !!f.excluded;
    fOthers.checked = !!f.others;
    const p = st.page || { total: 0, start: 0, size: 1, mode: "one" };
    modeOne.checked = p.mode === "one";
    modeList.checked = p.mode === "list";
    const unit = st.study?.unit || "response";
    const units = st.study?.units || "responses";
    pagerText.textContent = p.total === 0 ? `no ${units} match`
      : p.mode === "one" ? `${unit} ${p.start + 1} of ${p.total}`
        : `${units} ${p.start + 1}–${Math.min(p.start + p.size, p.total)} of ${p.total}`;
    firstBtn.disabled = prevBtn.disabled = p.start <= 0;
    nextBtn.disabled = lastBtn.disabled = p.start + p.size >= p.total;
  }

  function redraw() {
    const ae = document.activeElement;
    const key = ae && root.contains(ae) ? ae.dataset?.key : null;
    syncControls();
    drawResponses();
    drawSide();
    if (ui.tab === "codes") drawCodes();
    if (ui.tab === "themes") drawThemes();
    if (key && !root.contains(ae)) {
      const again = root.querySelector(`[data-key="${CSS.escape(key)}"]`);
      if (again) again.focus();
    }
    if (document.activeElement === combo && !listbox.hidden) openList(true);
  }

  model.on("change:state", redraw);
  selectTab("read");
  redraw();

  // re-read the study now and then (another view or process may have changed it)
  const poll = setInterval(() => {
    if (document.hidden || ui.busy || !root.isConnected) return;
    send("poll").catch(() => {});
  }, POLL_MS);

  return () => {
    clearInterval(poll);
    document.removeEventListener("selectionchange", onSelectionChange);
    model.off("msg:custom", onCustom);
    model.off("change:state", redraw);
    if (ui.pendingRange && window.CSS && CSS.highlights) CSS.highlights.get("tw-pending")?.delete(ui.pendingRange);
  };
}

export default { render };
