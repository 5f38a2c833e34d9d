// Drives the dashboard in headless Chromium for browser_test.go and prints
// what it saw as JSON on stdout; the Go test makes the assertions.
//
//   node browser.cjs '<json config>'
//
// config: {url, playwright (folder of playwright-core), chromium, userDataDir,
//          shots: {dashboard, filtered, dated, batchday, measures, pipeline}, sectionShots (folder),
//          platform, day (YYYY-MM-DD), batchDay (YYYY-MM-DD), watchMs}
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
    // Every axis the chart draws, with its title and how its labels are laid out.
    const axes = [];
    if (chart) {
      const opt = chart.getOption();
      for (const [dim, list] of [['x', opt.xAxis || []], ['y', opt.yAxis || []]]) {
        for (const a of list) {
          axes.push({ dim, type: a.type, name: a.name || '', labels: !(a.axisLabel && a.axisLabel.show === false),
            interval: a.axisLabel ? a.axisLabel.interval : null, hideOverlap: !!(a.axisLabel && a.axisLabel.hideOverlap),
            count: a.type === 'category' ? (a.data || []).length : 0 });
        }
      }
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
      axes,
      grids: chart ? [].concat(chart.getOption().grid || []).length : 0,
      headColumn: head ? head.dataset.column || '' : '',
      emptyText: c.querySelector('.empty-state') ? c.querySelector('.empty-state').textContent : '',
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

// sectionsNow reads each section: its refresh select, span line, and the
// note it shows when a date range leaves it without rows.
function sectionsNow() {
  return [...document.querySelectorAll('section.group')].map((s) => ({
    id: s.dataset.group,
    refresh: s.querySelector('[data-role=section-refresh]').value,
    span: s.querySelector('.span-line').textContent,
    empty: s.dataset.empty === 'true',
    banner: s.querySelector('.section-empty').hidden ? '' : s.querySelector('.section-empty').textContent,
  }));
}

// pageText is what a reader sees, to check that no day is written in a
// locale format.
function pageText() {
  const inputs = [...document.querySelectorAll('#filters input')].filter((i) => i.type !== 'date').map((i) => i.type + ':' + i.value);
  return { text: document.body.innerText, inputs };
}

async function snapshot(page, query) {
  return {
    url: page.url(),
    errors: await page.evaluate(() => window.pulse.errors.slice()),
    cards: await page.evaluate(cards),
    sections: await page.evaluate(sectionsNow),
    page: await page.evaluate(pageText),
    api: await page.evaluate(apiAll, query),
  };
}

// setDays types a date range into the filter bar as a user would.
async function setDays(page, from, to) {
  for (const [id, v] of [['#f-from', from], ['#f-to', to]]) {
    await page.fill(id, v);
    await page.dispatchEvent(id, 'change');
  }
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

    // 1. The page loads with each section at its seed's refresh rate and
    // every chart renders.
    await page.goto(cfg.url, { waitUntil: 'load' });
    let g = await waitGeneration(page, 0, 30000);
    const t0 = Date.now();
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

    // 2. Each section refreshes by itself at its own rate: watch for a while.
    if (Date.now() - t0 < cfg.watchMs) await page.waitForTimeout(cfg.watchMs - (Date.now() - t0));
    out.watchedMs = Date.now() - t0;
    out.refreshes = await page.evaluate(() => JSON.parse(JSON.stringify(window.pulse.sections)));

    // 3. The headline follows the measure picked, and measures on scales
    // of their own get axes of their own.
    const pickMeasure = async (view, measure) => {
      await page.selectOption(`article.card[data-view="${view}"] select[data-role=measure]`, measure);
      await page.waitForTimeout(300);
    };
    await pickMeasure('COMMUNITY_TRENDS', 'AVG_ENGAGEMENT');
    await pickMeasure('MART_MOVIE_STATS', 'PURCHASES');
    await pickMeasure('ENGAGEMENT_BY_PLATFORM', 'AVG_ENGAGEMENT');
    await pickMeasure('ENGAGEMENT_BY_HOUR', 'TOTAL_ENGAGEMENT');
    await page.waitForTimeout(400);
    out.measures = await page.evaluate(cards);
    await page.locator('section.group[data-group="engagement"]').screenshot({ path: cfg.shots.measures });
    for (const [view, m] of [['COMMUNITY_TRENDS', 'TOTAL_ENGAGEMENT'], ['MART_MOVIE_STATS', 'TOTAL_SALES'],
      ['ENGAGEMENT_BY_PLATFORM', 'INTERACTIONS'], ['ENGAGEMENT_BY_HOUR', 'INTERACTIONS']]) await pickMeasure(view, m);

    // 4. A platform filter changes the numbers (every section at 5 s from here).
    await page.selectOption('#refresh', '5');
    out.allAtFive = await page.evaluate(sectionsNow);
    await page.selectOption('#f-platform', cfg.platform);
    await settled(page, { platform: cfg.platform, from: '', to: '' });
    out.filtered = await snapshot(page, 'platform=' + encodeURIComponent(cfg.platform));
    await page.screenshot({ path: cfg.shots.filtered, fullPage: true });

    // 5. A date filter (one day of the stream) instead, typed as ISO days.
    await page.click('#f-clear');
    await setDays(page, cfg.day, cfg.day);
    await settled(page, { platform: '', from: cfg.day, to: cfg.day });
    out.dated = await snapshot(page, 'from=' + cfg.day + '&to=' + cfg.day);
    await page.screenshot({ path: cfg.shots.dated, fullPage: true });

    // 6. A batch day: the stream sections have nothing that day and say so.
    await setDays(page, cfg.batchDay, cfg.batchDay);
    await settled(page, { platform: '', from: cfg.batchDay, to: cfg.batchDay });
    out.batchday = await snapshot(page, 'from=' + cfg.batchDay + '&to=' + cfg.batchDay);
    await page.screenshot({ path: cfg.shots.batchday, fullPage: true });

    // 7. A day written in another format is refused, not applied.
    await page.fill('#f-from', '02/06/2024');
    await page.dispatchEvent('#f-from', 'change');
    await page.waitForTimeout(300);
    out.badDay = await page.evaluate(() => ({ invalid: document.getElementById('f-from').closest('.field').classList.contains('invalid'),
      from: window.pulse.state.filters.from }));

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
        testsPager: document.querySelector('[data-pager=tests] .pager-info') ? document.querySelector('[data-pager=tests] .pager-info').textContent : '',
        balanced: document.querySelector('[data-kpi=balanced] .value').textContent,
        streamsKPI: document.querySelector('[data-kpi=streams] .value').textContent,
        chartPoints: points,
        filtersHidden: document.getElementById('filters').hidden,
        errors: window.pulse.errors.slice(),
      };
    });
    await page.screenshot({ path: cfg.shots.pipeline, fullPage: true });
    // The data tests page through, a page at a time.
    out.pipeline.testPages = [];
    for (let i = 0; i < 20; i++) {
      out.pipeline.testPages.push(await page.$$eval('[data-table=tests] tr[data-status]', (rs) => rs.map((r) => r.dataset.test)));
      const next = await page.$('[data-pager=tests] button[data-dir=next]:not([disabled])');
      if (!next) break;
      await next.click();
    }
  } finally {
    await ctx.close();
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
