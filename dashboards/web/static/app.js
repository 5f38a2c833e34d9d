// Pulse dashboard: plain JavaScript over the JSON API, charts by ECharts.
// window.pulse exposes the page's state for the browser test: generation
// counts completed refreshes, charts maps a view to its ECharts instance.
(function () {
  'use strict';

  const PALETTE = ['#2f5bea', '#f59e0b', '#12a37c', '#e5484d', '#8b5cf6', '#0ea5c6', '#ec4899', '#84cc16', '#64748b'];
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
  const ACRONYMS = new Set(['dau', 'mau', 'id', 'os', 'tv', 'url', 'utc']);
  const human = (col) => (col || '').toLowerCase().split('_').map((w) => ACRONYMS.has(w) ? w.toUpperCase() : w).join(' ');
  const titleCase = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  const ago = (secs) => {
    if (secs === null || secs === undefined) return '—';
    const s = Math.max(0, Math.round(secs));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.round(s / 60) + ' min ago';
    if (s < 86400) return (s / 3600).toFixed(1) + ' h ago';
    return (s / 86400).toFixed(1) + ' days ago';
  };
  const stamp = (iso) => iso ? iso.replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC') : '—';

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
    c.notes.replaceChildren(...parts);
  }

  function renderCard(c) {
    const d = c.data, spec = d.chart;
    c.meta.replaceChildren(el('code', { text: d.source }), d.truncated ? ' · first ' + d.rows.length + ' rows' : '');
    renderNotes(c);
    // Headline figure: the sum of the panel's total column.
    if (d.total !== null && d.total !== undefined && spec.type !== 'kpi') {
      c.headline.replaceChildren(el('span', { class: 'value', text: fmt(d.total) }), el('span', { class: 'unit', text: human(spec.total) }));
      c.headline.dataset.value = String(d.total);
    } else {
      c.headline.replaceChildren();
      delete c.headline.dataset.value;
    }
    c.el.dataset.rows = String(d.rows.length);
    const filtered = d.applied.length > 0;
    if (!d.rows.length) {
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
    if (spec.type === 'kpi') return renderKPI(c);
    c.el.className = 'card';
    const option = chartOption(c);
    if (!c.chart) {
      c.body.replaceChildren();
      c.chart = echarts.init(c.body, null, { renderer: 'canvas' });
      pulse.charts[c.info.view] = c.chart;
    }
    c.chart.setOption(option, { notMerge: true });
    c.el.dataset.points = String(option.__points);
    c.el.dataset.state = option.__points > 0 ? 'ready' : 'nomatch';
  }

  function renderKPI(c) {
    const d = c.data, spec = d.chart;
    disposeChart(c);
    c.el.className = 'card kpi';
    const i = d.columns.findIndex((x) => x.name === spec.total);
    const v = i >= 0 ? d.rows[0][i] : null;
    c.body.replaceChildren(el('div', { class: 'kpi-value', 'data-value': v === null ? '' : String(d.total ?? v), text: v === null ? '—' : compact.format(d.total ?? v) }),
      el('div', { class: 'kpi-unit', text: human(spec.total) + (v !== null ? ' · ' + fmt(d.total ?? v) : '') }));
    c.el.dataset.points = v === null ? '0' : '1';
    c.el.dataset.state = v === null ? 'nomatch' : 'ready';
  }

  function renderControls(c) {
    const d = c.data, spec = d.chart;
    const kids = [];
    if (spec.type !== 'kpi' && spec.numeric.length > 1) {
      const opts = [];
      if (spec.measures.length > 1) opts.push({ value: spec.measures.join(','), text: spec.measures.map(human).map(titleCase).join(' + ') });
      for (const m of spec.numeric) opts.push({ value: m, text: titleCase(human(m)) });
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
      if (!values.includes(c.pick)) c.pick = values[0];
      const sel = el('select', { title: titleCase(human(spec.pick)), 'data-role': 'pick' }, values.map((v) => el('option', { value: v, text: titleCase(human(spec.pick)) + ': ' + v })));
      sel.value = c.pick;
      sel.addEventListener('change', () => { c.pick = sel.value; renderCard(c); });
      kids.push(sel);
    }
    c.controls.replaceChildren(...kids);
  }

  // splitColor gives a split value (a source, a page source) the same
  // colour on every chart of the page.
  const splitColors = new Map();
  function splitColor(v) {
    if (!splitColors.has(v)) splitColors.set(v, PALETTE[splitColors.size % PALETTE.length]);
    return splitColors.get(v);
  }

  // chartOption turns a panel's rows into an ECharts option. Rows arrive
  // sorted by pick, category and split.
  function chartOption(c) {
    const d = c.data, spec = d.chart;
    const col = (name) => d.columns.findIndex((x) => x.name === name);
    let rows = d.rows;
    if (spec.pick) { const i = col(spec.pick); rows = rows.filter((r) => r[i] === c.pick); }
    let measures = (c.measure || spec.measures.join(',')).split(',').filter(Boolean);
    const ci = col(spec.category), si = col(spec.split), li = col(spec.label);
    if (si >= 0) measures = measures.slice(0, 1);
    const additive = measures.every((m) => spec.additive.includes(m));
    const horizontal = spec.type === 'hbar';
    const isLine = spec.type === 'line';
    const time = spec.time && ci >= 0;
    const catOf = (r) => ci >= 0 ? r[ci] : human(measures[0]);

    // Categories, in row order or by value.
    let cats = [...new Set(rows.map(catOf))];
    const m0 = col(measures[0]);
    if (spec.sortBy === 'value' && !time) {
      const tot = new Map();
      for (const r of rows) tot.set(catOf(r), (tot.get(catOf(r)) || 0) + (r[m0] || 0));
      cats.sort((a, b) => tot.get(b) - tot.get(a));
    }
    let note = '';
    if (!time && cats.length > MAX_CATEGORIES) { note = `top ${MAX_CATEGORIES} of ${cats.length}`; cats = cats.slice(0, MAX_CATEGORIES); }
    const catIndex = new Map(cats.map((v, i) => [v, i]));

    // Series: one per split value, else one per measure.
    const series = [];
    const mk = (name, mi, keep) => {
      const data = time ? [] : new Array(cats.length).fill(null);
      const labels = new Array(cats.length).fill('');
      for (const r of rows) {
        if (!keep(r)) continue;
        const v = r[mi];
        if (time) { data.push([r[ci], v]); continue; }
        const k = catIndex.get(catOf(r));
        if (k === undefined) continue;
        data[k] = (data[k] === null ? 0 : data[k]) + (v === null ? 0 : v);
        if (li >= 0) labels[k] = r[li];
      }
      const s = { name, type: isLine ? 'line' : 'bar', data, emphasis: { focus: 'series' } };
      if (isLine) { s.showSymbol = data.length < 60; s.smooth = false; s.lineStyle = { width: 2 }; }
      else { s.barMaxWidth = 42; s.itemStyle = { borderRadius: horizontal ? [0, 3, 3, 0] : [3, 3, 0, 0] }; }
      if (spec.stack && si >= 0 && additive) { s.stack = 'total'; if (!isLine) s.itemStyle.borderRadius = 0; }
      if (li >= 0) {
        s.label = { show: true, position: horizontal ? 'right' : 'top', formatter: (p) => labels[p.dataIndex] || '', fontSize: 11, color: '#46516a' };
      }
      return s;
    };
    if (si >= 0) {
      const splits = [...new Set(rows.map((r) => r[si]))].sort((a, b) => String(a).localeCompare(String(b)));
      for (const v of splits) {
        const s = mk(String(v), m0, (r) => r[si] === v);
        s.itemStyle = Object.assign(s.itemStyle || {}, { color: splitColor(String(v)) });
        if (isLine) s.lineStyle.color = s.itemStyle.color;
        series.push(s);
      }
    } else {
      for (const m of measures) series.push(mk(titleCase(human(m)), col(m), () => true));
    }
    let points = 0;
    for (const s of series) for (const v of s.data) if ((Array.isArray(v) ? v[1] : v) !== null) points++;

    const valueAxis = { type: 'value', axisLabel: { formatter: (v) => compact.format(v), color: '#667085' },
      splitLine: { lineStyle: { color: '#eef1f5' } } };
    const catAxis = time
      ? { type: 'time', axisLine: { lineStyle: { color: '#cfd6e2' } },
          axisLabel: { color: '#667085', hideOverlap: true, formatter: { year: '{yyyy}', month: '{MMM} {yyyy}', day: '{MMM} {d}', hour: '{HH}:{mm}', minute: '{HH}:{mm}', second: '{HH}:{mm}:{ss}' } } }
      : { type: 'category', data: cats.map(String), axisTick: { alignWithLabel: true }, axisLine: { lineStyle: { color: '#cfd6e2' } },
          axisLabel: { color: '#46516a', hideOverlap: !horizontal, interval: horizontal ? 0 : 'auto', width: horizontal ? 150 : 90, overflow: 'truncate' },
          inverse: horizontal };
    const option = {
      color: PALETTE,
      useUTC: true, // the warehouse's times and the date filter are UTC
      animationDuration: 300,
      grid: { left: 12, right: li >= 0 ? 28 : 18, top: series.length > 1 ? 40 : 28, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', axisPointer: { type: isLine ? 'line' : 'shadow' }, valueFormatter: (v) => fmt(v), confine: true },
      legend: series.length > 1 ? { top: 4, left: 8, type: 'scroll', icon: 'roundRect', itemWidth: 12, itemHeight: 8, textStyle: { color: '#46516a' } } : { show: false },
      xAxis: horizontal ? valueAxis : catAxis,
      yAxis: horizontal ? catAxis : valueAxis,
      series,
    };
    if (note) option.title = { text: note, right: 8, top: 4, textStyle: { fontSize: 11, color: '#98a2b3', fontWeight: 'normal' } };
    Object.defineProperty(option, '__points', { value: points, enumerable: false });
    return option;
  }

  // ---------- pipeline health ----------
  async function loadPipeline() {
    const h = await api('/api/health');
    const root = $('#page-pipeline');
    const t = h.totals;
    const kpi = (label, value, sub, cls, key) => el('div', { class: 'kpi-card' + (cls ? ' ' + cls : ''), 'data-kpi': key },
      el('div', { class: 'label', text: label }), el('div', { class: 'value', text: value }), el('div', { class: 'sub', text: sub || '' }));
    const pct = (n) => t.received ? ' · ' + (100 * n / t.received).toFixed(1) + '%' : '';
    const tests = h.testsPassing + h.testsFailing;
    const fresh = h.datasets.filter((d) => d.fresh).length;
    const kpis = el('div', { class: 'kpis' },
      kpi('Received', fmt(t.received), t.files + ' files and batches', '', 'received'),
      kpi('Loaded', fmt(t.loaded), pct(t.loaded).slice(3) + ' of received', '', 'loaded'),
      kpi('Rejected', fmt(t.rejected), 'quarantined with a reason' + pct(t.rejected), t.rejected ? '' : 'good', 'rejected'),
      kpi('Duplicate', fmt(t.duplicate), 'dropped by dedupe key' + pct(t.duplicate), '', 'duplicate'),
      kpi('Late', fmt(t.late), 'after the watermark' + pct(t.late), '', 'late'),
      kpi('Accounting', h.balanced ? 'Balanced' : 'Unbalanced', 'every received record accounted for', h.balanced ? 'good' : 'bad', 'balanced'),
      kpi('Data tests', tests ? h.testsPassing + ' / ' + tests : '—', h.testsFailing ? h.testsFailing + ' failing' : 'all passing', h.testsFailing ? 'bad' : 'good', 'tests'),
      kpi('Fresh datasets', fresh + ' / ' + h.datasets.length, 'loaded within ' + Math.round(h.freshWithinSeconds / 60) + ' min', fresh === h.datasets.length ? 'good' : '', 'fresh'));

    const num = (v) => el('td', { class: 'num', text: fmt(v) });
    const ds = el('table', { 'data-table': 'datasets' },
      el('thead', {}, el('tr', {}, ['Dataset', 'Newest load', 'Age', 'Files', 'Received', 'Loaded', 'Rejected', 'Duplicate', 'Late', 'Balanced']
        .map((x, i) => el('th', { class: i >= 3 && i < 9 ? 'num' : '', text: x })))),
      el('tbody', {}, h.datasets.map((d) => el('tr', { 'data-dataset': d.dataset, 'data-received': d.received, 'data-loaded': d.loaded },
        el('td', { text: d.dataset }), el('td', { text: stamp(d.lastLoadedAt) }),
        el('td', {}, el('span', { class: 'pill ' + (d.fresh ? 'ok' : 'warn'), text: ago(d.ageSeconds) })),
        num(d.files), num(d.received), num(d.loaded), num(d.rejected), num(d.duplicate), num(d.late),
        el('td', {}, el('span', { class: 'pill ' + (d.balanced ? 'ok' : 'bad'), text: d.balanced ? 'yes' : 'no' }))))));
    if (!h.datasets.length) ds.append(el('tbody', {}, el('tr', {}, el('td', { colSpan: 10, text: 'No loads yet.' }))));

    const chartBox = el('div', { class: 'chart fill', style: 'min-height:' + Math.max(240, 60 + 40 * h.datasets.length) + 'px' });
    const testRows = h.tests.map((x) => el('tr', { 'data-status': x.latestStatus },
      el('td', {}, el('span', { class: 'pill ' + (x.latestStatus === 'fail' ? 'bad' : 'ok'), text: x.latestStatus })),
      el('td', { text: x.dataset }), el('td', { text: x.table }), el('td', { class: 'wrap', text: x.test }),
      num(x.runs), num(x.failedRuns), num(x.latestFailures), el('td', { text: stamp(x.lastRunAt) })));
    const testsTable = el('table', { 'data-table': 'tests' },
      el('thead', {}, el('tr', {}, ['Status', 'Dataset', 'Table', 'Test', 'Runs', 'Failed runs', 'Failing rows', 'Last run']
        .map((x, i) => el('th', { class: i >= 4 && i < 7 ? 'num' : '', text: x })))),
      el('tbody', {}, testRows.length ? testRows : el('tr', {}, el('td', { colSpan: 8, text: 'No data tests have run yet.' }))));
    const rejects = el('table', { 'data-table': 'rejects' },
      el('thead', {}, el('tr', {}, el('th', { text: 'Dataset' }), el('th', { text: 'Field' }), el('th', { text: 'Example reason' }), el('th', { class: 'num', text: 'Records' }))),
      el('tbody', {}, h.rejects.length ? h.rejects.map((r) => el('tr', {}, el('td', { text: r.dataset }), el('td', { text: r.field }),
        el('td', { class: 'wrap', text: r.reason }), num(r.records))) : el('tr', {}, el('td', { colSpan: 4, text: 'No rejected records.' }))));
    const recent = el('table', { 'data-table': 'recent' },
      el('thead', {}, el('tr', {}, ['Finished', 'Dataset', 'Source', 'Status', 'Received', 'Loaded', 'Rejected', 'Duplicate', 'Late']
        .map((x, i) => el('th', { class: i >= 4 ? 'num' : '', text: x })))),
      el('tbody', {}, h.recent.map((r) => el('tr', {}, el('td', { text: stamp(r.finishedAt) }), el('td', { text: r.dataset }),
        el('td', { class: 'wrap', text: r.source }), el('td', {}, el('span', { class: 'pill ' + (r.status === 'tested' || r.status === 'loaded' ? 'ok' : 'warn'), text: r.status })),
        num(r.received), num(r.loaded), num(r.rejected), num(r.duplicate), num(r.late)))));

    const panel = (title, meta, ...kids) => el('section', { class: 'panel' }, el('h3', {}, title, meta ? el('span', { class: 'meta', text: meta }) : null), ...kids);
    const old = pulse.charts.__pipeline;
    if (old) { old.dispose(); delete pulse.charts.__pipeline; }
    root.replaceChildren(
      kpis,
      panel('Freshness and record accounting per dataset', 'PIPELINE_HEALTH, from PULSE_MANIFESTS', el('div', { class: 'scroll' }, ds)),
      el('div', { class: 'two' },
        panel('Where the records went', 'received, per dataset', chartBox),
        panel('Rejected records by field', 'PULSE_REJECTS, kept whole with their reason', el('div', { class: 'scroll' }, rejects))),
      panel('Data tests', 'PULSE_DATA_TESTS: latest status per test; failed runs over all runs', el('div', { class: 'scroll' }, testsTable)),
      panel('Recent loads', 'the newest manifests (files and stream batches)', el('div', { class: 'scroll' }, recent)));
    root.dataset.datasets = String(h.datasets.length);
    root.dataset.tests = String(tests);
    if (h.datasets.length) {
      const chart = echarts.init(chartBox);
      const names = h.datasets.map((d) => d.dataset);
      const parts = [['Loaded', 'loaded', '#12a37c'], ['Rejected', 'rejected', '#e5484d'], ['Duplicate', 'duplicate', '#f59e0b'], ['Late', 'late', '#8b5cf6']];
      chart.setOption({
        animationDuration: 300,
        grid: { left: 12, right: 18, top: 34, bottom: 8, containLabel: true },
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v) => fmt(v) },
        legend: { top: 4, left: 8, icon: 'roundRect', itemWidth: 12, itemHeight: 8 },
        xAxis: { type: 'value', axisLabel: { formatter: (v) => compact.format(v), color: '#667085' }, splitLine: { lineStyle: { color: '#eef1f5' } } },
        yAxis: { type: 'category', data: names, inverse: true, axisLabel: { color: '#46516a' } },
        series: parts.map(([name, key, color]) => ({ name, type: 'bar', stack: 'records', color, barMaxWidth: 26, data: h.datasets.map((d) => d[key]) })),
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
