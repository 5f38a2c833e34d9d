// Drives the dashboard in headless Chromium for browser_test.go and prints
// what it saw as JSON on stdout; the Go test makes the assertions.
//
//   node browser.cjs '<json config>'
//
// config: {url, playwright (folder of playwright-core), chromium, userDataDir,
//          shots: {dashboard, filtered, dated, pipeline}, sectionShots (folder),
//          platform, day (YYYY-MM-DD)}
'use strict';

const cfg = JSON.parse(process.argv[2]);
const { chromium } = require(cfg.playwright);

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

// cards reads every panel card: its state and data attributes, and the
// data points and sums of the series of its ECharts instance (the zeros
// a windowed line draws where windows are missing are left out).
function cards() {
  return [...document.querySelectorAll('article.card')].map((c) => {
    const view = c.dataset.view;
    const chart = window.pulse.charts[view];
    let points = 0, sum = 0, series = 0, categories = [];
    if (chart) {
      const opt = chart.getOption();
      series = opt.series.length;
      for (const s of opt.series) {
        for (const v of s.data) {
          if (v && v.gap) continue;
          const y = Array.isArray(v) ? v[1] : (v && typeof v === 'object' ? (Array.isArray(v.value) ? v.value[1] : v.value) : v);
          if (y !== null && y !== undefined && y !== '-') { points++; sum += Number(y); }
        }
      }
      const cat = [].concat(opt.xAxis || [], opt.yAxis || []).find((a) => a.type === 'category');
      categories = cat ? cat.data : [];
    }
    const kpi = c.querySelector('.kpi-value');
    const head = c.querySelector('.headline');
    const state = window.pulse.state.cards.get(view);
    return {
      view, state: c.dataset.state, rows: +c.dataset.rows, points: +c.dataset.points,
      hasChart: !!chart, chartPoints: points, chartSum: sum, series, categories,
      kpi: kpi ? kpi.dataset.value : null,
      headline: head && head.dataset.value !== undefined ? Number(head.dataset.value) : null,
      headlineText: head ? head.textContent : '',
      pick: state ? state.pick || '' : '',
      meta: c.querySelector('.meta') ? c.querySelector('.meta').textContent : '',
      note: c.querySelector('.note-line') ? c.querySelector('.note-line').textContent : '',
      notApplied: [...c.querySelectorAll('[data-not-applied]')].map((e) => e.dataset.notApplied),
      canvas: !!c.querySelector('canvas'),
    };
  });
}

// apiAll fetches every panel's data under a query string, as the page does.
async function apiAll(query) {
  const list = await (await fetch('/api/panels')).json();
  const out = {};
  for (const p of list.panels) out[p.view] = await (await fetch('/api/panels/' + p.view + (query ? '?' + query : ''))).json();
  return out;
}

async function waitGeneration(page, after, timeout) {
  await page.waitForFunction((g) => window.pulse && window.pulse.generation > g, after, { timeout });
  return page.evaluate(() => window.pulse.generation);
}

// settled waits until every card was drawn under the filters in want.
async function settled(page, want) {
  await page.waitForFunction((w) => {
    const cs = [...window.pulse.state.cards.values()];
    return !window.pulse.state.running && cs.length > 0 && cs.every((c) => c.data &&
      (c.data.filters.platform[0] || '') === w.platform && (c.data.filters.from || '') === w.from && (c.data.filters.to || '') === w.to);
  }, want, { timeout: 20000 });
  await page.waitForTimeout(400); // let the charts' frame paint
}

async function snapshot(page, query) {
  return {
    url: page.url(),
    errors: await page.evaluate(() => window.pulse.errors.slice()),
    cards: await page.evaluate(cards),
    api: await page.evaluate(apiAll, query),
  };
}

