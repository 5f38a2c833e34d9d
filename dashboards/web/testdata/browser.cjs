// Drives the dashboard in headless Chromium for browser_test.go and prints
// what it saw as JSON on stdout; the Go test makes the assertions.
//
//   node browser.cjs '<json config>'
//
// config: {url, playwright (folder of playwright-core), chromium, userDataDir,
//          shots: {dashboard, pipeline}, platform, probe}
'use strict';

const cfg = JSON.parse(process.argv[2]);
const { chromium } = require(cfg.playwright);

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

// cards reads every panel card: its state and data attributes, and the
// data points and sums of the series of its ECharts instance.
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
          const y = Array.isArray(v) ? v[1] : (v && typeof v === 'object' ? v.value : v);
          if (y !== null && y !== undefined && y !== '-') { points++; sum += Number(y); }
        }
      }
      const cat = [].concat(opt.xAxis || [], opt.yAxis || []).find((a) => a.type === 'category');
      categories = cat ? cat.data : [];
    }
    const kpi = c.querySelector('.kpi-value');
    const head = c.querySelector('.headline');
    return {
      view, state: c.dataset.state, rows: +c.dataset.rows, points: +c.dataset.points,
      hasChart: !!chart, chartPoints: points, chartSum: sum, series, categories,
      kpi: kpi ? kpi.dataset.value : null,
      headline: head && head.dataset.value !== undefined ? Number(head.dataset.value) : null,
      headlineText: head ? head.textContent : '',
      notApplied: [...c.querySelectorAll('[data-not-applied]')].map((e) => e.dataset.notApplied),
      canvas: !!c.querySelector('canvas'),
    };
  });
}

async function waitGeneration(page, after, timeout) {
  await page.waitForFunction((g) => window.pulse && window.pulse.generation > g, after, { timeout });
  return page.evaluate(() => window.pulse.generation);
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

    if (cfg.mode === 'views') {
      // One pass over a page opened with a filter in its URL: every kind
      // of chart renders, and panels say which filters do not apply.
      await page.goto(cfg.url + '?refresh=0&platform=' + encodeURIComponent(cfg.platform), { waitUntil: 'load' });
      await waitGeneration(page, 0, 30000);
      await page.waitForTimeout(400);
      out.initial = {
        refresh: await page.$eval('#refresh', (s) => s.value),
        platformSelect: await page.$eval('#f-platform', (s) => s.value),
        errors: await page.evaluate(() => window.pulse.errors.slice()),
        cards: await page.evaluate(cards),
      };
      await page.screenshot({ path: cfg.shots.views, fullPage: true });
    } else {
      await fullPass(page, out);
    }
  } finally {
    await ctx.close();
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});

// fullPass: the dashboard over the batch warehouse, then the pipeline page.
async function fullPass(page, out) {
  // 1. The page loads and every chart renders.
  await page.goto(cfg.url + '?refresh=5', { waitUntil: 'load' });
  let g = await waitGeneration(page, 0, 30000);
  await page.waitForTimeout(400); // let the charts' first frame paint
  out.initial = {
    title: await page.title(),
    refresh: await page.$eval('#refresh', (s) => s.value),
    platforms: await page.$$eval('#f-platform option', (os) => os.map((o) => o.value).filter(Boolean)),
    missingText: await page.$eval('.missing', (e) => e.textContent).catch(() => ''),
    errors: await page.evaluate(() => window.pulse.errors.slice()),
    cards: await page.evaluate(cards),
  };
  await page.screenshot({ path: cfg.shots.dashboard, fullPage: true });

  // 2. It refreshes by itself (every 5 s here, from ?refresh=5).
  const t0 = Date.now();
  g = await waitGeneration(page, g, 15000);
  out.autoRefreshMs = Date.now() - t0;

  // 3. A platform filter changes the numbers.
  await page.selectOption('#f-platform', cfg.platform);
  await page.waitForFunction((p) => {
    const cs = [...window.pulse.state.cards.values()];
    return !window.pulse.state.running && cs.length > 0 && cs.every((c) => c.data && c.data.filters.platform[0] === p);
  }, cfg.platform, { timeout: 20000 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: cfg.shots.filtered, fullPage: true });
  out.filtered = {
    url: page.url(),
    cards: await page.evaluate(cards),
    api: await page.evaluate(async ([v, p]) => (await fetch('/api/panels/' + v + '?platform=' + encodeURIComponent(p))).json(), [cfg.probe, cfg.platform]),
  };

  // 4. The pipeline-health page.
  await page.goto(cfg.url + 'pipeline?refresh=5', { waitUntil: 'load' });
  await waitGeneration(page, 0, 30000);
  await page.waitForTimeout(400);
  out.pipeline = await page.evaluate(() => {
    const chart = window.pulse.charts.__pipeline;
    let points = 0;
    if (chart) for (const s of chart.getOption().series) points += s.data.filter((v) => v !== null && v !== undefined).length;
    return {
      datasets: [...document.querySelectorAll('tr[data-dataset]')].map((r) => ({ dataset: r.dataset.dataset, received: +r.dataset.received, loaded: +r.dataset.loaded })),
      tests: [...document.querySelectorAll('[data-table=tests] tr[data-status]')].map((r) => r.dataset.status),
      balanced: document.querySelector('[data-kpi=balanced] .value').textContent,
      received: document.querySelector('[data-kpi=received] .value').textContent,
      chartPoints: points,
      filtersHidden: document.getElementById('filters').hidden,
      errors: window.pulse.errors.slice(),
    };
  });
  await page.screenshot({ path: cfg.shots.pipeline, fullPage: true });
}
