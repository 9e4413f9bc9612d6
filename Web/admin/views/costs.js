// LLM costs: this month's spend against the tenant's cap (and what replies get: the model, the cheap model near the
// cap, the offline responder at it), the alerts stored when a threshold was crossed, spend per day by model or by
// agent (SVG chart with a table for screen readers), the calls summed per day, model, agent or provider, a CSV
// export; then the tenant's own LLM providers (base URL, model, cheap model, a write-only API key shown by its hint)
// and the monthly cap.
import { h, clear } from '../lib/dom.js';
import { barChart, redrawOnResize, rangeProblem } from '../lib/chart.js';
import { number, addDays, daysBetween, longDay, dateTime, shortId } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, errorText, table, badge, select } from '../lib/ui.js';

const MAX_DAYS = 366;
const GROUPS = ['day', 'model', 'agent', 'provider'];
// the chart's colours: the palette the other charts use, one per series in turn
const PALETTE = ['--s-sent', '--s-issued', '--s-redeemed', '--s-inbound', '--s-outbound', '--s-expired'];
const MAX_SERIES = 6;

const utcToday = () => new Date().toISOString().slice(0, 10);

/** Micro-US$ as dollars: cents for sums, more digits for the small ones. */
export function usd(micros, language = document.documentElement.lang || 'en') {
  const value = Number(micros || 0) / 1e6;
  const digits = value !== 0 && Math.abs(value) < 0.01 ? 6 : 2;
  return new Intl.NumberFormat(language, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: digits }).format(value);
}