(async () => {
  const out = { console: [], pageErrors: [] };
  const ctx = await chromium.launchPersistentContext(cfg.userDataDir, {
    executablePath: cfg.chromium, headless: true, args: FLAGS,
    viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1,
  });
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('console', (m) => { if (m.type() === 'error') out.console.push(m.text()); });
    page.on('pageerror', (e) => out.pageErrors.push(String(e)));

    // 1. The page loads and every chart renders.
    await page.goto(cfg.url + '?refresh=5', { waitUntil: 'load' });
    let g = await waitGeneration(page, 0, 30000);
    await page.waitForTimeout(400);
    out.initial = Object.assign(await snapshot(page, ''), {
      title: await page.title(),
      refresh: await page.$eval('#refresh', (s) => s.value),
      platforms: await page.$$eval('#f-platform option', (os) => os.map((o) => o.value).filter(Boolean)),
      missingText: await page.$eval('.missing', (e) => e.textContent).catch(() => ''),
    });
    await page.screenshot({ path: cfg.shots.dashboard, fullPage: true });
    await page.addStyleTag({ content: '.topbar { position: static !important; }' }); // keep it off the section shots
    for (const id of await page.$$eval('section.group', (ss) => ss.map((s) => s.dataset.group))) {
      await page.locator(`section.group[data-group="${id}"]`).screenshot({ path: cfg.sectionShots + '/dashboard-' + id + '.png' });
    }

    // 2. It refreshes by itself (every 5 s here, from ?refresh=5).
    const t0 = Date.now();
    g = await waitGeneration(page, g, 15000);
    out.autoRefreshMs = Date.now() - t0;

    // 3. A platform filter changes the numbers.
    await page.selectOption('#f-platform', cfg.platform);
    await settled(page, { platform: cfg.platform, from: '', to: '' });
    out.filtered = await snapshot(page, 'platform=' + encodeURIComponent(cfg.platform));
    await page.screenshot({ path: cfg.shots.filtered, fullPage: true });

    // 4. A date filter (one day) instead.
    await page.click('#f-clear');
    for (const id of ['#f-from', '#f-to']) {
      await page.fill(id, cfg.day);
      await page.dispatchEvent(id, 'change');
    }
    await settled(page, { platform: '', from: cfg.day, to: cfg.day });
    out.dated = await snapshot(page, 'from=' + cfg.day + '&to=' + cfg.day);
    await page.screenshot({ path: cfg.shots.dated, fullPage: true });

    // 5. The pipeline-health page.
    await page.goto(cfg.url + 'pipeline?refresh=5', { waitUntil: 'load' });
    await waitGeneration(page, 0, 30000);
    await page.waitForTimeout(400);
    out.pipeline = await page.evaluate(() => {
      const chart = window.pulse.charts.__pipeline;
      let points = 0;
      if (chart) for (const s of chart.getOption().series) points += s.data.filter((v) => v !== null && v !== undefined).length;
      const rows = (sel, f) => [...document.querySelectorAll(sel)].map(f);
      return {
        datasets: rows('[data-table=datasets] tr[data-dataset]', (r) => ({ dataset: r.dataset.dataset, received: +r.dataset.received, loaded: +r.dataset.loaded })),
        streams: rows('[data-table=streams] tr[data-topic]', (r) => ({ topic: r.dataset.topic, batches: +r.dataset.batches, received: +r.dataset.received,
          loaded: +r.dataset.loaded, rejected: +r.dataset.rejected, duplicate: +r.dataset.duplicate, late: +r.dataset.late })),
        late: rows('[data-table=late] tr[data-late-dataset]', (r) => ({ dataset: r.dataset.lateDataset, window: r.dataset.window, events: +r.dataset.events, windows: +r.dataset.windows })),
        tests: rows('[data-table=tests] tr[data-status]', (r) => ({ status: r.dataset.status, test: r.dataset.test })),
        balanced: document.querySelector('[data-kpi=balanced] .value').textContent,
        streamsKPI: document.querySelector('[data-kpi=streams] .value').textContent,
        chartPoints: points,
        filtersHidden: document.getElementById('filters').hidden,
        errors: window.pulse.errors.slice(),
      };
    });
    await page.screenshot({ path: cfg.shots.pipeline, fullPage: true });
  } finally {
    await ctx.close();
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
