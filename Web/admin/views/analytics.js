// Analytics: each day's figures across the services over a range of UTC days (the last 30 by default, at most 92):
// the range's totals as headline numbers (conversations and messages, calls, bookings, leads and the conversion rate,
// vouchers, the AI's cost in US$ and the providers' per currency), a chart per subject (plain SVG, every day's figures
// also as a table for screen readers), the messages per channel, a warning naming the services that could not count
// (their figures are 0 until they can), and the API's CSV of the range. The range is the API's to judge: a refusal is
// said as it gave it.
import { h, clear } from '../lib/dom.js';
import { barChart, redrawOnResize } from '../lib/chart.js';
import { number, addDays, daysBetween, longDay } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, errorText, table } from '../lib/ui.js';
import { usd } from './costs.js';
import { percent, valueText } from './leads-shared.js';

const MAX_DAYS = 92;
// the charts' colours: the palette the other charts use, one per series in turn
const PALETTE = ['--s-issued', '--s-sent', '--s-redeemed', '--s-expired'];
export const CHARTS = [
  { id: 'messages', series: ['conversations', 'messagesIn', 'messagesOut'] },
  { id: 'calls', series: ['callsSuccessful', 'callsFailed'] },
  { id: 'bookings', series: ['bookings', 'cancellations', 'completed', 'noShows'] },
  { id: 'leads', series: ['leadsCreated', 'leadsConverted'] },
  { id: 'vouchers', series: ['vouchersIssued', 'vouchersRedeemed'] },
];
/** The figures that are counts, in the order the totals and the table show them. */
const COUNTS = ['conversations', 'messagesIn', 'messagesOut', 'sms', 'failedSends', 'calls', 'callsSuccessful', 'callsFailed', 'bookings',
  'cancellations', 'completed', 'noShows', 'leadsCreated', 'leadsConverted', 'vouchersIssued', 'vouchersRedeemed'];

/** Today as a UTC calendar day: the endpoint counts UTC days. */
export const utcToday = () => new Date().toISOString().slice(0, 10);

/** A figure of a day as one number: the messages, kept per channel, summed. */
export function countOf(figures, key) {
  const value = figures[key];
  if (value && typeof value === 'object') return Object.values(value).reduce((sum, n) => sum + n, 0);
  return value || 0;
}

/** The conversion rate (0–1, or null when no lead came in) in words. */
export const rateText = (rate) => (rate == null ? '—' : percent(rate));

/** The services that could not count, in words. */
export function servicesText(t, partial) {
  return partial.map((s) => { const name = t(`daily.service.${s}`); return name === `daily.service.${s}` ? s : name; }).join(', ');
}

/** A headline number: its words, with the API's value in data-value (what tests and tools compare). */
export function tile(label, key, value, text) {
  return h('div', { class: 'total', dataset: { total: key, value: String(value ?? '') } }, h('dt', {}, label), h('dd', {}, text));
}