/** "25.50" (US$) as micro-US$, exactly (no floating point); null when it is not such an amount. */
export function microsOf(text) {
  const match = /^\s*(\d{1,7})(?:[.,](\d{1,6}))?\s*$/.exec(text || '');
  if (!match) return null;
  return Number(match[1]) * 1e6 + Number((match[2] || '').padEnd(6, '0'));
}

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const today = utcToday();
  const fromInput = h('input', { type: 'date', id: 'costs-from', required: true, max: today, value: query.get('from') || addDays(today, -29) });
  const toInput = h('input', { type: 'date', id: 'costs-to', required: true, value: query.get('to') || today });
  const groupSelect = select(GROUPS.map((g) => [g, t(`costs.group.${g}`)]), { id: 'costs-group', value: GROUPS.includes(query.get('groupBy')) ? query.get('groupBy') : 'model' });
  const status = statusLine();
  status.id = 'costs-status';
  const exportButton = button(t('costs.export'), { id: 'costs-export' });
  const download = h('a', { id: 'costs-download', hidden: true, class: 'download' }, t('costs.download'));
  const form = h('form', { class: 'filters', id: 'costs-form' },
    field(t('dashboard.from'), fromInput), field(t('dashboard.to'), toInput, { hint: t('analytics.utcHint') }),
    field(t('costs.groupBy'), groupSelect),
    h('div', { class: 'filters-actions' }, button(t('dashboard.show'), { kind: 'primary', type: 'submit' }), exportButton));
  const capBox = h('div', { id: 'costs-cap' });
  const alertsBox = h('div', { id: 'costs-alerts' });
  const bySelect = select([['model', t('costs.byModel')], ['agent', t('costs.byAgent')]], { id: 'costs-chart-by', value: 'model' });
  const legend = h('ul', { class: 'legend', id: 'costs-legend', 'aria-label': t('dashboard.legend') });
  const chartBox = h('div', { class: 'chart-box', id: 'costs-chart' });
  const chartTable = h('details', { class: 'chart-table' }, h('summary', {}, t('dashboard.asTable')));
  const rowsBox = h('div', { id: 'costs-rows' });
  const providersBox = h('div', { id: 'costs-providers' });

  root.append(
    pageHeader(t('costs.title')),
    h('p', { class: 'hint' }, t('costs.intro')),
    form, status, download,
    section(t('costs.thisMonth'), capBox, alertsBox),
    section(t('costs.perDay'), field(t('costs.chartBy'), bySelect), legend, chartBox, chartTable),
    section(t('costs.calls'), rowsBox),
    can('GET /v1/agent/providers') ? section(t('providers.title'), providersBox) : null);

  const agentNames = new Map();
  if (can('GET /v1/agents')) {
    const agents = await api('GET', '/v1/agents?limit=200');
    if (agents.ok) for (const a of agents.data.items) agentNames.set(a.id, a.name);
  }
  const nameOf = (by, key) => (by === 'agent' ? (key === 'none' ? t('costs.noAgent') : agentNames.get(key) || shortId(key)) : key);

  let report = null;
  const draw = () => {
    if (!report) return;
    const by = bySelect.value;
    const days = daysBetween(report.from, report.to, MAX_DAYS);
    // the biggest spenders get a bar each; the rest are summed as "others"
    const totals = new Map();
    for (const s of report.series.filter((x) => x.by === by)) totals.set(s.key, (totals.get(s.key) || 0) + s.costMicros);
    const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([key]) => key);
    const shown = ranked.slice(0, ranked.length > MAX_SERIES ? MAX_SERIES - 1 : MAX_SERIES);
    const seriesKey = (key) => (shown.includes(key) ? `s${shown.indexOf(key)}` : 'others');
    const series = shown.map((key, i) => ({ key: `s${i}`, label: nameOf(by, key) }));
    if (ranked.length > shown.length) series.push({ key: 'others', label: t('costs.others') });
    const byDay = new Map();
    for (const s of report.series.filter((x) => x.by === by)) {
      const day = byDay.get(s.day) || { day: s.day };
      const k = seriesKey(s.key);
      // the bars in US cents (a readable axis); the titles and the table say the exact amount
      day[k] = (day[k] || 0) + s.costMicros / 10000;
      byDay.set(s.day, day);
    }
    const colour = (i) => `var(${PALETTE[i % PALETTE.length]})`;
    // colours through the CSSOM (the CSP allows no inline style attributes)
    clear(legend).append(...series.map((sr, i) => {
      const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      swatch.style.background = colour(i);
      return h('li', { dataset: { series: sr.label } }, swatch, sr.label);
    }));
    const width = Math.max(300, Math.floor(chartBox.clientWidth || 600));
    const svg = barChart({
      days, byDay, series, width,
      title: t('costs.chartTitle', { from: longDay(report.from), to: longDay(report.to) }),
      description: t('costs.chartSummary', { total: usd(report.totals.costMicros) }),
      axisX: t('dashboard.axisDay'),
      axisY: t('costs.axisCents'),
      valueText: (day, label, value) => t('dashboard.barTitle', { day, series: label, value: usd(Math.round(value * 10000)) }),
    });
    series.forEach((sr, i) => { for (const bar of svg.querySelectorAll(`rect.series-${sr.key}`)) bar.style.fill = colour(i); });
    clear(chartBox).append(svg);
    clear(chartTable).append(h('summary', {}, t('dashboard.asTable')), table({
      caption: t('costs.chartTable'),
      columns: [{ label: t('dashboard.day'), cell: (d) => longDay(d.day) },
        ...series.map((sr) => ({ label: sr.label, className: 'num', cell: (d) => usd(Math.round((d[sr.key] || 0) * 10000)) }))],
      rows: [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day)),
      empty: t('costs.none'),
    }));
  };
  redrawOnResize(root, chartBox, draw);
  bySelect.addEventListener('change', draw);

  function drawCap(cap) {
    if (!cap) return clear(capBox).append(h('p', { class: 'hint' }, t('costs.platformWide')));
    const percent = cap.percent == null ? null : cap.percent;
    const kinds = { normal: 'active', cheap: 'expired', offline: 'void' };
    clear(capBox).append(
      h('dl', { class: 'totals' },
        h('div', { class: 'total', dataset: { total: 'spent', value: String(cap.spentMicros) } }, h('dt', {}, t('costs.spent')), h('dd', { id: 'costs-spent' }, usd(cap.spentMicros))),
        h('div', { class: 'total', dataset: { total: 'cap', value: String(cap.capMicros ?? '') } },
          h('dt', {}, t('costs.cap')), h('dd', { id: 'costs-cap-value' }, cap.capMicros == null ? t('costs.noCap') : usd(cap.capMicros))),
        h('div', { class: 'total', dataset: { total: 'percent', value: String(percent ?? '') } },
          h('dt', {}, t('costs.used')), h('dd', { id: 'costs-percent' }, percent == null ? '—' : `${number(percent)} %`))),
      cap.capMicros != null ? h('progress', { id: 'costs-progress', max: String(Math.max(1, cap.capMicros)), value: String(Math.min(cap.spentMicros, cap.capMicros)), 'aria-label': t('costs.used') }) : null,
      h('p', { id: 'costs-mode', dataset: { mode: cap.mode } }, badge(t(`costs.mode.${cap.mode}`), kinds[cap.mode]), ' ', t(`costs.modeHint.${cap.mode}`)));
  }

  function drawAlerts(alerts) {
    clear(alertsBox).append(table({
      caption: t('costs.alerts'), rows: alerts.map((a) => ({ ...a, id: `${a.month}-${a.scope}-${a.threshold}` })), empty: t('costs.noAlerts'),
      columns: [
        { label: t('costs.month'), cell: (a) => a.month },
        { label: t('costs.scope'), cell: (a) => (a.scope === 'tenant' ? t('costs.scopeTenant') : nameOf('agent', a.scope)) },
        { label: t('costs.threshold'), className: 'num', cell: (a) => `${a.threshold} %` },
        { label: t('costs.spent'), className: 'num', cell: (a) => usd(a.spentMicros) },
        { label: t('costs.cap'), className: 'num', cell: (a) => usd(a.capMicros) },
        { label: t('costs.when'), cell: (a) => dateTime(a.createdAt) },
      ],
    }));
  }

  function drawRows(data) {
    const group = data.groupBy;
    const label = (key) => (group === 'day' ? longDay(key) : group === 'agent' ? nameOf('agent', key) : key);
    const rows = [...data.rows.map((r) => ({ ...r, id: r.key, label: label(r.key) })), { ...data.totals, id: 'total', label: t('costs.total') }];
    clear(rowsBox).append(table({
      caption: t('costs.callsBy', { group: t(`costs.group.${group}`) }), rows: data.rows.length ? rows : [], empty: t('costs.none'),
      columns: [
        { label: t(`costs.group.${group}`), cell: (r) => r.label },
        { label: t('costs.callsCount'), className: 'num', cell: (r) => number(r.calls) },
        { label: t('costs.failed'), className: 'num', cell: (r) => number(r.failedCalls) },
        { label: t('costs.fallback'), className: 'num', cell: (r) => number(r.fallbackCalls) },
        { label: t('costs.tokensIn'), className: 'num', cell: (r) => number(r.inputTokens) },
        { label: t('costs.tokensCached'), className: 'num', cell: (r) => number(r.cachedTokens) },
        { label: t('costs.tokensOut'), className: 'num', cell: (r) => number(r.outputTokens) },
        { label: t('costs.cost'), className: 'num', cell: (r) => h('span', { class: 'cost', dataset: { micros: String(r.costMicros) } }, usd(r.costMicros)) },
      ],
    }));
    if (data.totals.unpricedCalls) rowsBox.append(h('p', { class: 'hint', id: 'costs-unpriced' }, t('costs.unpriced', { count: number(data.totals.unpricedCalls) })));
  }

  function range() {
    const from = fromInput.value;
    const to = toInput.value;
    const problem = rangeProblem(from, to, MAX_DAYS);
    if (problem) { say(status, t(...problem), 'error'); return null; }
    return `from=${from}&to=${to}&groupBy=${groupSelect.value}`;
  }

  async function load() {
    const qs = range();
    if (!qs) return;
    ctx.setQuery({ from: fromInput.value, to: toInput.value, groupBy: groupSelect.value });
    say(status, t('app.loading'));
    const result = await api('GET', `/v1/agent/costs?${qs}`);
    if (!result.ok) return say(status, errorText(t, result), 'error');
    report = result.data;
    drawCap(report.cap);
    drawAlerts(report.alerts || []);
    drawRows(report);
    draw();
    say(status, report.totals.calls ? t('costs.loaded', { calls: number(report.totals.calls), total: usd(report.totals.costMicros) }) : t('costs.none'));
  }

  // the report as the API exports it, the same range and grouping
  exportButton.addEventListener('click', async () => {
    const qs = range();
    if (!qs) return;
    exportButton.disabled = true;
    const result = await api('GET', `/v1/agent/costs?${qs}&format=csv`, { headers: { Accept: 'text/csv' } });
    exportButton.disabled = false;
    if (!result.ok) return say(status, errorText(t, result), 'error');
    if (download.href) URL.revokeObjectURL(download.href);
    const file = new Blob([typeof result.data === 'string' ? result.data : ''], { type: 'text/csv' });
    download.href = URL.createObjectURL(file);
    download.dataset.bytes = String(file.size);
    download.download = `llm-costs-${fromInput.value}-${toInput.value}-by-${groupSelect.value}.csv`;
    download.hidden = false;
    download.click();
    say(status, t('costs.exported'), 'ok');
  });

  form.addEventListener('submit', (event) => { event.preventDefault(); load(); });
  await load();
  if (can('GET /v1/agent/providers')) await renderProviders(ctx, providersBox, load);
}

