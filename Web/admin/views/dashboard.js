// Dashboard: the tenant's headline figures across the services over the last 7 UTC days (for those who may read the
// analytics, linking to that page), vouchers issued / sent / redeemed / expired per day over a chosen range (SVG
// chart with a table for screen readers), the stations with the most redemptions, and how full the code space is.
import { h, clear } from '../lib/dom.js';
import { barChart, redrawOnResize, rangeProblem } from '../lib/chart.js';
import { number, isoDay, addDays, daysBetween, longDay, dateTime } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, errorText, table } from '../lib/ui.js';
import { utcToday, countOf, rateText, tile, servicesText } from './analytics.js';

const SERIES = ['issued', 'sent', 'redeemed', 'expired'];
const MAX_DAYS = 366;

export async function render(ctx) {
  const { t, api, root, query } = ctx;
  const today = isoDay();
  const fromInput = h('input', { type: 'date', name: 'from', id: 'range-from', required: true, max: today, value: query.get('from') || addDays(today, -13) });
  const toInput = h('input', { type: 'date', name: 'to', id: 'range-to', required: true, value: query.get('to') || today });
  const status = statusLine();
  const form = h('form', { class: 'filters', id: 'range-form' },
    field(t('dashboard.from'), fromInput), field(t('dashboard.to'), toInput),
    h('div', { class: 'filters-actions' }, button(t('dashboard.show'), { kind: 'primary', type: 'submit' })));

  const chartBox = h('div', { class: 'chart-box', id: 'chart' });
  const legend = h('ul', { class: 'legend', 'aria-label': t('dashboard.legend') },
    SERIES.map((key) => h('li', {}, h('span', { class: `swatch series-${key}`, 'aria-hidden': 'true' }), t(`series.${key}`))));
  const tableBox = h('details', { class: 'chart-table' }, h('summary', {}, t('dashboard.asTable')));
  const stationsBox = h('div', {});
  const codeSpaceBox = h('div', {});
  const canAnalytics = ctx.can('GET /v1/analytics/daily');
  const headlineBox = h('div', { id: 'headline' });

  root.append(
    pageHeader(t('dashboard.title')),
    canAnalytics ? section(t('headline.title'), headlineBox) : null,
    form, status,
    section(t('dashboard.activity'), legend, chartBox, tableBox),
    h('div', { class: 'grid-2' },
      section(t('dashboard.topStations'), stationsBox),
      section(t('dashboard.codeSpace'), codeSpaceBox)));

  let drawn = null;  // what the chart shows, redrawn when its box changes width
  const draw = () => {
    if (!drawn) return;
    const width = Math.max(300, Math.floor(chartBox.clientWidth || 600));
    const total = (key) => drawn.data.days.reduce((sum, d) => sum + (d[key] || 0), 0);
    clear(chartBox).append(barChart({
      days: drawn.days,
      byDay: new Map(drawn.data.days.map((d) => [d.day, d])),
      series: SERIES.map((key) => ({ key, label: t(`series.${key}`) })),
      width,
      title: t('dashboard.chartTitle', { from: longDay(drawn.data.from || drawn.from), to: longDay(drawn.data.to || drawn.to) }),
      description: t('dashboard.chartSummary', Object.fromEntries(SERIES.map((k) => [k, number(total(k))]))),
      axisX: t('dashboard.axisDay'),
      axisY: t('dashboard.axisVouchers'),
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
    const result = await api('GET', `/v1/voucher-metrics?from=${from}&to=${to}`);
    if (!result.ok) return say(status, errorText(t, result), 'error');
    const data = result.data;
    drawn = { data, days: daysBetween(data.from || from, data.to || to, MAX_DAYS), from, to };
    draw();
    clear(tableBox).append(h('summary', {}, t('dashboard.asTable')), table({
      caption: t('dashboard.tableCaption'),
      columns: [{ label: t('dashboard.day'), cell: (d) => longDay(d.day) },
        ...SERIES.map((key) => ({ label: t(`series.${key}`), cell: (d) => number(d[key] || 0), className: 'num' }))],
      rows: data.days,
      empty: t('dashboard.noActivity'),
    }));
    renderStations(data.stations || []);
    say(status, data.days.length ? t('dashboard.loaded', { days: data.days.length }) : t('dashboard.noActivity'));
  }

  function renderStations(stations) {
    clear(stationsBox);
    if (!stations.length) return stationsBox.append(h('p', { class: 'empty' }, t('dashboard.noRedemptions')));
    const top = stations.slice(0, 10);
    const max = Math.max(1, ...top.map((s) => s.redemptions));
    stationsBox.append(h('ol', { class: 'ranking', id: 'top-stations' }, top.map((s) => {
      const meter = h('meter', { min: '0', max: String(max), value: String(s.redemptions), 'aria-hidden': 'true' });
      const name = ctx.can('GET /v1/stations/{id}')
        ? h('a', { href: `#/stations/${encodeURIComponent(s.stationId)}` }, s.stationName) : s.stationName;
      return h('li', {},
        h('span', { class: 'ranking-name' }, name),
        h('span', { class: 'ranking-value' }, t('dashboard.redemptions', { count: number(s.redemptions) })),
        meter,
        s.lastRedeemedAt ? h('span', { class: 'hint' }, t('dashboard.lastRedeemed', { when: dateTime(s.lastRedeemedAt) })) : null);
    })));
  }

  async function loadCodeSpace() {
    if (!ctx.can('GET /v1/vouchers/code-space')) return codeSpaceBox.append(h('p', { class: 'empty' }, t('page.forbiddenBody')));
    const result = await api('GET', '/v1/vouchers/code-space');
    if (!result.ok) return codeSpaceBox.append(h('p', { class: 'form-error' }, errorText(t, result)));
    const { used, capacity, fractionUsed } = result.data;
    const percent = new Intl.NumberFormat(ctx.language, { style: 'percent', maximumFractionDigits: fractionUsed < 0.001 ? 4 : 1 }).format(fractionUsed);
    const meterId = 'code-space-meter';
    codeSpaceBox.append(
      h('label', { for: meterId, class: 'meter-label' }, t('dashboard.codeSpaceUsed', { percent })),
      h('meter', { id: meterId, min: '0', max: '1', low: '0.5', high: '0.8', optimum: '0', value: String(fractionUsed), class: 'meter-wide' }, percent),
      h('p', {}, t('dashboard.codeSpaceText', { used: number(used), capacity: number(capacity) })),
      h('p', { class: 'hint' }, t(ctx.isStaff ? 'dashboard.codeSpacePlatform' : 'dashboard.codeSpaceTenant')));
  }

  /** The last 7 UTC days across the services: the analytics' totals, a few of them. */
  async function loadHeadline() {
    const to = utcToday();
    const from = addDays(to, -6);
    const result = await api('GET', `/v1/analytics/daily?from=${from}&to=${to}`);
    if (!result.ok) return headlineBox.append(h('p', { class: 'form-error' }, errorText(t, result)));
    const totals = result.data.totals;
    const messages = countOf(totals, 'messagesIn') + countOf(totals, 'messagesOut');
    clear(headlineBox).append(...[
      h('dl', { class: 'totals', dataset: { from, to } },
        tile(t('headline.conversations'), 'conversations', totals.conversations, number(totals.conversations)),
        tile(t('headline.messages'), 'messages', messages, number(messages)),
        tile(t('headline.bookings'), 'bookings', totals.bookings, number(totals.bookings)),
        tile(t('headline.calls'), 'calls', totals.calls, number(totals.calls)),
        tile(t('headline.leads'), 'leadsCreated', totals.leadsCreated, number(totals.leadsCreated)),
        tile(t('headline.conversion'), 'conversionRate', totals.conversionRate, rateText(totals.conversionRate)),
        tile(t('headline.vouchers'), 'vouchersIssued', totals.vouchersIssued, number(totals.vouchersIssued))),
      result.data.partial.length ? h('p', { class: 'notice', id: 'headline-partial' }, t('daily.partial', { services: servicesText(t, result.data.partial) })) : null,
      h('p', {}, h('a', { href: `#/analytics?from=${from}&to=${to}`, id: 'headline-more' }, t('headline.more'))),
    ].filter(Boolean));
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); load(); });
  await Promise.all([load(), loadCodeSpace(), canAnalytics ? loadHeadline() : null]);
}
