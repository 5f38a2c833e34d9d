// Pulse dashboard: plain JavaScript over the JSON API, charts by ECharts.
// Each section reloads at its own rate (its seed's by default); days are
// ISO and UTC everywhere.
(function () {
  'use strict';

  const PALETTE = ['#2f5bea', '#f59e0b', '#12a37c', '#e5484d', '#8b5cf6', '#0ea5c6', '#ec4899', '#84cc16', '#64748b', '#b45309', '#1e3a8a', '#0f766e'];
  const FILTER_LABELS = { platform: 'platform', age_group: 'age group', date: 'date range' };
  const MAX_CATEGORIES = 40;

  const state = {
    page: location.pathname.replace(/\/+$/, '') === '/pipeline' ? 'pipeline' : 'dashboards',
    config: null,
    refresh: 60,          // the pipeline page's interval
    filters: { platform: '', age_group: '', from: '', to: '' },
    cards: new Map(),     // view -> {el, chart, data, measure, pick}
    sections: new Map(),  // group id -> {refresh, timer, el, ...}
    spans: {},            // group id -> [{kind, minDay, maxDay}]
    timer: null,
    running: null,        // the load in flight
    queued: new Set(),    // sections (or 'all') waiting for the next load
    pages: {},            // pipeline table -> page shown
  };
  // window.pulse exposes the page's state for the browser test: generation
  // counts completed loads, sections[id] each section's interval and the
  // times its timer started a reload, charts maps a view to its ECharts instance.
  const pulse = { generation: 0, charts: {}, state: state, errors: [], sections: {} };
  window.pulse = pulse;

  const $ = (sel, root) => (root || document).querySelector(sel);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-') || k.startsWith('aria-')) e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k);
    return e;
  };

  // ---------- formatting ----------
  const nf0 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  const nf2 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
  const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
  const fmt = (v) => v === null || v === undefined ? '—' : (Number.isInteger(v) ? nf0.format(v) : nf2.format(v));
  const ACRONYMS = new Set(['dau', 'wau', 'mau', 'id', 'os', 'tv', 'url', 'utc']);
  const human = (col) => (col || '').toLowerCase().split('_').map((w) => ACRONYMS.has(w) ? w.toUpperCase() : w).join(' ');
  const titleCase = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  // value shows a text value; lower-case codes (regular, high_value, live_streaming) read as words.
  const value = (v) => v === null || v === undefined ? '(none)' : (/^[a-z]+(_[a-z]+)*$/.test(String(v)) ? titleCase(String(v).replace(/_/g, ' ')) : String(v));
  const ago = (secs) => {
    if (secs === null || secs === undefined) return '—';
    const s = Math.max(0, Math.round(secs));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.round(s / 60) + ' min ago';
    if (s < 86400) return (s / 3600).toFixed(1) + ' h ago';
    return (s / 86400).toFixed(1) + ' days ago';
  };
  const stamp = (iso) => iso ? iso.replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC') : '—';
  // span prints two times, the second without its date when it is the same day.
  const span = (a, b) => {
    const x = stamp(a), y = stamp(b);
    return x === y ? x : x.replace(' UTC', '') + ' – ' + (x.slice(0, 10) === y.slice(0, 10) ? y.slice(11) : y);
  };
  // Days are ISO (YYYY-MM-DD) everywhere, never the browser's locale.
  const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
  const isDay = (s) => ISO_DAY.test(s) && !Number.isNaN(Date.parse(s + 'T00:00:00Z')) && new Date(s + 'T00:00:00Z').toISOString().slice(0, 10) === s;
  const days = (a, b) => a === b ? a : a + ' to ' + b;
  const clockUTC = () => new Date().toISOString().slice(11, 19) + ' UTC';
  const secondsText = (s) => s <= 0 ? 'off' : s < 60 ? s + ' s' : s % 60 ? s + ' s' : (s / 60) + ' min';

  // ---------- API ----------
  async function api(path) {
    const res = await fetch(path, { headers: { Accept: 'application/json' } });
    const body = await res.json().catch(() => ({ error: res.status + ' ' + res.statusText }));
    if (!res.ok) throw new Error(body.error || (res.status + ' ' + res.statusText));
    return body;
  }
  function filterQuery() {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(state.filters)) if (v) q.set(k, v);
    return q.toString();
  }
  function showError(msg) {
    const b = $('#error');
    if (!msg) { b.hidden = true; return; }
    b.textContent = msg;
    b.hidden = false;
    pulse.errors.push(msg);
  }

  // ---------- URL state ----------
  // ?refresh=N sets every section (and the pipeline page); ?refresh.<section>=N one section.
  const parseRefresh = (v) => {
    const r = parseInt(v, 10);
    if (Number.isNaN(r)) return null;
    return r <= 0 ? 0 : Math.max(state.config.minRefreshSeconds, r);
  };
  function readURL() {
    const q = new URLSearchParams(location.search);
    for (const k of Object.keys(state.filters)) {
      const v = q.get(k) || '';
      state.filters[k] = (k === 'from' || k === 'to') && v && !isDay(v) ? '' : v;
    }
    const all = q.has('refresh') ? parseRefresh(q.get('refresh')) : null;
    if (all !== null) state.refresh = all;
    for (const g of state.config.groups) {
      const own = q.has('refresh.' + g.id) ? parseRefresh(q.get('refresh.' + g.id)) : null;
      setSectionRefresh(g.id, own !== null ? own : all !== null ? all : g.refreshSeconds, false);
    }
  }
  function writeURL() {
    const q = new URLSearchParams(filterQuery());
    if (state.page === 'pipeline') {
      if (state.refresh !== state.config.refreshSeconds) q.set('refresh', state.refresh);
    } else {
      const rates = state.config.groups.map((g) => sectionOf(g.id).refresh);
      const same = rates.every((r) => r === rates[0]);
      const seeds = state.config.groups.every((g) => sectionOf(g.id).refresh === g.refreshSeconds);
      if (!seeds && same) q.set('refresh', rates[0]);
      else if (!seeds) for (const g of state.config.groups) if (sectionOf(g.id).refresh !== g.refreshSeconds) q.set('refresh.' + g.id, sectionOf(g.id).refresh);
    }
    const s = q.toString();
    history.replaceState(null, '', location.pathname + (s ? '?' + s : ''));
    for (const a of document.querySelectorAll('.tabs a')) {
      const keep = new URLSearchParams(s);
      for (const k of [...keep.keys()]) if (k.startsWith('refresh')) keep.delete(k);
      a.href = a.getAttribute('href').split('?')[0] + (keep.toString() ? '?' + keep : '');
    }
  }

  // ---------- refresh: each section at its own rate ----------
  function sectionOf(id) {
    if (!state.sections.has(id)) state.sections.set(id, { refresh: 60, timer: null, el: null });
    return state.sections.get(id);
  }
  // setSectionRefresh sets one section's interval and restarts its timer.
  function setSectionRefresh(id, seconds, reschedule) {
    const s = sectionOf(id);
    s.refresh = seconds;
    pulse.sections[id] = pulse.sections[id] || { refresh: seconds, loads: 0, autoStarts: [], done: [] };
    pulse.sections[id].refresh = seconds;
    if (s.select) s.select.value = String(seconds);
    if (reschedule !== false) scheduleSection(id);
  }
  function scheduleSection(id) {
    const s = sectionOf(id);
    clearTimeout(s.timer);
    s.timer = null;
    if (s.refresh > 0) {
      s.timer = setTimeout(() => {
        pulse.sections[id].autoStarts.push(Date.now());
        request([id]);
      }, s.refresh * 1000);
    }
  }
  // syncGlobalSelect shows "each section's seed rate", one interval for
  // all, or "per section" in the top bar.
  function syncGlobalSelect() {
    const sel = $('#refresh');
    if (state.page === 'pipeline') { sel.value = String(state.refresh); return; }
    const rates = state.config.groups.map((g) => sectionOf(g.id).refresh);
    if (state.config.groups.every((g) => sectionOf(g.id).refresh === g.refreshSeconds) && state.config.seedRates) sel.value = 'seed';
    else if (rates.every((r) => r === rates[0]) && [...sel.options].some((o) => o.value === String(rates[0]))) sel.value = String(rates[0]);
    else sel.value = 'custom';
  }

  // request queues a load of some sections (or 'all'); one load runs at a
  // time, and what was asked meanwhile is loaded next, together.
  function request(what) {
    for (const w of what) state.queued.add(w);
    if (!state.running) state.running = drain();
    return state.running;
  }
  async function drain() {
    try {
      while (state.queued.size) {
        const want = new Set(state.queued);
        state.queued.clear();
        const groups = want.has('all') ? null : [...want];
        try {
          if (state.page === 'pipeline') await loadPipeline(); else await loadDashboards(groups);
          showError('');
          $('#updated').textContent = 'Updated ' + clockUTC();
        } catch (e) {
          showError('Could not load data: ' + e.message);
        } finally {
          pulse.generation++;
          document.body.dataset.generation = pulse.generation;
          if (state.page === 'pipeline') schedulePipeline();
          else for (const g of state.config.groups) if (!groups || groups.includes(g.id)) {
            pulse.sections[g.id].loads++;
            pulse.sections[g.id].done.push(Date.now());
            scheduleSection(g.id);
          }
        }
      }
    } finally {
      state.running = null;
    }
  }
  const refreshAll = () => request(['all']);
  function schedulePipeline() {
    clearTimeout(state.timer);
    if (state.refresh > 0) state.timer = setTimeout(() => request(['all']), state.refresh * 1000);
  }

  // ---------- filters ----------
  function setupFilters(opts) {
    const fill = (sel, values, current) => {
      const keep = sel.options[0];
      sel.replaceChildren(keep, ...values.map((v) => el('option', { value: v, text: v })));
      if (current && !values.includes(current)) sel.append(el('option', { value: current, text: current }));
      sel.value = current;
    };
    fill($('#f-platform'), opts.platform, state.filters.platform);
    fill($('#f-age'), opts.age_group, state.filters.age_group);
    state.spans = opts.spans || {};
    for (const [id, key] of [['#f-from', 'from'], ['#f-to', 'to']]) {
      const input = $(id);
      input.value = state.filters[key];
      if (opts.minDay) input.title = 'A UTC day, YYYY-MM-DD (data from ' + opts.minDay + ' to ' + opts.maxDay + ')';
      const commit = () => {
        const v = input.value.trim();
        const ok = v === '' || isDay(v);
        input.closest('.field').classList.toggle('invalid', !ok);
        input.setCustomValidity(ok ? '' : 'Write the day as YYYY-MM-DD');
        if (!ok || v === state.filters[key]) return;
        state.filters[key] = v;
        filtersChanged();
      };
      input.addEventListener('change', commit);
      input.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') commit(); });
      // The calendar writes the day it picks as ISO too.
      const picker = input.parentElement.querySelector('input[type=date]');
      const button = input.parentElement.querySelector('button.pick');
      if (picker && button) {
        button.addEventListener('click', () => {
          picker.value = isDay(input.value) ? input.value : (opts.maxDay || '');
          try { picker.showPicker(); } catch (e) { picker.focus(); }
        });
        picker.addEventListener('change', () => { input.value = picker.value; commit(); });
      }
    }
    const bind = (id, key) => $(id).addEventListener('change', (ev) => {
      state.filters[key] = ev.target.value;
      filtersChanged();
    });
    bind('#f-platform', 'platform');
    bind('#f-age', 'age_group');
    $('#f-clear').addEventListener('click', () => {
      for (const k of Object.keys(state.filters)) state.filters[k] = '';
      for (const id of ['#f-platform', '#f-age', '#f-from', '#f-to']) { $(id).value = ''; $(id).closest('.field').classList.remove('invalid'); }
      filtersChanged();
    });
    markFilters();
  }
  function markFilters() {
    const map = { '#f-platform': 'platform', '#f-age': 'age_group', '#f-from': 'from', '#f-to': 'to' };
    for (const [id, k] of Object.entries(map)) $(id).closest('.field').classList.toggle('set', !!state.filters[k]);
  }
  function filtersChanged() {
    markFilters();
    writeURL();
    refreshAll();
  }
  function setDates(from, to) {
    state.filters.from = from;
    state.filters.to = to;
    $('#f-from').value = from;
    $('#f-to').value = to;
    filtersChanged();
  }

  // ---------- dashboards ----------
  const REFRESH_CHOICES = [5, 10, 15, 30, 60, 300, 0];

  // newSection builds a section: its title, the seed's own dashboard, its
  // refresh interval (the seed's rate by default), when it last loaded,
  // the days its data spans, and room for a "nothing in these dates" note.
  function newSection(g) {
    const s = sectionOf(g.id);
    const sel = el('select', { 'data-role': 'section-refresh', title: 'How often this section reloads (' + g.refreshNote + ')',
      'aria-label': 'Refresh ' + g.title }, REFRESH_CHOICES.map((v) => el('option', { value: v, text: v ? 'every ' + secondsText(v) : 'off' })));
    if (![...sel.options].some((o) => +o.value === s.refresh)) sel.append(el('option', { value: s.refresh, text: 'every ' + secondsText(s.refresh) }));
    sel.value = String(s.refresh);
    sel.addEventListener('change', () => { setSectionRefresh(g.id, +sel.value); syncGlobalSelect(); writeURL(); });
    s.select = sel;
    s.updated = el('span', { class: 'section-updated', 'aria-live': 'polite' });
    s.span = el('div', { class: 'span-line' });
    s.banner = el('div', { class: 'section-empty', hidden: true, role: 'status' });
    s.el = el('section', { class: 'group', 'data-group': g.id },
      el('div', { class: 'group-head' },
        el('div', { class: 'group-title' }, el('h2', { text: g.title }), el('span', { class: 'note', text: g.note })),
        el('div', { class: 'group-refresh' }, el('span', { class: 'refresh-label', text: 'Refresh', title: g.refreshNote }), sel, s.updated)),
      s.span, s.banner, el('div', { class: 'grid' }));
    return s.el;
  }

  // spanText says which days a section's data covers, per path.
  function spanText(id) {
    const sp = state.spans[id] || [];
    if (!sp.length) return 'No dated rows yet.';
    const name = { batch: 'batch files', stream: 'stream' };
    return 'Data: ' + sp.map((x) => name[x.kind] + ' ' + days(x.minDay, x.maxDay)).join(' · ') + ' (UTC days)';
  }

  // renderSectionState shows a section's span, and says so when a date
  // range leaves every dated panel of the section without rows.
  function renderSectionState(id) {
    const s = sectionOf(id);
    s.span.textContent = spanText(id);
    const cards = [...state.cards.values()].filter((c) => c.info.group === id && c.data);
    const dated = cards.filter((c) => c.data.applied.includes('date'));
    const empty = (state.filters.from || state.filters.to) && dated.length > 0 && dated.every((c) => c.el.dataset.state === 'nomatch');
    s.el.dataset.empty = empty ? 'true' : 'false';
    s.banner.hidden = !empty;
    if (!empty) return;
    const range = days(state.filters.from || '…', state.filters.to || '…');
    const sp = state.spans[id] || [];
    const kids = [el('strong', { text: 'No rows match ' + range + ' in this section.' }), ' ',
      sp.length ? 'Its data is from ' + sp.map((x) => ({ batch: 'batch files', stream: 'the stream' })[x.kind] + ' ' + days(x.minDay, x.maxDay)).join(' and ') + ' (UTC).'
        : 'It has no dated rows yet.'];
    if (sp.length) {
      const last = sp[sp.length - 1];
      kids.push(' ', el('button', { type: 'button', class: 'link', text: 'Show ' + days(last.minDay, last.maxDay), onclick: () => setDates(last.minDay, last.maxDay) }));
    }
    s.banner.replaceChildren(...kids);
  }

  // loadDashboards reads the panel list and the data of the panels of the
  // given sections (all when null).
  async function loadDashboards(groups) {
    const root = $('#page-dashboards');
    const list = await api('/api/panels');
    const present = new Set(list.panels.map((p) => p.view));
    for (const [view, c] of state.cards) {
      if (!present.has(view)) { if (c.chart) c.chart.dispose(); c.el.remove(); state.cards.delete(view); delete pulse.charts[view]; }
    }
    for (const g of state.config.groups) {
      const ps = list.panels.filter((p) => p.group === g.id);
      let sec = root.querySelector(`section[data-group="${g.id}"]`);
      if (!ps.length) { if (sec) sec.remove(); continue; }
      if (!sec) {
        sec = newSection(g);
        const after = [...root.querySelectorAll('section.group')].find((x) =>
          state.config.groups.findIndex((y) => y.id === x.dataset.group) > state.config.groups.findIndex((y) => y.id === g.id));
        root.insertBefore(sec, after || root.querySelector('.missing'));
      }
      const grid = sec.querySelector('.grid');
      for (const p of ps) {
        if (!state.cards.has(p.view)) state.cards.set(p.view, newCard(p));
        const c = state.cards.get(p.view);
        c.info = p;
        grid.append(c.el); // keeps catalog order
      }
    }
    let miss = root.querySelector('.missing');
    if (!miss) { miss = el('div', { class: 'missing' }); root.append(miss); }
    miss.replaceChildren();
    if (list.missing.length) {
      miss.append('Views not in the warehouse yet (their panels appear when they are): ',
        ...list.missing.flatMap((v, i) => [i ? ', ' : '', el('code', { text: v })]));
    }
    const q = filterQuery();
    const wanted = list.panels.filter((p) => !groups || groups.includes(p.group));
    await Promise.all(wanted.map(async (p) => {
      const c = state.cards.get(p.view);
      try {
        c.data = await api('/api/panels/' + encodeURIComponent(p.view) + (q ? '?' + q : ''));
        renderCard(c);
      } catch (e) {
        renderError(c, e.message);
      }
    }));
    for (const g of state.config.groups) {
      if (groups && !groups.includes(g.id)) continue;
      const s = sectionOf(g.id);
      if (!s.el) continue;
      s.updated.textContent = 'updated ' + clockUTC();
      renderSectionState(g.id);
    }
  }

  function newCard(p) {
    const card = el('article', { class: 'card', 'data-view': p.view, 'data-state': 'loading' });
    const c = { el: card, chart: null, data: null, info: p, measure: null, pick: null };
    c.title = el('h3', { text: p.title });
    c.meta = el('div', { class: 'meta' });
    c.headline = el('div', { class: 'headline' });
    c.controls = el('div', { class: 'controls' });
    c.body = el('div', { class: 'chart' });
    c.notes = el('div', { class: 'notes' });
    card.append(el('div', { class: 'card-head' }, el('div', {}, c.title, c.meta), c.headline), c.controls, c.body, c.notes);
    return c;
  }

  function renderError(c, msg) {
    c.el.className = 'card error';
    c.el.dataset.state = 'error';
    c.el.dataset.rows = '0';
    c.el.dataset.points = '0';
    disposeChart(c);
    c.body.replaceChildren(el('div', { class: 'empty-state' }, el('strong', { text: 'Could not load this panel' }), el('span', { text: msg })));
    pulse.errors.push(c.info.view + ': ' + msg);
  }

  function disposeChart(c) {
    if (c.chart) { c.chart.dispose(); c.chart = null; delete pulse.charts[c.info.view]; }
  }

  // ---------- units and names ----------
  const nf1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
  const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
  function duration(s) {
    if (s === null || s === undefined) return '—';
    const a = Math.abs(s);
    if (a < 60) return nf1.format(s) + ' s';
    if (a < 3600) { const m = Math.floor(a / 60), r = Math.round(a % 60); return m + ' min' + (r ? ' ' + r + ' s' : ''); }
    const h = Math.floor(a / 3600), m = Math.round((a % 3600) / 60);
    return h + ' h' + (m ? ' ' + m + ' min' : '');
  }
  // fmtUnit formats a value in its unit; tick the same as a bare number for
  // axis ticks (the axis title carries the unit).
  function fmtUnit(v, unit) {
    if (v === null || v === undefined) return '—';
    switch (unit) {
      case '%': return nf1.format(v) + '%';
      case 'ratio': return nf1.format(v * 100) + '%';
      case 's': return duration(v);
      case '$': return usd.format(v);
      default: return fmt(v);
    }
  }
  function tick(v, unit, minutes) {
    switch (unit) {
      case '%': return nf1.format(v);
      case 'ratio': return nf1.format(v * 100);
      case 's': return nf1.format(minutes ? v / 60 : v);
      default: return compact.format(v);
    }
  }
  const unitOf = (spec, col) => (spec.units || {})[col] || '';
  const nameOf = (spec, col) => (spec.names || {})[col] || titleCase(human(col));
  // axisTitle is a value axis's title: the measures' names and their unit.
  function axisTitle(spec, cols, minutes) {
    let unit = (spec.axisUnits || {})[cols[0]] || '';
    if (unit === 's' && minutes) unit = 'min';
    const names = cols.map((m) => nameOf(spec, m));
    let name = names.join(' / ');
    if (name.length > 30) {
      // Several long names: the words they share ("Items", "Avg. ... rate").
      const words = names.map((n) => n.split(' '));
      const first = [], last = [];
      for (let i = 0; words.every((w) => w.length > i && w[i] === words[0][i]); i++) first.push(words[0][i]);
      for (let i = 1; words.every((w) => w.length - i >= first.length && w[w.length - i] === words[0][words[0].length - i]); i++) last.unshift(words[0][words[0].length - i]);
      name = first.concat(last).join(' ') || names.length + ' measures';
    }
    return unit ? name + ' (' + unit + ')' : name;
  }
  // categoryTitle is the category axis's title; a time says UTC.
  function categoryTitle(spec) {
    if (!spec.category) return '';
    const unit = spec.time ? 'UTC' : (spec.axisUnits || {})[spec.category];
    return nameOf(spec, spec.category) + (unit ? ' (' + unit + ')' : '');
  }
  // Times are UTC and ISO: whole days print as YYYY-MM-DD, others with the time of day.
  const pad = (n) => String(n).padStart(2, '0');
  function fmtTime(iso, withDay) {
    const t = new Date(iso);
    if (Number.isNaN(t.getTime())) return String(iso);
    const day = t.toISOString().slice(0, 10);
    const hm = pad(t.getUTCHours()) + ':' + pad(t.getUTCMinutes());
    if (withDay === 'date') return day;
    return withDay === false ? hm : day + ' ' + hm;
  }
  const isMidnight = (iso) => /T00:00:00(\.0+)?Z$/.test(iso);
  function cellText(v, col, spec) {
    if (v === null || v === undefined) return '—';
    const c = spec && col ? unitOf(spec, col) : '';
    if (typeof v === 'number') return fmtUnit(v, c);
    if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return isMidnight(v) ? fmtTime(v, 'date') : fmtTime(v) + ' UTC';
    return String(v);
  }

  function renderNotes(c) {
    const d = c.data, applies = c.info.filters;
    const kids = [];
    for (const f of ['platform', 'age_group', 'date']) {
      const on = applies.includes(f);
      const active = d.applied.includes(f) || d.notApplied.includes(f);
      if (on) kids.push(el('span', { class: 'chip' + (active ? ' on' : ''), text: FILTER_LABELS[f] }));
    }
    const off = ['platform', 'age_group', 'date'].filter((f) => !applies.includes(f));
    const parts = [kids.length ? 'Filters: ' : 'No filters apply to this view', ...kids];
    if (off.length && applies.length) {
      parts.push(el('span', { class: 'chip' + (d.notApplied.length ? ' off' : ''), 'data-not-applied': off.join(','),
        text: 'no ' + off.map((f) => FILTER_LABELS[f]).join(' or ') + ' filter here' }));
    } else if (!applies.length && d.notApplied.length) {
      parts.push(el('span', { class: 'chip off', 'data-not-applied': off.join(','), text: 'showing all data' }));
    }
    const line = el('div', { class: 'filters-line' }, ...parts);
    c.notes.replaceChildren(...[line, d.note ? el('div', { class: 'note-line', text: d.note }) : null].filter(Boolean));
  }

  // pickedRows are the rows the card shows: those of the picked value.
  function pickedRows(c) {
    const d = c.data, spec = d.chart;
    if (!spec.pick) return d.rows;
    const i = d.columns.findIndex((x) => x.name === spec.pick);
    return d.rows.filter((r) => r[i] === c.pick);
  }

  // windowNote says which window a panel's rows are from, when they all
  // share one (the "last 5 minutes" panel), and whether it is still open.
  function windowNote(c) {
    const d = c.data, col = (n) => d.columns.findIndex((x) => x.name === n);
    const s = col('WINDOW_START'), e = col('WINDOW_END'), f = col('FINAL');
    if (s < 0 || e < 0 || d.chart.category === 'WINDOW_START') return '';
    const rows = pickedRows(c);
    const starts = new Set(rows.map((r) => r[s]));
    if (starts.size !== 1) return '';
    const r = rows[0];
    const open = f >= 0 && rows.some((x) => x[f] === false);
    return 'window ' + fmtTime(r[s]) + '–' + fmtTime(r[e], false) + ' UTC' + (open ? ' · still open (partial)' : ' · final');
  }

  // headlineColumn is the column the card's headline shows: the measure
  // picked in the selector, else the panel's headline column.
  function headlineColumn(c) {
    const spec = c.data.chart;
    const shown = (c.measure || spec.measures.join(',')).split(',').filter(Boolean);
    return shown.length === 1 ? shown[0] : spec.total;
  }

  function renderHeadline(c) {
    const d = c.data, spec = d.chart;
    const pick = spec.pick ? c.pick : '';
    const col = headlineColumn(c);
    const h = ((d.measureHeadlines || {})[pick] || {})[col];
    c.headline.dataset.column = col || '';
    if (!h && (spec.splitScale || []).includes(col) && spec.split) {
      // Each split value on its own scale: no one figure sums or averages them.
      c.headline.replaceChildren(el('span', { class: 'unit', text: nameOf(spec, col) + ': each ' + nameOf(spec, spec.split).toLowerCase() + ' on its own scale' }));
      delete c.headline.dataset.value;
      return;
    }
    if (!h || spec.type === 'kpi') {
      c.headline.replaceChildren();
      delete c.headline.dataset.value;
      return;
    }
    const unit = unitOf(spec, h.column), name = nameOf(spec, h.column);
    const of = h.kind === 'mean' ? (h.weight ? ', over all ' + nameOf(spec, h.weight).toLowerCase() : ', over all rows') : '';
    let big, sub;
    if (h.kind === 'top') {
      big = /^\d{4}-\d\d-\d\dT/.test(h.label) ? cellText(h.label) : value(h.label);
      sub = 'most ' + name.toLowerCase() + ': ' + fmtUnit(h.value, unit);
    } else if (h.kind === 'latest') {
      big = fmtUnit(h.value, unit);
      sub = name + (h.label ? ' at ' + cellText(h.label) : '');
    } else {
      big = fmtUnit(h.value, unit);
      sub = (h.kind === 'mean' || /^(total|avg|average)\b/i.test(name) ? '' : 'total ') + name.toLowerCase() + of + (spec.pick ? ' (' + value(c.pick).toLowerCase() + ')' : '');
    }
    c.headline.replaceChildren(el('span', { class: 'value', text: big }), el('span', { class: 'unit', text: sub }));
    c.headline.dataset.value = String(h.value);
    c.headline.dataset.kind = h.kind;
  }

  // emptyState replaces a card's chart with a sentence.
  function emptyState(c, state, title, text) {
    c.headline.replaceChildren();
    delete c.headline.dataset.value;
    c.el.className = 'card ' + state;
    c.el.dataset.state = state;
    c.el.dataset.points = '0';
    disposeChart(c);
    c.body.style.height = '';
    c.body.replaceChildren(el('div', { class: 'empty-state' }, el('strong', { text: title }), el('span', { text: text })));
  }
  const NO_MATCH = 'No rows match these filters';

  function renderCard(c) {
    const d = c.data, spec = d.chart;
    c.el.dataset.rows = String(d.rows.length);
    const filtered = d.applied.length > 0;
    renderNotes(c);
    if (!d.rows.length) {
      c.meta.replaceChildren(el('code', { text: d.source }));
      c.controls.replaceChildren();
      if (filtered) emptyState(c, 'nomatch', NO_MATCH, 'Clear or widen the filters to see this view.');
      else emptyState(c, 'empty', 'No data yet', d.emptyNote || 'The view exists but has no rows; it fills as data arrives.');
      return;
    }
    renderControls(c);
    const win = windowNote(c);
    c.meta.replaceChildren(el('code', { text: d.source }), d.truncated ? ' · first ' + d.rows.length + ' rows' : '',
      win ? el('span', { class: 'window', text: ' · ' + win }) : '');
    if (spec.type === 'kpi') {
      const numeric = d.columns.map((x, i) => x.type === 'number' ? d.rows[0][i] : null).filter((v) => v !== null);
      if (filtered && numeric.every((v) => v === 0)) return emptyState(c, 'nomatch', NO_MATCH, 'Under them every figure here is 0. Clear or widen the filters.');
      renderHeadline(c);
      return renderKPI(c);
    }
    const option = chartOption(c);
    if (!option.__nonzero) {
      // Every value drawn would be 0: say so rather than draw zero bars.
      const what = (c.measure || spec.measures.join(',')).split(',').map((m) => nameOf(spec, m).toLowerCase()).join(', ');
      if (filtered) emptyState(c, 'nomatch', NO_MATCH, 'Under them every ' + what + ' is 0. Clear or widen the filters.');
      else emptyState(c, 'empty', 'Nothing to draw yet', 'Every ' + what + ' is 0 so far.');
      return;
    }
    renderHeadline(c);
    c.el.className = 'card';
    c.body.style.height = option.__height ? option.__height + 'px' : '';
    if (!c.chart) {
      c.body.replaceChildren();
      c.chart = echarts.init(c.body, null, { renderer: 'canvas' });
      pulse.charts[c.info.view] = c.chart;
    } else {
      c.chart.resize();
    }
    c.chart.setOption(option, { notMerge: true });
    c.el.dataset.points = String(option.__points);
    c.el.dataset.state = 'ready';
  }

  // renderKPI: one big figure (the panel's total) and the other measures
  // as small figures beneath it; time columns say what period it covers.
  function renderKPI(c) {
    const d = c.data, spec = d.chart;
    disposeChart(c);
    c.body.style.height = '';
    c.el.className = 'card kpi';
    const row = d.rows[0];
    const col = (n) => d.columns.findIndex((x) => x.name === n);
    const h = (d.headlines || {})[''];
    const v = h ? h.value : null;
    const unit = unitOf(spec, spec.total);
    const big = unit ? fmtUnit(v, unit) : (v === null ? '—' : compact.format(v));
    const tiles = spec.measures.filter((m) => m !== spec.total).map((m) =>
      el('div', { class: 'kpi-tile', 'data-column': m }, el('div', { class: 'v', text: fmtUnit(row[col(m)], unitOf(spec, m)) }),
        el('div', { class: 'l', text: nameOf(spec, m) })));
    const times = d.columns.filter((x) => x.type === 'time').map((x) => nameOf(spec, x.name) + ' ' + cellText(row[col(x.name)]));
    c.body.replaceChildren(
      el('div', { class: 'kpi-value', 'data-value': v === null ? '' : String(v), text: big }),
      el('div', { class: 'kpi-unit', text: nameOf(spec, spec.total) + (v !== null && !unit ? ' · ' + fmt(v) : '') }),
      tiles.length ? el('div', { class: 'kpi-tiles' }, tiles) : null,
      times.length ? el('div', { class: 'kpi-times', text: times.join(' · ') }) : null);
    c.el.dataset.points = v === null ? '0' : '1';
    c.el.dataset.state = v === null ? 'nomatch' : 'ready';
  }

  function renderControls(c) {
    const d = c.data, spec = d.chart;
    const kids = [];
    if (spec.type !== 'kpi' && spec.numeric.length > 1) {
      const opts = [];
      if (spec.measures.length > 1) opts.push({ value: spec.measures.join(','), text: spec.measures.map((m) => nameOf(spec, m)).join(' + ') });
      for (const m of spec.numeric) opts.push({ value: m, text: nameOf(spec, m) });
      if (!c.measure || !opts.some((o) => o.value === c.measure)) c.measure = spec.measures.join(',');
      const sel = el('select', { title: 'Measure', 'data-role': 'measure' }, opts.map((o) => el('option', { value: o.value, text: o.text })));
      sel.value = c.measure;
      sel.addEventListener('change', () => { c.measure = sel.value; renderCard(c); });
      kids.push(sel);
    } else {
      c.measure = spec.measures.join(',');
    }
    if (spec.pick) {
      const i = d.columns.findIndex((x) => x.name === spec.pick);
      const values = [...new Set(d.rows.map((r) => r[i]))];
      if (!values.includes(c.pick)) c.pick = values.includes(spec.pickDefault) ? spec.pickDefault : values[0];
      const sel = el('select', { title: nameOf(spec, spec.pick), 'data-role': 'pick' }, values.map((v) => el('option', { value: v, text: nameOf(spec, spec.pick) + ': ' + value(v) })));
      sel.value = c.pick;
      sel.addEventListener('change', () => { c.pick = sel.value; renderCard(c); });
      kids.push(sel);
    }
    c.controls.replaceChildren(...kids);
  }

  // splitColor gives a split value (a source, a page source) the same
  // colour on every chart of the page and on every refresh: colours are
  // handed out per split column, in the order its values are first seen.
  const splitColors = new Map(); // column -> Map(value -> colour)
  function splitColor(column, v) {
    if (!splitColors.has(column)) splitColors.set(column, new Map());
    const m = splitColors.get(column);
    if (!m.has(v)) m.set(v, PALETTE[m.size % PALETTE.length]);
    return m.get(v);
  }

  // yOf is a data point's value: a number, [time, number] or {value: [time, number], gap}.
  const yOf = (v) => Array.isArray(v) ? v[1] : (v && typeof v === 'object' ? (Array.isArray(v.value) ? v.value[1] : v.value) : v);

  // textWidth measures a label as the axes draw it (12px system-ui).
  const measureCtx = document.createElement('canvas').getContext('2d');
  function textWidth(t) {
    measureCtx.font = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
    return Math.max(...String(t).split('\n').map((line) => measureCtx.measureText(line).width));
  }

  // categoryLabels lays out a vertical chart's category labels so every
  // one is shown and none overlaps at the card's width: flat when they
  // fit, else turned 40 degrees; only more categories than rotated labels
  // can hold fall back to ECharts' own thinning.
  function categoryLabels(labels, width) {
    const usable = Math.max(120, width - 110), per = usable / Math.max(1, labels.length);
    const widest = Math.max(0, ...labels.map(textWidth));
    if (widest + 8 <= per) return { interval: 0, rotate: 0, hideOverlap: false };
    if (per >= 17) return { interval: 0, rotate: 40, hideOverlap: false };
    return { interval: 'auto', rotate: 40, hideOverlap: true };
  }

  // chartOption turns a panel's rows into an ECharts option. Rows arrive
  // sorted by pick, category and split. A time category draws on a time
  // axis for lines and as labelled categories for bars; measures in two
  // different units get a second value axis, and a split whose values are
  // on scales of their own (SplitScale, or series whose sizes differ
  // tenfold) draws one small chart per split value. Every axis has a title
  // with its unit; time axes say UTC.
  function chartOption(c) {
    const d = c.data, spec = d.chart;
    const col = (name) => d.columns.findIndex((x) => x.name === name);
    const rows = pickedRows(c);
    let measures = (c.measure || spec.measures.join(',')).split(',').filter(Boolean);
    const ci = col(spec.category), si = col(spec.split), li = col(spec.label);
    if (si >= 0) measures = measures.slice(0, 1);
    const additive = measures.every((m) => spec.additive.includes(m));
    const horizontal = spec.type === 'hbar';
    const isLine = spec.type === 'line';
    const timeCat = spec.time && ci >= 0;
    const timeAxis = timeCat && isLine;
    const catOf = (r) => ci >= 0 ? r[ci] : nameOf(spec, measures[0]);
    const allDays = timeCat && rows.every((r) => isMidnight(r[ci]));

    // Categories, in row order or by value; at most spec.limit (or 40).
    // Ranked by value, categories whose value is 0 are left out: a zero
    // bar is not a top anything.
    let cats = [...new Set(rows.map(catOf))];
    const m0 = col(measures[0]);
    let note = '';
    if (spec.sortBy === 'value' && !timeCat) {
      const tot = new Map();
      for (const r of rows) tot.set(catOf(r), (tot.get(catOf(r)) || 0) + (r[m0] || 0));
      cats.sort((a, b) => tot.get(b) - tot.get(a));
      const all = cats.length;
      cats = cats.filter((k) => tot.get(k) !== 0);
      if (cats.length < all && cats.length) note = cats.length + ' of ' + all + ' (the others are 0)';
    }
    const limit = spec.limit || MAX_CATEGORIES;
    if (!timeAxis && cats.length > limit) {
      // Times keep the newest categories; the rest the first (the largest when sorted by value).
      note = (timeCat ? 'latest ' : 'top ') + limit + ' of ' + cats.length;
      cats = timeCat ? cats.slice(-limit) : cats.slice(0, limit);
    }
    const catIndex = new Map(cats.map((v, i) => [v, i]));
    const sameDay = timeCat && !allDays && new Set(rows.map((r) => String(r[ci]).slice(0, 10))).size === 1;
    // Times of several days print the time of day, and the day under the
    // first time of each day.
    const dayOf = new Map();
    if (timeCat && !allDays && !sameDay) {
      let prev = '';
      for (const k of cats) { const dd = String(k).slice(0, 10); dayOf.set(k, dd !== prev ? dd : ''); prev = dd; }
    }
    const catLabel = (v) => {
      if (!timeCat) return value(v);
      if (allDays) return fmtTime(v, 'date');
      if (sameDay) return fmtTime(v, false);
      return fmtTime(v, false) + (dayOf.get(v) ? '\n' + dayOf.get(v) : '');
    };

    // Value axes: one per unit among the measures shown (at most two).
    const unitKey = (m) => (spec.axisUnits || {})[m] || unitOf(spec, m);
    const units = [...new Set(measures.map(unitKey))].slice(0, 2);
    const axisOf = (m) => Math.max(0, units.indexOf(unitKey(m)));

    // Series: one per split value, else one per measure. rowsOf[s][i] is
    // the row behind point i of series s (for the tooltip).
    const series = [], rowsOf = [];
    const mk = (name, mi, keep, axis) => {
      const data = timeAxis ? [] : new Array(cats.length).fill(null);
      const rix = timeAxis ? [] : new Array(cats.length).fill(-1);
      const labels = new Array(cats.length).fill('');
      rows.forEach((r, ri) => {
        if (!keep(r)) return;
        const v = r[mi];
        if (timeAxis) { data.push([r[ci], v]); rix.push(ri); return; }
        const k = catIndex.get(catOf(r));
        if (k === undefined) return;
        data[k] = (data[k] === null ? 0 : data[k]) + (v === null ? 0 : v);
        rix[k] = rix[k] === -1 ? ri : -2; // -2: several rows summed
        if (li >= 0) labels[k] = d.columns[li].type === 'number' ? (spec.labelFormat || '{name} {v}').replace('{name}', nameOf(spec, spec.label)).replace('{v}', Number.isInteger(r[li]) ? fmt(r[li]) : nf1.format(r[li])) : value(r[li]);
      });
      const s = { name, type: isLine ? 'line' : 'bar', data, emphasis: { focus: 'series' }, yAxisIndex: horizontal ? 0 : axis, xAxisIndex: 0 };
      if (isLine) { s.showSymbol = data.length < 60; s.smooth = false; s.lineStyle = { width: 2 }; }
      else { s.barMaxWidth = horizontal ? 22 : 42; s.itemStyle = { borderRadius: horizontal ? [0, 3, 3, 0] : [3, 3, 0, 0] }; }
      if (li >= 0) {
        s.label = { show: true, position: horizontal ? 'right' : 'top', formatter: (p) => labels[p.dataIndex] || '', fontSize: 11, color: '#46516a' };
      }
      rowsOf.push(rix);
      return s;
    };
    // A windowed line (rows with WINDOW_START and WINDOW_END) drops to zero
    // where windows are missing: no row means no events in that window.
    const ws = col('WINDOW_START'), we = col('WINDOW_END');
    const fillGaps = (s, rix) => {
      if (!timeAxis || spec.category !== 'WINDOW_START' || we < 0) return;
      const data = [], idx = [];
      s.data.forEach((p, k) => {
        const r = rows[rix[k]], next = s.data[k + 1];
        data.push(p); idx.push(rix[k]);
        if (!next) return;
        const end = Date.parse(r[we]), len = end - Date.parse(r[ws]), nt = Date.parse(next[0]);
        if (nt > end) {
          data.push({ value: [new Date(end).toISOString(), 0], gap: true }); idx.push(-1);
          if (nt - len > end) { data.push({ value: [new Date(nt - len).toISOString(), 0], gap: true }); idx.push(-1); }
        }
      });
      s.data = data;
      rowsOf[rowsOf.length - 1] = idx;
    };
    if (si >= 0) {
      const splits = [...new Set(rows.map((r) => r[si]))].sort((a, b) => String(a).localeCompare(String(b)));
      // Every value of the split column in the answer gets its colour first (not only the picked rows').
      [...new Set(d.rows.map((r) => r[si]))].sort((a, b) => String(a).localeCompare(String(b))).forEach((v) => splitColor(spec.split, String(v)));
      for (const v of splits) {
        const s = mk(value(v), m0, (r) => r[si] === v, 0);
        fillGaps(s, rowsOf[rowsOf.length - 1]);
        s.itemStyle = Object.assign(s.itemStyle || {}, { color: splitColor(spec.split, String(v)) });
        if (isLine) s.lineStyle.color = s.itemStyle.color;
        series.push(s);
      }
    } else {
      for (const m of measures) series.push(mk(nameOf(spec, m), col(m), () => true, axisOf(m)));
      // Lines of several measures differ in dash too: equal values (WAU = MAU early on) stay visible.
      if (isLine) series.forEach((s, k) => { s.lineStyle.type = ['solid', 'dashed', 'dotted'][k % 3]; s.z = 10 - k; });
    }
    let points = 0, nonzero = 0;
    for (const s of series) for (const v of s.data) if (yOf(v) !== null && !(v && v.gap)) { points++; if (yOf(v) !== 0) nonzero++; }

    // Split values on scales of their own get a chart each.
    const peak = (s) => Math.max(0, ...s.data.map((v) => Math.abs(yOf(v) || 0)));
    const peaks = series.map(peak).filter((x) => x > 0);
    const multiples = si >= 0 && series.length > 1 && !horizontal &&
      ((spec.splitScale || []).includes(measures[0]) || (!additive && peaks.length > 1 && Math.max(...peaks) >= 10 * Math.min(...peaks)));
    if (spec.stack && si >= 0 && additive && !multiples) {
      for (const s of series) { s.stack = 'total'; if (!isLine) s.itemStyle.borderRadius = 0; }
    }

    // A seconds axis over two minutes ticks in minutes.
    const maxOf = (unit, ss) => Math.max(0, ...ss.filter((s, k) => si >= 0 || unitKey(measures[k]) === unit).flatMap((s) => s.data.map((v) => yOf(v) || 0)));
    const valueAxis = (unit, i, ss, title) => {
      const fmtUnitKey = unitOf(spec, measures.find((m) => unitKey(m) === unit) || measures[0]);
      const max = fmtUnitKey === 's' ? maxOf(unit, ss) : 0;
      const minutes = max > 120;
      const a = { type: 'value', position: i ? 'right' : undefined,
        name: title || axisTitle(spec, measures.filter((m) => unitKey(m) === unit), minutes),
        nameLocation: 'middle', nameRotate: horizontal ? 0 : 90, nameTextStyle: { color: '#667085', fontSize: 11.5 },
        axisLabel: { formatter: (v) => tick(v, fmtUnitKey, minutes), color: '#667085' },
        splitLine: { show: i === 0, lineStyle: { color: '#eef1f5' } } };
      if (minutes) {
        a.interval = 60 * ([1, 2, 5, 10, 15, 30, 60, 120].find((m) => max / (60 * m) <= 6) || 240);
        a.max = Math.ceil(max / a.interval) * a.interval;
      }
      return a;
    };
    const width = c.body.clientWidth || 600;
    const catName = categoryTitle(spec);
    const catAxis = (showLabels) => {
      if (timeAxis) {
        return { type: 'time', name: catName, nameLocation: 'middle', nameTextStyle: { color: '#667085', fontSize: 11.5 },
          axisLine: { lineStyle: { color: '#cfd6e2' } }, minInterval: allDays ? 86400000 : undefined,
          axisLabel: { show: showLabels, color: '#667085', hideOverlap: true,
            formatter: { year: '{yyyy}', month: '{yyyy}-{MM}', day: '{yyyy}-{MM}-{dd}', hour: '{HH}:{mm}', minute: '{HH}:{mm}', second: '{HH}:{mm}:{ss}' } } };
      }
      const labels = cats.map(catLabel);
      const lay = horizontal ? { interval: 0, rotate: 0, hideOverlap: false } : categoryLabels(labels, width);
      const lines = Math.max(1, ...labels.map((l) => String(l).split('\n').length));
      return { type: 'category', data: labels, name: catName, nameLocation: horizontal ? 'start' : 'middle',
        nameGap: horizontal ? 12 : lines > 1 && !lay.rotate ? 14 + 15 * lines : undefined,
        nameTextStyle: { color: '#667085', fontSize: 11.5, align: horizontal ? 'right' : 'center', padding: horizontal ? 0 : [4, 0, 0, 0] },
        axisTick: { alignWithLabel: true }, axisLine: { lineStyle: { color: '#cfd6e2' } },
        axisLabel: { show: showLabels, color: '#46516a', hideOverlap: lay.hideOverlap, interval: lay.interval, rotate: lay.rotate,
          verticalAlign: !horizontal && lines > 1 && !lay.rotate ? 'top' : undefined, lineHeight: lines > 1 ? 15 : undefined,
          width: horizontal ? 180 : lay.rotate ? 150 : undefined, overflow: horizontal || lay.rotate ? 'truncate' : undefined },
        inverse: horizontal };
    };

    // Tooltip: the category, each series in its unit, and for a single row
    // the columns the chart does not draw.
    const drawn = new Set([spec.category, spec.split, spec.pick, ...measures]);
    const extra = d.columns.filter((x) => !drawn.has(x.name) && (x.type === 'number' || x.name === spec.label || (x.type === 'text' && x.name !== spec.label)));
    const tooltip = { trigger: 'axis', axisPointer: { type: isLine ? 'line' : 'shadow' }, confine: true,
      formatter: (ps) => {
        ps = [].concat(ps);
        if (!ps.length) return '';
        const p0 = ps[0];
        const head = timeAxis ? cellText(new Date(p0.axisValue).toISOString()) : (timeCat ? cellText(cats[p0.dataIndex]) : String(p0.axisValueLabel || p0.name));
        const esc = (t) => String(t).replace(/[&<>]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[ch]);
        const lines = ['<b>' + esc(head) + '</b>'];
        let single = -1;
        for (const p of ps) {
          const v = yOf(p.data);
          const m = si >= 0 ? measures[0] : measures[p.seriesIndex];
          lines.push(p.marker + esc(p.seriesName) + ': <b>' + esc(fmtUnit(v, unitOf(spec, m))) + '</b>');
          const ri = (rowsOf[p.seriesIndex] || [])[p.dataIndex];
          if (si < 0 && ri >= 0) single = ri;
        }
        if (single >= 0) {
          for (const x of extra.slice(0, 8)) lines.push('<span style="color:#667085">' + esc(nameOf(spec, x.name)) + ': ' + esc(cellText(rows[single][col(x.name)], x.name, spec)) + '</span>');
        }
        return lines.join('<br>');
      } };

    const option = {
      color: PALETTE,
      useUTC: true, // the warehouse's times and the date filter are UTC
      animationDuration: 300,
      tooltip,
      series,
    };
    if (multiples) {
      // One grid per split value, each with its own value axis and title.
      const h = 92, gap = 34, top = 10;
      option.grid = series.map((s, k) => ({ left: 12, right: 18, top: top + gap + k * (h + gap), height: h, outerBoundsMode: 'same', outerBoundsContain: 'all' }));
      option.xAxis = series.map((s, k) => Object.assign(catAxis(k === series.length - 1), { gridIndex: k }, k === series.length - 1 ? {} : { name: '' }));
      option.yAxis = series.map((s, k) => Object.assign(valueAxis(unitKey(measures[0]), 0, [s], axisTitle(spec, measures, false)),
        { gridIndex: k, nameLocation: 'end', nameRotate: 0, nameTextStyle: { color: '#667085', fontSize: 11, align: 'left', padding: [0, 0, 2, -30] }, splitNumber: 3 }));
      series.forEach((s, k) => { s.xAxisIndex = k; s.yAxisIndex = k; delete s.stack; });
      option.title = series.map((s, k) => ({ text: s.name + ': its own scale', right: 16, top: top + 8 + k * (h + gap),
        textStyle: { fontSize: 12, fontWeight: 600, color: s.itemStyle.color } }));
      option.legend = { show: false };
      option.tooltip.trigger = 'axis';
      option.axisPointer = { link: [{ xAxisIndex: 'all' }] };
      Object.defineProperty(option, '__height', { value: top + series.length * (h + gap) + 56, enumerable: false });
    } else {
      const valueAxes = (units.length ? units : ['']).map((u, i) => valueAxis(u, i, series));
      option.grid = { left: 12, right: li >= 0 ? 96 : 18, top: series.length > 1 || units.length > 1 ? 44 : 28, bottom: 8, outerBoundsMode: 'same', outerBoundsContain: 'all' };
      option.legend = series.length > 1 ? { top: 8, left: 8, type: 'scroll', icon: 'roundRect', itemWidth: 12, itemHeight: 8, textStyle: { color: '#46516a' } } : { show: false };
      option.xAxis = horizontal ? Object.assign(valueAxes[0], { nameLocation: 'middle' }) : catAxis(true);
      option.yAxis = horizontal ? catAxis(true) : valueAxes;
      if (horizontal) option.grid.top = 40;
    }
    if (sameDay) {
      const day = String(rows[0][ci]).slice(0, 10);
      for (const a of [].concat(option.xAxis)) if (a.name) a.name = a.name.replace('(UTC)', '(UTC, ' + day + ')');
    }
    if (note) option.title = [].concat(option.title || [], { text: note, right: 8, top: 4, textStyle: { fontSize: 11, color: '#98a2b3', fontWeight: 'normal' } });
    if (timeAxis && spec.zoomMinutes && rows.length && !multiples) {
      const last = Math.max(...rows.map((r) => Date.parse(r[ci]))), first = Math.min(...rows.map((r) => Date.parse(r[ci])));
      if (last - first > spec.zoomMinutes * 60000) {
        option.dataZoom = [{ type: 'inside', xAxisIndex: 0, startValue: last - spec.zoomMinutes * 60000, endValue: last },
          { type: 'slider', xAxisIndex: 0, startValue: last - spec.zoomMinutes * 60000, endValue: last, height: 16, bottom: 6,
            labelFormatter: (v) => fmtTime(new Date(v).toISOString()), textStyle: { color: '#667085', fontSize: 10 } }];
        option.grid.bottom = 36;
      }
    }
    Object.defineProperty(option, '__points', { value: points, enumerable: false });
    Object.defineProperty(option, '__nonzero', { value: nonzero, enumerable: false });
    if (horizontal && cats.length > 10) Object.defineProperty(option, '__height', { value: Math.min(760, 60 + 24 * cats.length), enumerable: false });
    return option;
  }

  // ---------- pipeline health ----------
  async function loadPipeline() {
    const h = await api('/api/health');
    const root = $('#page-pipeline');
    const t = h.totals, st = h.streamTotals;
    const kpi = (label, value, sub, cls, key) => el('div', { class: 'kpi-card' + (cls ? ' ' + cls : '') + (/^[A-Za-z]/.test(value) ? ' word' : ''), 'data-kpi': key },
      el('div', { class: 'label', text: label }), el('div', { class: 'value', text: value }), el('div', { class: 'sub', text: sub || '' }));
    const pct = (n) => t.received ? ' · ' + (100 * n / t.received).toFixed(1) + '%' : '';
    const tests = h.testsPassing + h.testsFailing;
    const fresh = h.datasets.filter((d) => d.fresh).length;
    const streamsBalanced = h.streams.every((x) => x.balanced);
    const kpis = el('div', { class: 'kpis' },
      kpi('Received', fmt(t.received), t.files + ' files and stream batches', '', 'received'),
      kpi('Loaded', fmt(t.loaded), pct(t.loaded).slice(3) + ' of received', '', 'loaded'),
      kpi('Rejected', fmt(t.rejected), 'quarantined with a reason' + pct(t.rejected), t.rejected ? '' : 'good', 'rejected'),
      kpi('Duplicate', fmt(t.duplicate), 'dropped by dedupe key' + pct(t.duplicate), '', 'duplicate'),
      kpi('Late', fmt(t.late), 'loaded, after their windows closed' + pct(t.late), '', 'late'),
      kpi('Accounting', h.balanced ? 'Balanced' : 'Unbalanced', 'received = loaded + rejected + duplicate', h.balanced ? 'good' : 'bad', 'balanced'),
      kpi('Stream topics', h.streams.length ? String(h.streams.length) : '—', h.streams.length ? st.files + ' batches · ' + fmt(st.received) + ' messages' : 'no stream batches yet',
        h.streams.length ? (streamsBalanced ? 'good' : 'bad') : '', 'streams'),
      kpi('Data tests', tests ? h.testsPassing + ' / ' + tests : '—',
        !h.testsFailing ? 'all passing' : h.testsFailing === h.testsIntended ? h.testsFailing + ' failing: the demo\'s intended dirt, explained below'
          : h.testsFailing + ' failing' + (h.testsIntended ? ' (' + h.testsIntended + ' intended demo dirt)' : ''),
        !h.testsFailing ? 'good' : h.testsFailing === h.testsIntended ? 'warn' : 'bad', 'tests'),
      kpi('Fresh datasets', fresh + ' / ' + h.datasets.length, 'loaded within ' + Math.round(h.freshWithinSeconds / 60) + ' min', fresh === h.datasets.length ? 'good' : '', 'fresh'));

    const num = (v) => el('td', { class: 'num', text: fmt(v) });
    // paged shows a long table a page at a time, with the page kept across refreshes.
    const paged = (key, table, rows, size) => {
      const pages = Math.max(1, Math.ceil(rows.length / size));
      const page = Math.min(state.pages[key] || 0, pages - 1);
      const tbody = table.querySelector('tbody');
      const show = (p) => {
        state.pages[key] = p;
        tbody.replaceChildren(...rows.slice(p * size, (p + 1) * size));
        info.textContent = rows.length ? 'Rows ' + (p * size + 1) + '–' + Math.min(rows.length, (p + 1) * size) + ' of ' + rows.length : '';
        prev.disabled = p === 0;
        next.disabled = p >= pages - 1;
      };
      const info = el('span', { class: 'pager-info' });
      const prev = el('button', { type: 'button', class: 'ghost small', 'data-dir': 'prev', text: '‹ Previous', onclick: () => show(state.pages[key] - 1) });
      const next = el('button', { type: 'button', class: 'ghost small', 'data-dir': 'next', text: 'Next ›', onclick: () => show(state.pages[key] + 1) });
      const pager = el('div', { class: 'pager', 'data-pager': key, hidden: rows.length <= size }, info, prev, next);
      if (rows.length) show(page);
      return el('div', {}, el('div', { class: 'table-wrap' }, table), pager);
    };
    const heads = (names, numFrom, numTo) => el('thead', {}, el('tr', {}, names.map((x, i) => el('th', { class: i >= numFrom && i < numTo ? 'num' : '', text: x }))));
    const none = (cols, text) => el('tr', {}, el('td', { colSpan: cols, text }));
    const yes = (ok) => el('td', {}, el('span', { class: 'pill ' + (ok ? 'ok' : 'bad'), text: ok ? 'yes' : 'no' }));
    const ds = el('table', { 'data-table': 'datasets' },
      heads(['Dataset', 'Newest load', 'Age', 'Loads', 'Received', 'Loaded', 'of which late', 'Rejected', 'Duplicate', 'Balanced'], 3, 9),
      el('tbody', {}, h.datasets.length ? h.datasets.map((d) => el('tr', { 'data-dataset': d.dataset, 'data-received': d.received, 'data-loaded': d.loaded },
        el('td', { text: d.dataset }), el('td', { text: stamp(d.lastLoadedAt) }),
        el('td', {}, el('span', { class: 'pill ' + (d.fresh ? 'ok' : 'warn'), text: ago(d.ageSeconds) })),
        num(d.files), num(d.received), num(d.loaded), num(d.late), num(d.rejected), num(d.duplicate), yes(d.balanced))) : none(10, 'No loads yet.')));

    const streams = el('table', { 'data-table': 'streams' },
      heads(['Topic', 'Batches', 'Received', 'Loaded', 'of which late', 'Rejected', 'Duplicate', 'Balanced', 'Newest batch', 'Age'], 1, 7),
      el('tbody', {}, h.streams.length ? h.streams.map((x) => el('tr', { 'data-topic': x.topic, 'data-received': x.received, 'data-loaded': x.loaded,
        'data-rejected': x.rejected, 'data-duplicate': x.duplicate, 'data-late': x.late, 'data-batches': x.files },
        el('td', { text: x.topic }), num(x.files), num(x.received), num(x.loaded), num(x.late), num(x.rejected), num(x.duplicate), yes(x.balanced),
        el('td', { text: stamp(x.lastBatchAt) }), el('td', {}, el('span', { class: 'pill ' + (x.fresh ? 'ok' : 'warn'), text: ago(x.ageSeconds) })))) :
        none(10, 'No stream batches yet.')),
      h.streams.length ? el('tfoot', {}, el('tr', {}, el('td', { text: 'All topics' }), num(st.files), num(st.received), num(st.loaded), num(st.late),
        num(st.rejected), num(st.duplicate), yes(streamsBalanced), el('td', {}), el('td', {}))) : null);

    const late = el('table', { 'data-table': 'late' },
      heads(['Dataset', 'Window', 'Late events', 'Windows missed', 'Event times', 'Most behind watermark', 'Recorded'], 2, 4),
      el('tbody', {}, h.late.length ? h.late.map((x) => el('tr', { 'data-late-dataset': x.dataset, 'data-window': x.windowType, 'data-events': x.events, 'data-windows': x.windows },
        el('td', { text: x.dataset }), el('td', { text: value(x.windowType) }), num(x.events), num(x.windows),
        el('td', { text: span(x.firstEventAt, x.lastEventAt) }),
        el('td', { class: 'num', text: x.maxBehindSeconds === null ? '—' : duration(x.maxBehindSeconds) }),
        el('td', { text: stamp(x.lastRecordedAt) }))) : none(7, 'No late events.')));

    const chartBox = el('div', { class: 'chart fill', style: 'min-height:' + Math.max(240, 60 + 30 * h.datasets.length) + 'px' });
    // A failing test says what its rows are and, where Pulse knows, why.
    const testRows = h.tests.map((x) => {
      const e = x.explanation, fail = x.latestStatus === 'fail';
      const why = fail && e ? el('div', { class: 'why', 'data-explanation': e.intended ? 'intended' : 'unknown' },
        e.found ? el('div', { class: 'found', text: e.found }) : null,
        el('div', { class: 'cause', text: e.cause || 'No known cause: look at these rows and where they came from.' })) : null;
      return el('tr', { class: fail ? (e && e.intended ? 'failing intended' : 'failing') : '', 'data-status': x.latestStatus, 'data-test': x.table + ' ' + x.test },
        el('td', {}, el('span', { class: 'pill ' + (!fail ? 'ok' : e && e.intended ? 'warn' : 'bad'), text: x.latestStatus }),
          fail && e && e.intended ? el('span', { class: 'dirt-tag', text: 'intended dirt' }) : null),
        el('td', { text: x.table }), el('td', { class: 'wrap' }, el('div', { text: x.test }), why),
        el('td', { text: x.fileId === 'suite' ? 'suite: ' + x.dataset : x.dataset }),
        num(x.runs), num(x.failedRuns), num(x.latestFailures), el('td', { text: stamp(x.lastRunAt) }));
    });
    const testsTable = el('table', { 'data-table': 'tests' },
      heads(['Status', 'Table', 'Test', 'Run by', 'Runs', 'Failed runs', 'Failing rows', 'Last run'], 4, 7),
      el('tbody', {}, testRows.length ? [] : none(8, 'No data tests have run yet.')));
    const testsIntro = h.testsFailing ? el('p', { class: 'panel-intro' },
      'A failing data test is a finding about the data, not a failure of the pipeline: the rows are loaded and counted, and the test says what is wrong with them. ',
      h.testsFailing === h.testsIntended ? 'Here every failure is dirt the demo\'s generators make on purpose, for the tests to catch; each says what it is.'
        : 'Amber rows are the demo\'s intended dirt; red rows have no known cause.') : null;
    const rejects = el('table', { 'data-table': 'rejects' },
      heads(['Dataset', 'Field', 'Example reason', 'Records'], 3, 4),
      el('tbody', {}, h.rejects.length ? h.rejects.map((r) => el('tr', {}, el('td', { text: r.dataset }), el('td', { text: r.field }),
        el('td', { class: 'wrap', text: r.reason }), num(r.records))) : none(4, 'No rejected records.')));
    const recent = el('table', { 'data-table': 'recent' },
      heads(['Finished', 'Dataset', 'Source', 'Status', 'Received', 'Loaded', 'of which late', 'Rejected', 'Duplicate'], 4, 9),
      el('tbody', {}, h.recent.map((r) => el('tr', {}, el('td', { text: stamp(r.finishedAt) }), el('td', { text: r.dataset }),
        el('td', { class: 'wrap', text: r.source }), el('td', {}, el('span', { class: 'pill ' + (r.status === 'tested' || r.status === 'loaded' ? 'ok' : 'warn'), text: r.status })),
        num(r.received), num(r.loaded), num(r.late), num(r.rejected), num(r.duplicate)))));

    const panel = (title, meta, ...kids) => el('section', { class: 'panel' }, el('h3', {}, title, meta ? el('span', { class: 'meta', text: meta }) : null), ...kids);
    const old = pulse.charts.__pipeline;
    if (old) { old.dispose(); delete pulse.charts.__pipeline; }
    root.replaceChildren(
      kpis,
      panel('Freshness and record accounting per dataset', 'PIPELINE_HEALTH over PULSE_MANIFESTS: files and stream batches',
        paged('datasets', ds, [...ds.querySelectorAll('tbody tr')], 20)),
      panel('Stream topics', 'PULSE_MANIFESTS of the stream batches (one per topic per batch): received = loaded + rejected + duplicate; of which late: loaded after their windows had closed',
        paged('streams', streams, [...streams.querySelectorAll('tbody tr')], 20)),
      panel('Late events per dataset and window', 'PULSE_LATE_EVENTS: a late event is loaded into its facts and kept here whole with every window it missed; a partly late event still counted in the windows still open',
        paged('late', late, [...late.querySelectorAll('tbody tr')], 20)),
      el('div', { class: 'two' },
        panel('Where the records went', 'per dataset, files and stream batches', chartBox),
        panel('Rejected records by field', 'PULSE_REJECTS, kept whole with their reason', paged('rejects', rejects, [...rejects.querySelectorAll('tbody tr')], 12))),
      panel('Data tests', 'DATA_TEST_RESULTS: the latest result per test (failing first), with its runs and failed runs', testsIntro,
        testRows.length ? paged('tests', testsTable, testRows, 15) : el('div', { class: 'table-wrap' }, testsTable)),
      panel('Recent loads', 'the newest manifests', paged('recent', recent, [...recent.querySelectorAll('tbody tr')], 15)),
      ...(h.missing.length ? [el('div', { class: 'missing' }, 'Not in the warehouse yet: ', ...h.missing.flatMap((v, i) => [i ? ', ' : '', el('code', { text: v })]))] : []));
    root.dataset.datasets = String(h.datasets.length);
    root.dataset.tests = String(tests);
    if (h.datasets.length) {
      const chart = echarts.init(chartBox);
      const names = h.datasets.map((d) => d.dataset);
      // Late records are among the loaded: the bar splits loaded into on time and late.
      const parts = [['Loaded on time', (d) => d.loaded - d.late, '#12a37c'], ['Loaded late', (d) => d.late, '#8b5cf6'],
        ['Rejected', (d) => d.rejected, '#e5484d'], ['Duplicate', (d) => d.duplicate, '#f59e0b']];
      chart.setOption({
        animationDuration: 300,
        grid: { left: 12, right: 18, top: 44, bottom: 8, outerBoundsMode: 'same', outerBoundsContain: 'all' },
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v) => fmt(v) },
        legend: { top: 4, right: 8, icon: 'roundRect', itemWidth: 12, itemHeight: 8 },
        xAxis: { type: 'value', name: 'Records (count)', nameLocation: 'middle', nameTextStyle: { color: '#667085', fontSize: 11.5 },
          axisLabel: { formatter: (v) => compact.format(v), color: '#667085' }, splitLine: { lineStyle: { color: '#eef1f5' } } },
        yAxis: { type: 'category', data: names, inverse: true, name: 'Dataset', nameLocation: 'start', nameTextStyle: { color: '#667085', fontSize: 11.5, align: 'right' },
          axisLabel: { color: '#46516a' } },
        series: parts.map(([name, of, color]) => ({ name, type: 'bar', stack: 'records', color, barMaxWidth: 18, data: h.datasets.map(of) })),
      });
      pulse.charts.__pipeline = chart;
    }
  }

  // ---------- start ----------
  async function start() {
    document.body.dataset.page = state.page;
    for (const a of document.querySelectorAll('.tabs a')) a.classList.toggle('active', a.dataset.page === state.page);
    $('#page-' + state.page).hidden = false;
    $('#filters').hidden = state.page !== 'dashboards';
    if (state.page === 'pipeline') document.title += ' · pipeline health';
    try {
      state.config = await api('/api/config');
    } catch (e) {
      showError('Could not reach the dashboard API: ' + e.message);
      return;
    }
    state.refresh = state.config.refreshSeconds;
    const sel = $('#refresh');
    if (state.page === 'dashboards') {
      // Each section refreshes at its own rate; the top bar sets them all.
      sel.prepend(el('option', { value: 'seed', text: state.config.seedRates ? "Each section's seed rate" : 'Each section\'s default' }));
      sel.append(el('option', { value: 'custom', text: 'Set per section', hidden: true }));
      sel.title = 'How often the sections reload: ' + state.config.groups.map((g) => g.title + ' every ' + secondsText(g.refreshSeconds)).join(', ');
    }
    readURL();
    if (state.page === 'pipeline' && ![...sel.options].some((o) => o.value === String(state.refresh))) {
      sel.append(el('option', { value: state.refresh, text: secondsText(state.refresh) }));
    }
    syncGlobalSelect();
    sel.addEventListener('change', () => {
      if (state.page === 'pipeline') { state.refresh = +sel.value; schedulePipeline(); writeURL(); return; }
      if (sel.value === 'custom') return;
      for (const g of state.config.groups) setSectionRefresh(g.id, sel.value === 'seed' ? g.refreshSeconds : +sel.value);
      writeURL();
    });
    $('#refresh-now').addEventListener('click', () => refreshAll());
    writeURL();
    if (state.page === 'dashboards') {
      try { setupFilters(await api('/api/filters')); } catch (e) { showError('Could not load the filter values: ' + e.message); }
    }
    window.addEventListener('resize', () => { for (const ch of Object.values(pulse.charts)) ch.resize(); });
    await refreshAll();
  }
  if (typeof echarts === 'undefined') {
    document.addEventListener('DOMContentLoaded', () => showError('ECharts did not load: run `make tools`.'));
  } else {
    start();
  }
})();