/** The tenant's own providers and cap: a row per provider (and an empty one to add), the key write-only. */
async function renderProviders(ctx, box, reload) {
  const { t, api, can } = ctx;
  const canWrite = can('PUT /v1/agent/providers');
  const answer = await api('GET', '/v1/agent/providers');
  if (!answer.ok) return box.append(h('p', { class: 'form-error' }, errorText(t, answer)));
  const config = answer.data;
  const status = statusLine();
  status.id = 'providers-status';
  const capInput = h('input', {
    id: 'providers-cap', inputmode: 'decimal', autocomplete: 'off', maxlength: '15', disabled: !canWrite,
    value: config.monthlyCapMicros == null ? '' : String(config.monthlyCapMicros / 1e6),
  });
  const rows = [...config.providers, null].map((p, i) => providerRow(t, p, i, canWrite));
  const form = h('form', { id: 'providers-form', class: 'stack' },
    h('p', { class: 'hint' }, config.configured ? t('providers.own') : t('providers.platform')),
    field(t('providers.cap'), capInput, { hint: t('providers.capHint') }),
    ...rows.map((r) => r.el),
    status,
    canWrite ? h('div', { class: 'form-actions' }, button(t('action.save'), { kind: 'primary', type: 'submit', write: true, id: 'providers-save' })) : null);
  clear(box).append(form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const cap = capInput.value.trim() === '' ? null : microsOf(capInput.value);
    if (capInput.value.trim() !== '' && cap == null) return say(status, t('providers.badCap'), 'error');
    const providers = [];
    for (const row of rows) {
      const value = row.value();
      if (!value) continue;
      if (!value.name || !value.baseUrl || !value.model) return say(status, t('providers.needFields'), 'error');
      providers.push(value);
    }
    const body = { providers };
    if (cap != null) body.monthlyCapMicros = cap;
    say(status, t('app.loading'));
    const result = await api('PUT', '/v1/agent/providers', { body });
    if (!result.ok) return say(status, errorText(t, result), 'error');
    await renderProviders(ctx, box, reload);
    say(box.querySelector('#providers-status'), t('providers.saved'), 'ok');
    await reload();
  });
}