export async function render(ctx) {
  const { t, api, root, query } = ctx;
  const today = utcToday();
  const fromInput = h('input', { type: 'date', id: 'daily-from', required: true, max: today, value: query.get('from') || addDays(today, -29) });
  const toInput = h('input', { type: 'date', id: 'daily-to', required: true, value: query.get('to') || today });
  const status = statusLine();
  status.id = 'daily-status';
  const exportButton = button(t('costs.export'), { id: 'daily-export' });
  const download = h('a', { id: 'daily-download', hidden: true, class: 'download' }, t('costs.download'));
  const form = h('form', { class: 'filters', id: 'daily-form' },
    field(t('dashboard.from'), fromInput), field(t('dashboard.to'), toInput, { hint: t('daily.rangeHint', { days: MAX_DAYS }) }),
    h('div', { class: 'filters-actions' }, button(t('dashboard.show'), { kind: 'primary', type: 'submit', id: 'daily-show' }), exportButton));
  const partialBox = h('div', { id: 'daily-partial-box' });
  const totalsBox = h('div', { id: 'daily-totals' });
  const colour = (i) => `var(${PALETTE[i % PALETTE.length]})`;
  const charts = CHARTS.map((c) => {
    const series = c.series.map((key) => ({ key, label: t(`daily.figure.${key}`) }));
    // colours through the CSSOM (the CSP allows no inline style attributes)
    const legend = h('ul', { class: 'legend', 'aria-label': t('dashboard.legend') }, series.map((sr, i) => {
      const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.background = colour(i);
      return h('li', {}, swatch, sr.label);
    }));
    return { ...c, series, legend, box: h('div', { class: 'chart-box', id: `daily-chart-${c.id}` }) };
  });
  const channelsBox = h('div', { id: 'daily-channels' });
  const tableBox = h('details', { class: 'chart-table', id: 'daily-table' }, h('summary', {}, t('dashboard.asTable')));

  root.append(
    pageHeader(t('daily.title')),
    h('p', { class: 'hint' }, t('daily.intro')),
    form, status, download, partialBox, totalsBox,
    h('div', { class: 'grid-2' }, charts.map((c) => section(t(`daily.chart.${c.id}`), c.legend, c.box))),
    section(t('daily.channels'), channelsBox),
    section(t('daily.everyDay'), tableBox));

  let report = null;  // what the charts show, each redrawn when its box changes width
  const drawChart = ({ id, series, box }) => {
    if (!report) return;
    const days = daysBetween(report.from, report.to, MAX_DAYS);
    const byDay = new Map(report.days.map((d) => [d.day, Object.fromEntries(series.map(({ key }) => [key, countOf(d, key)]))]));
    const subject = t(`daily.chart.${id}`);
    const svg = barChart({
      days, byDay, series, width: Math.max(300, Math.floor(box.clientWidth || 500)),
      title: t('daily.chartTitle', { subject, from: longDay(report.from), to: longDay(report.to) }),
      description: t('daily.chartSummary', { totals: series.map((sr) => `${sr.label} ${number(countOf(report.totals, sr.key))}`).join(', ') }),
      axisX: t('dashboard.axisDay'),
      axisY: subject,
      valueText: (day, label, value) => t('dashboard.barTitle', { day, series: label, value: number(value) }),
    });
    series.forEach((sr, i) => { for (const bar of svg.querySelectorAll(`rect.series-${sr.key}`)) bar.style.fill = colour(i); });
    clear(box).append(svg);
  };
  for (const chart of charts) redrawOnResize(root, chart.box, () => drawChart(chart));

  function drawTotals(totals) {
    const providers = valueText(totals.providerCostMinor);
    clear(totalsBox).append(h('dl', { class: 'totals' },
      COUNTS.map((key) => tile(t(`daily.figure.${key}`), key, countOf(totals, key), number(countOf(totals, key)))),
      tile(t('daily.figure.conversionRate'), 'conversionRate', totals.conversionRate, rateText(totals.conversionRate)),
      tile(t('daily.figure.llmCost'), 'llmCostMicros', totals.llmCostMicros, usd(totals.llmCostMicros)),
      tile(t('daily.figure.providerCosts'), 'providerCostMinor', JSON.stringify(totals.providerCostMinor || {}), providers || '—')));
  }

  function drawChannels(totals) {
    const kinds = [...new Set([...Object.keys(totals.messagesIn || {}), ...Object.keys(totals.messagesOut || {})])].sort();
    clear(channelsBox).append(table({
      caption: t('daily.channels'), captionHidden: true, empty: t('daily.noMessages'),
      rows: kinds.map((kind) => ({ id: kind, kind, in: (totals.messagesIn || {})[kind] || 0, out: (totals.messagesOut || {})[kind] || 0 })),
      columns: [
        { label: t('channels.kind'), cell: (r) => { const name = t(`channelKind.${r.kind}`); return name === `channelKind.${r.kind}` ? r.kind : name; } },
        { label: t('daily.figure.messagesIn'), className: 'num', cell: (r) => number(r.in) },
        { label: t('daily.figure.messagesOut'), className: 'num', cell: (r) => number(r.out) },
      ],
    }));
  }

  function drawTable(data) {
    clear(tableBox).append(h('summary', {}, t('dashboard.asTable')), table({
      caption: t('daily.tableCaption', { from: longDay(data.from), to: longDay(data.to) }),
      rows: data.days.map((d) => ({ ...d, id: d.day })),
      columns: [{ label: t('dashboard.day'), cell: (d) => longDay(d.day) },
        ...COUNTS.map((key) => ({ label: t(`daily.figure.${key}`), className: 'num', cell: (d) => number(countOf(d, key)) })),
        { label: t('daily.figure.conversionRate'), className: 'num', cell: (d) => rateText(d.conversionRate) },
        { label: t('daily.figure.llmCost'), className: 'num', cell: (d) => usd(d.llmCostMicros) },
        { label: t('daily.figure.providerCosts'), className: 'num', cell: (d) => valueText(d.providerCostMinor) || '—' }],
    }));
  }

  function range() {
    if (!fromInput.value || !toInput.value) { say(status, t('dashboard.badRange'), 'error'); return null; }
    return `from=${fromInput.value}&to=${toInput.value}`;
  }

  /** A refusal of the API: its words, and its code for who reads the page's markup. */
  function refused(result) {
    say(status, errorText(t, result), 'error');
    status.dataset.code = (result.error && result.error.code) || '';
  }

  async function load() {
    const qs = range();
    if (!qs) return;
    ctx.setQuery({ from: fromInput.value, to: toInput.value });
    say(status, t('app.loading'));
    status.dataset.code = '';
    const result = await api('GET', `/v1/analytics/daily?${qs}`);
    if (!ctx.isCurrent()) return;
    if (!result.ok) return refused(result);
    report = result.data;
    clear(partialBox);
    if (report.partial.length) {
      partialBox.append(h('p', { class: 'notice', role: 'alert', id: 'daily-partial', dataset: { services: report.partial.join(' ') } },
        t('daily.partial', { services: servicesText(t, report.partial) })));
    }
    drawTotals(report.totals);
    charts.forEach(drawChart);
    drawChannels(report.totals);
    drawTable(report);
    say(status, t('daily.loaded', { from: longDay(report.from), to: longDay(report.to) }));
  }

  // the figures as the API writes them as CSV, the same range
  exportButton.addEventListener('click', async () => {
    const qs = range();
    if (!qs) return;
    exportButton.disabled = true;
    const result = await api('GET', `/v1/analytics/daily?${qs}&format=csv`, { headers: { Accept: 'text/csv' } });
    exportButton.disabled = false;
    if (!result.ok) return refused(result);
    if (download.href) URL.revokeObjectURL(download.href);
    const file = new Blob([typeof result.data === 'string' ? result.data : ''], { type: 'text/csv' });
    download.href = URL.createObjectURL(file);
    download.dataset.bytes = String(file.size);
    download.download = `analytics-${fromInput.value}-${toInput.value}.csv`;
    download.hidden = false;
    download.click();
    say(status, t('costs.exported'), 'ok');
  });

  form.addEventListener('submit', (event) => { event.preventDefault(); load(); });
  await load();
}
