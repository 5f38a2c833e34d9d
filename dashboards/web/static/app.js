// Pulse dashboard: plain JavaScript over the JSON API, charts by ECharts.
// window.pulse exposes the page's state for the browser test: generation
// counts completed refreshes, charts maps a view to its ECharts instance.
(function () {
  'use strict';

  const PALETTE = ['#2f5bea', '#f59e0b', '#12a37c', '#e5484d', '#8b5cf6', '#0ea5c6', '#ec4899', '#84cc16', '#64748b', '#b45309', '#1e3a8a', '#0f766e'];
  const FILTER_LABELS = { platform: 'platform', age_group: 'age group', date: 'date range' };
  const MAX_CATEGORIES = 40;

  const state = {
    page: location.pathname.replace(/\/+$/, '') === '/pipeline' ? 'pipeline' : 'dashboards',
    config: null,
    refresh: 60,
    filters: { platform: '', age_group: '', from: '', to: '' },
    cards: new Map(),     // view -> {el, chart, data, measure, pick}
    timer: null,
    running: null,
    pending: false,
  };
  const pulse = { generation: 0, charts: {}, state: state, errors: [] };
  window.pulse = pulse;

  const $ = (sel, root) => (root || document).querySelector(sel);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-')) e.setAttribute(k, v);
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
  function readURL() {
    const q = new URLSearchParams(location.search);
    for (const k of Object.keys(state.filters)) state.filters[k] = q.get(k) || '';
    if (q.has('refresh')) {
      const r = parseInt(q.get('refresh'), 10);
      if (!Number.isNaN(r)) state.refresh = r <= 0 ? 0 : Math.max(state.config.minRefreshSeconds, r);
    }
  }
  function writeURL() {
    const q = new URLSearchParams(filterQuery());
    if (state.refresh !== state.config.refreshSeconds) q.set('refresh', state.refresh);
    const s = q.toString();
    history.replaceState(null, '', location.pathname + (s ? '?' + s : ''));
    for (const a of document.querySelectorAll('.tabs a')) {
      const keep = new URLSearchParams(s);
      a.href = a.getAttribute('href').split('?')[0] + (keep.toString() ? '?' + keep : '');
    }
  }

  // ---------- refresh loop ----------
  function schedule() {
    clearTimeout(state.timer);
    if (state.refresh > 0) state.timer = setTimeout(() => refresh(), state.refresh * 1000);
  }
  async function refresh() {
    if (state.running) { state.pending = true; return state.running; }
    clearTimeout(state.timer);
    state.running = (async () => {
      try {
        if (state.page === 'pipeline') await loadPipeline(); else await loadDashboards();
        showError('');
        $('#updated').textContent = 'Updated ' + new Date().toLocaleTimeString('en-GB');
      } catch (e) {
        showError('Could not load data: ' + e.message);
      } finally {
        pulse.generation++;
        document.body.dataset.generation = pulse.generation;
        state.running = null;
        if (state.pending) { state.pending = false; refresh(); } else schedule();
      }
    })();
    return state.running;
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
    $('#f-from').value = state.filters.from;
    $('#f-to').value = state.filters.to;
    if (opts.minDay) {
      for (const id of ['#f-from', '#f-to']) { $(id).min = opts.minDay; $(id).max = opts.maxDay; }
      $('#f-range').textContent = 'Events from ' + opts.minDay + ' to ' + opts.maxDay + ' (UTC)';
    }
    const bind = (id, key) => $(id).addEventListener('change', (ev) => {
      state.filters[key] = ev.target.value;
      filtersChanged();
    });
    bind('#f-platform', 'platform');
    bind('#f-age', 'age_group');
    bind('#f-from', 'from');
    bind('#f-to', 'to');
    $('#f-clear').addEventListener('click', () => {
      for (const k of Object.keys(state.filters)) state.filters[k] = '';
      for (const id of ['#f-platform', '#f-age', '#f-from', '#f-to']) $(id).value = '';
      filtersChanged();
    });
    markFilters();
  }
  function markFilters() {
    const map = { '#f-platform': 'platform', '#f-age': 'age_group', '#f-from': 'from', '#f-to': 'to' };
    for (const [id, k] of Object.entries(map)) $(id).parentElement.classList.toggle('set', !!state.filters[k]);
  }
  function filtersChanged() {
    markFilters();
    writeURL();
    refresh();
  }

  // ---------- dashboards ----------
  async function loadDashboards() {
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
        sec = el('section', { class: 'group', 'data-group': g.id },
          el('div', { class: 'group-head' }, el('h2', { text: g.title }), el('span', { class: 'note', text: g.note })),
          el('div', { class: 'grid' }));
        const after = [...root.querySelectorAll('section.group')].find((s) =>
          state.config.groups.findIndex((x) => x.id === s.dataset.group) > state.config.groups.findIndex((x) => x.id === g.id));
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
    await Promise.all(list.panels.map(async (p) => {
      const c = state.cards.get(p.view);
      try {
        c.data = await api('/api/panels/' + encodeURIComponent(p.view) + (q ? '?' + q : ''));
        renderCard(c);
      } catch (e) {
        renderError(c, e.message);
      }
    }));
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
  // fmtUnit formats a value in its unit; axisUnit the same, shorter, for axis ticks.
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
  function axisUnit(v, unit) {
    switch (unit) {
      case '%': return nf1.format(v) + '%';
      case 'ratio': return Math.round(v * 100) + '%';
      case 's': return v >= 120 ? nf1.format(v / 60) + ' min' : nf1.format(v) + ' s';
      case '$': return '$' + compact.format(v);
      default: return compact.format(v);
    }
  }
  const unitOf = (spec, col) => (spec.units || {})[col] || '';
  const nameOf = (spec, col) => (spec.names || {})[col] || titleCase(human(col));
  // Times: whole UTC days print as dates, others with the time of day.
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n) => String(n).padStart(2, '0');
  function fmtTime(iso, withDay) {
    const t = new Date(iso);
    if (Number.isNaN(t.getTime())) return String(iso);
    const day = MONTHS[t.getUTCMonth()] + ' ' + t.getUTCDate();
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

  function renderHeadline(c) {
    const d = c.data, spec = d.chart;
    const h = (d.headlines || {})[spec.pick ? c.pick : ''];
    if (!h || spec.type === 'kpi') {
      c.headline.replaceChildren();
      delete c.headline.dataset.value;
      return;
    }
    const unit = unitOf(spec, h.column), name = nameOf(spec, h.column);
    let value, sub;
    if (spec.headline === 'top') {
      value = h.label;
      sub = 'most ' + name.toLowerCase() + ': ' + fmtUnit(h.value, unit);
    } else if (spec.headline === 'latest') {
      value = fmtUnit(h.value, unit);
      sub = name + (h.label ? ' at ' + cellText(h.label) : '');
    } else {
      value = fmtUnit(h.value, unit);
      sub = name.toLowerCase() + (spec.pick ? ' (' + c.pick + ')' : '');
    }
    c.headline.replaceChildren(el('span', { class: 'value', text: value }), el('span', { class: 'unit', text: sub }));
    c.headline.dataset.value = String(h.value);
  }

  function renderCard(c) {
    const d = c.data, spec = d.chart;
    c.el.dataset.rows = String(d.rows.length);
    const filtered = d.applied.length > 0;
    renderNotes(c);
    if (!d.rows.length) {
      c.meta.replaceChildren(el('code', { text: d.source }));
      c.headline.replaceChildren();
      delete c.headline.dataset.value;
      c.el.className = 'card ' + (filtered ? 'nomatch' : 'empty');
      c.el.dataset.state = filtered ? 'nomatch' : 'empty';
      c.el.dataset.points = '0';
      disposeChart(c);
      c.controls.replaceChildren();
      c.body.replaceChildren(el('div', { class: 'empty-state' },
        el('strong', { text: filtered ? 'No rows match these filters' : 'No data yet' }),
        el('span', { text: filtered ? 'Clear or widen the filters to see this view.' : 'The view exists but has no rows; it fills as data arrives.' })));
      return;
    }
    renderControls(c);
    const win = windowNote(c);
    c.meta.replaceChildren(el('code', { text: d.source }), d.truncated ? ' · first ' + d.rows.length + ' rows' : '',
      win ? el('span', { class: 'window', text: ' · ' + win }) : '');
    renderHeadline(c);
    if (spec.type === 'kpi') return renderKPI(c);
    c.el.className = 'card';
    const option = chartOption(c);
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
    c.el.dataset.state = option.__points > 0 ? 'ready' : 'nomatch';
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

  // chartOption turns a panel's rows into an ECharts option. Rows arrive
  // sorted by pick, category and split. A time category draws on a time
  // axis for lines and as labelled categories for bars; measures in two
  // different units get a second value axis.
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
    const catLabel = (v) => {
      if (!timeCat) return value(v);
      const allDays = rows.every((r) => isMidnight(r[ci]));
      return fmtTime(v, allDays ? 'date' : true);
    };

    // Categories, in row order or by value; at most spec.limit (or 40).
    let cats = [...new Set(rows.map(catOf))];
    const m0 = col(measures[0]);
    if (spec.sortBy === 'value' && !timeCat) {
      const tot = new Map();
      for (const r of rows) tot.set(catOf(r), (tot.get(catOf(r)) || 0) + (r[m0] || 0));
      cats.sort((a, b) => tot.get(b) - tot.get(a));
    }
    const limit = spec.limit || MAX_CATEGORIES;
    let note = '';
    if (!timeAxis && cats.length > limit) {
      // Times keep the newest categories; the rest the first (the largest when sorted by value).
      note = (timeCat ? 'latest ' : 'top ') + limit + ' of ' + cats.length;
      cats = timeCat ? cats.slice(-limit) : cats.slice(0, limit);
    }
    const catIndex = new Map(cats.map((v, i) => [v, i]));

    // Value axes: one per unit among the measures shown (at most two).
    const units = [...new Set(measures.map((m) => unitOf(spec, m)))].slice(0, 2);
    const axisOf = (m) => Math.max(0, units.indexOf(unitOf(spec, m)));

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
      if (spec.stack && si >= 0 && additive) { s.stack = 'total'; if (!isLine) s.itemStyle.borderRadius = 0; }
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
    }
    let points = 0;
    for (const s of series) for (const v of s.data) if (yOf(v) !== null && !(v && v.gap)) points++;

    // A seconds axis over two minutes ticks every whole number of minutes.
    const maxOf = (unit) => Math.max(0, ...series.filter((s, k) => si < 0 && unitOf(spec, measures[k]) === unit)
      .flatMap((s) => s.data.map((v) => yOf(v) || 0)));
    const valueAxis = (unit, i) => {
      const a = { type: 'value', position: i ? 'right' : undefined,
        axisLabel: { formatter: (v) => axisUnit(v, unit), color: '#667085' },
        splitLine: { show: i === 0, lineStyle: { color: '#eef1f5' } } };
      const max = unit === 's' ? maxOf(unit) : 0;
      if (max > 120) {
        a.interval = 60 * ([1, 2, 5, 10, 15, 30, 60, 120].find((m) => max / (60 * m) <= 6) || 240);
        a.max = Math.ceil(max / a.interval) * a.interval;
      }
      return a;
    };
    const valueAxes = (units.length ? units : ['']).map(valueAxis);
    const catAxis = timeAxis
      ? { type: 'time', axisLine: { lineStyle: { color: '#cfd6e2' } }, minInterval: rows.every((r) => isMidnight(r[ci])) ? 86400000 : undefined,
          axisLabel: { color: '#667085', hideOverlap: true, formatter: { year: '{yyyy}', month: '{MMM} {yyyy}', day: '{MMM} {d}', hour: '{HH}:{mm}', minute: '{HH}:{mm}', second: '{HH}:{mm}:{ss}' } } }
      : { type: 'category', data: cats.map(catLabel), axisTick: { alignWithLabel: true }, axisLine: { lineStyle: { color: '#cfd6e2' } },
          axisLabel: { color: '#46516a', hideOverlap: !horizontal, interval: horizontal ? 0 : 'auto', width: horizontal ? 160 : cats.length <= 6 ? 130 : 90, overflow: 'truncate' },
          inverse: horizontal };

    // Tooltip: the category, each series in its unit, and for a single row
    // the columns the chart does not draw.
    const drawn = new Set([spec.category, spec.split, spec.pick, ...measures]);
    const extra = d.columns.filter((x) => !drawn.has(x.name) && (x.type === 'number' || x.name === spec.label || (x.type === 'text' && x.name !== spec.label)));
    const tooltip = { trigger: 'axis', axisPointer: { type: isLine ? 'line' : 'shadow' }, confine: true,
      formatter: (ps) => {
        ps = [].concat(ps);
        if (!ps.length) return '';
        const p0 = ps[0];
        const head = timeAxis ? cellText(new Date(p0.axisValue).toISOString()) : String(p0.axisValueLabel || p0.name);
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
      grid: { left: 12, right: li >= 0 ? 96 : 18, top: series.length > 1 || units.length > 1 ? 40 : 28, bottom: 8, containLabel: true },
      tooltip,
      legend: series.length > 1 ? { top: 4, left: 8, type: 'scroll', icon: 'roundRect', itemWidth: 12, itemHeight: 8, textStyle: { color: '#46516a' } } : { show: false },
      xAxis: horizontal ? valueAxes[0] : catAxis,
      yAxis: horizontal ? catAxis : valueAxes,
      series,
    };
    if (note) option.title = { text: note, right: 8, top: 4, textStyle: { fontSize: 11, color: '#98a2b3', fontWeight: 'normal' } };
    if (timeAxis && spec.zoomMinutes && rows.length) {
      const last = Math.max(...rows.map((r) => Date.parse(r[ci]))), first = Math.min(...rows.map((r) => Date.parse(r[ci])));
      if (last - first > spec.zoomMinutes * 60000) {
        option.dataZoom = [{ type: 'inside', xAxisIndex: 0, startValue: last - spec.zoomMinutes * 60000, endValue: last },
          { type: 'slider', xAxisIndex: 0, startValue: last - spec.zoomMinutes * 60000, endValue: last, height: 16, bottom: 6,
            labelFormatter: (v) => fmtTime(new Date(v).toISOString()), textStyle: { color: '#667085', fontSize: 10 } }];
        option.grid.bottom = 36;
      }
    }
    Object.defineProperty(option, '__points', { value: points, enumerable: false });
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
      kpi('Data tests', tests ? h.testsPassing + ' / ' + tests : '—', h.testsFailing ? h.testsFailing + ' failing' : 'all passing', h.testsFailing ? 'bad' : 'good', 'tests'),
      kpi('Fresh datasets', fresh + ' / ' + h.datasets.length, 'loaded within ' + Math.round(h.freshWithinSeconds / 60) + ' min', fresh === h.datasets.length ? 'good' : '', 'fresh'));

    const num = (v) => el('td', { class: 'num', text: fmt(v) });
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
    const testRows = h.tests.map((x) => el('tr', { 'data-status': x.latestStatus, 'data-test': x.table + ' ' + x.test },
      el('td', {}, el('span', { class: 'pill ' + (x.latestStatus === 'fail' ? 'bad' : 'ok'), text: x.latestStatus })),
      el('td', { text: x.table }), el('td', { class: 'wrap', text: x.test }), el('td', { text: x.fileId === 'suite' ? 'suite: ' + x.dataset : x.dataset }),
      num(x.runs), num(x.failedRuns), num(x.latestFailures), el('td', { text: stamp(x.lastRunAt) })));
    const testsTable = el('table', { 'data-table': 'tests' },
      heads(['Status', 'Table', 'Test', 'Run by', 'Runs', 'Failed runs', 'Failing rows', 'Last run'], 4, 7),
      el('tbody', {}, testRows.length ? testRows : none(8, 'No data tests have run yet.')));
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
      panel('Freshness and record accounting per dataset', 'PIPELINE_HEALTH over PULSE_MANIFESTS: files and stream batches', el('div', { class: 'scroll' }, ds)),
      panel('Stream topics', 'PULSE_MANIFESTS of the stream batches (one per topic per batch): received = loaded + rejected + duplicate; of which late: loaded after their windows had closed', el('div', { class: 'scroll' }, streams)),
      panel('Late events per dataset and window', 'PULSE_LATE_EVENTS: a late event is loaded into its facts and kept here whole with every window it missed; a partly late event still counted in the windows still open', el('div', { class: 'scroll' }, late)),
      el('div', { class: 'two' },
        panel('Where the records went', 'per dataset, files and stream batches', chartBox),
        panel('Rejected records by field', 'PULSE_REJECTS, kept whole with their reason', el('div', { class: 'scroll' }, rejects))),
      panel('Data tests', 'DATA_TEST_RESULTS: the latest result per test, with its runs and failed runs', el('div', { class: 'scroll' }, testsTable)),
      panel('Recent loads', 'the newest manifests', el('div', { class: 'scroll' }, recent)),
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
        grid: { left: 12, right: 18, top: 34, bottom: 8, containLabel: true },
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v) => fmt(v) },
        legend: { top: 4, left: 8, icon: 'roundRect', itemWidth: 12, itemHeight: 8 },
        xAxis: { type: 'value', axisLabel: { formatter: (v) => compact.format(v), color: '#667085' }, splitLine: { lineStyle: { color: '#eef1f5' } } },
        yAxis: { type: 'category', data: names, inverse: true, axisLabel: { color: '#46516a' } },
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
    readURL();
    const sel = $('#refresh');
    if (![...sel.options].some((o) => +o.value === state.refresh)) {
      sel.append(el('option', { value: state.refresh, text: state.refresh + ' s' }));
    }
    sel.value = String(state.refresh);
    sel.addEventListener('change', () => { state.refresh = +sel.value; writeURL(); schedule(); });
    $('#refresh-now').addEventListener('click', () => refresh());
    writeURL();
    if (state.page === 'dashboards') {
      try { setupFilters(await api('/api/filters')); } catch (e) { showError('Could not load the filter values: ' + e.message); }
    }
    window.addEventListener('resize', () => { for (const ch of Object.values(pulse.charts)) ch.resize(); });
    await refresh();
  }
  if (typeof echarts === 'undefined') {
    document.addEventListener('DOMContentLoaded', () => showError('ECharts did not load: run `make tools`.'));
  } else {
    start();
  }
})();