function providerRow(t, provider, index, canWrite) {
  const id = (name) => `provider-${index}-${name}`;
  const input = (name, props = {}) => h('input', { id: id(name), autocomplete: 'off', disabled: !canWrite, ...props });
  const name = input('name', { maxlength: '40', pattern: '[a-z0-9][a-z0-9_-]{0,39}', value: provider ? provider.name : '' });
  const baseUrl = input('base-url', { type: 'url', maxlength: '500', placeholder: 'https://api.openai.com/v1', value: provider ? provider.baseUrl : '' });
  const model = input('model', { maxlength: '120', placeholder: 'gpt-4o-mini', value: provider ? provider.model : '' });
  const cheap = input('cheap-model', { maxlength: '120', placeholder: 'gpt-4.1-nano', value: provider && provider.cheapModel ? provider.cheapModel : '' });
  // write-only: never filled in; what the API keeps shows as its last four characters
  const key = input('api-key', { type: 'password', maxlength: '400', autocomplete: 'new-password', value: '' });
  const hint = provider && provider.hasApiKey ? t('providers.keyKept', { hint: provider.apiKeyHint }) : t('providers.noKey');
  const el = h('fieldset', { class: 'provider', dataset: { index: String(index) } },
    h('legend', {}, provider ? t('providers.provider', { position: index + 1 }) : t('providers.add')),
    field(t('providers.name'), name, { hint: t('providers.nameHint') }),
    field(t('providers.baseUrl'), baseUrl),
    field(t('providers.model'), model),
    field(t('providers.cheapModel'), cheap, { hint: t('providers.cheapHint') }),
    field(t('providers.apiKey'), key),
    h('p', { class: 'hint', id: id('key-hint') }, hint));
  return {
    el,
    value: () => {
      const v = { name: name.value.trim(), baseUrl: baseUrl.value.trim(), model: model.value.trim() };
      if (!v.name && !v.baseUrl && !v.model && !key.value) return null;
      if (cheap.value.trim()) v.cheapModel = cheap.value.trim();
      if (key.value) v.apiKey = key.value;
      return v;
    },
  };
}
