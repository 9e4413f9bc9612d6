// Messaging analytics over a range of UTC days (the last 30 by default): messages in and out, messages per day by
// direction (SVG chart with a table for screen readers), counts by channel kind, direction and status, why sends
// failed, and what sending cost per currency.
import { h, clear } from '../lib/dom.js';
import { barChart, redrawOnResize, rangeProblem } from '../lib/chart.js';
import { number, money, addDays, daysBetween, longDay } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, errorText, table } from '../lib/ui.js';

const DIRECTIONS = ['inbound', 'outbound'];
const MAX_DAYS = 366;

/** Today as a UTC calendar day: the endpoint counts UTC days. */
const utcToday = () => new Date().toISOString().slice(0, 10);

/** The rows of `days` summed per key of `keyOf`, as [{key, count}] largest first. */
function sumBy(rows, keyOf) {
  const sums = new Map();
  for (const row of rows) {
    const key = keyOf(row);
    sums.set(key, (sums.get(key) || 0) + row.count);
  }
  return [...sums.entries()].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

export async function render(ctx) {
  const { t, api, root, query } = ctx;
  const today = utcToday();
  const fromInput = h('input', { type: 'date', id: 'analytics-from', required: true, max: today, value: query.get('from') || addDays(today, -29) });
  const toInput = h('input', { type: 'date', id: 'analytics-to', required: true, value: query.get('to') || today });
  const status = statusLine();
  status.id = 'analytics-status';
  const form = h('form', { class: 'filters', id: 'analytics-form' },
    field(t('dashboard.from'), fromInput), field(t('dashboard.to'), toInput, { hint: t('analytics.utcHint') }),
    h('div', { class: 'filters-actions' }, button(t('dashboard.show'), { kind: 'primary', type: 'submit' })));
  const totalsBox = h('div', { id: 'analytics-totals' });
  const chartBox = h('div', { class: 'chart-box', id: 'analytics-chart' });
  const legend = h('ul', { class: 'legend', 'aria-label': t('dashboard.legend') },
    DIRECTIONS.map((key) => h('li', {}, h('span', { class: `swatch series-${key}`, 'aria-hidden': 'true' }), t(`direction.${key}`))));
  const tableBox = h('details', { class: 'chart-table' }, h('summary', {}, t('dashboard.asTable')));
  const byStatusBox = h('div', { id: 'analytics-by-status' });
  const failuresBox = h('div', { id: 'analytics-failures' });
  const costsBox = h('div', { id: 'analytics-costs' });

  root.append(
    pageHeader(t('analytics.title')),
    form, status, totalsBox,
    section(t('analytics.perDay'), legend, chartBox, tableBox),
    section(t('analytics.byStatus'), byStatusBox),
    h('div', { class: 'grid-2' }, section(t('analytics.failures'), failuresBox), section(t('analytics.costs'), costsBox)));

  let drawn = null;  // what the chart shows, redrawn when its box changes width
  const draw = () => {
    if (!drawn) return;
    const width = Math.max(300, Math.floor(chartBox.clientWidth || 600));
    clear(chartBox).append(barChart({
      days: drawn.days,
      byDay: drawn.byDay,
      series: DIRECTIONS.map((key) => ({ key, label: t(`direction.${key}`) })),
      width,
      title: t('analytics.chartTitle', { from: longDay(drawn.from), to: longDay(drawn.to) }),
      description: t('analytics.chartSummary', { inbound: number(drawn.totals.inbound || 0), outbound: number(drawn.totals.outbound || 0) }),
      axisX: t('dashboard.axisDay'),
      axisY: t('analytics.axisMessages'),
      valueText: (day, series, value) => t('dashboard.barTitle', { day, series, value: number(value) }),
    }));
  };
  redrawOnResize(root, chartBox, draw);

  async function load() {
    const from = fromInput.value;
    const to = toInput.value;
    const problem = rangeProblem(from, to, MAX_DAYS);
    if (problem) return say(status, t(...problem), 'error');
    ctx.setQuery({ from, to });
    say(status, t('app.loading'));
    const result = await api('GET', `/v1/messaging/analytics?from=${from}&to=${to}`);
    if (!result.ok) return say(status, errorText(t, result), 'error');
    const data = result.data;
    const rows = data.days || [];
    // one bar per direction for each day the API returned
    const byDay = new Map();
    for (const row of rows) {
      const day = byDay.get(row.day) || { day: row.day, inbound: 0, outbound: 0 };
      day[row.direction] = (day[row.direction] || 0) + row.count;
      byDay.set(row.day, day);
    }
    const totals = data.totals || {};
    drawn = { days: daysBetween(data.from || from, data.to || to, MAX_DAYS), byDay, from: data.from || from, to: data.to || to, totals };
    draw();
    drawTotals(totals);
    clear(tableBox).append(h('summary', {}, t('dashboard.asTable')), table({
      caption: t('analytics.tableCaption'),
      columns: [{ label: t('dashboard.day'), cell: (d) => longDay(d.day) },
        ...DIRECTIONS.map((key) => ({ label: t(`direction.${key}`), cell: (d) => number(d[key] || 0), className: 'num' }))],
      rows: [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day)),
      empty: t('analytics.none'),
    }));
    drawByStatus(rows);
    drawFailures(data.failures || []);
    drawCosts(data.costs || []);
    say(status, rows.length ? t('dashboard.loaded', { days: byDay.size }) : t('analytics.none'));
  }

  function drawTotals(totals) {
    const tile = (key) => h('div', { class: 'total', dataset: { total: key, value: String(totals[key] || 0) } },
      h('dt', {}, t(`analytics.total.${key}`)), h('dd', {}, number(totals[key] || 0)));
    clear(totalsBox).append(h('dl', { class: 'totals' }, ['inbound', 'outbound', 'failed'].map(tile)));
  }

  function drawByStatus(rows) {
    const sums = sumBy(rows, (r) => [r.channelKind, r.direction, r.status].join('|')).map(({ key, count }) => {
      const [channelKind, direction, state] = key.split('|');
      return { id: key, channelKind, direction, status: state, count };
    });
    clear(byStatusBox).append(table({
      caption: t('analytics.byStatus'), captionHidden: true, rows: sums, empty: t('analytics.none'),
      columns: [
        { label: t('channels.kind'), cell: (r) => t(`channelKind.${r.channelKind}`) },
        { label: t('analytics.direction'), cell: (r) => t(`direction.${r.direction}`) },
        { label: t('field.status'), cell: (r) => t(`messageStatus.${r.status}`) },
        { label: t('analytics.count'), className: 'num', cell: (r) => number(r.count) },
      ],
    }));
  }

  function drawFailures(failures) {
    clear(failuresBox).append(table({
      caption: t('analytics.failures'), captionHidden: true, rows: failures.map((f) => ({ ...f, id: f.code })), empty: t('analytics.noFailures'),
      columns: [
        { label: t('analytics.code'), cell: (f) => h('code', {}, f.code) },
        { label: t('field.reason'), cell: (f) => f.reason || '—' },
        { label: t('analytics.count'), className: 'num', cell: (f) => number(f.count) },
      ],
    }));
  }

  function drawCosts(costs) {
    clear(costsBox).append(table({
      caption: t('analytics.costs'), captionHidden: true, rows: costs.map((c) => ({ ...c, id: c.currency })), empty: t('analytics.noCosts'),
      columns: [
        { label: t('analytics.currency'), cell: (c) => c.currency },
        { label: t('field.amount'), className: 'num', cell: (c) => money(c.amount, c.currency) },
      ],
    }));
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); load(); });
  await load();
}
