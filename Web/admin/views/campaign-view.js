// One campaign: its status and facts, the buttons its status allows (start, pause, resume, cancel — each only for
// those the route table lets call it), its progress as a funnel (waiting → sent → delivered → read, and failed,
// opted out, expired) read again every 2 s from GET …/progress while it runs or waits for its start, why a running
// campaign sends nothing now, and why sends failed. Those who may see customers' numbers (not data_ops, not
// read-only staff) get the targets, filtered by status a page at a time, and the CSV export of them all.
import { h, s, clear, uid } from '../lib/dom.js';
import { redrawOnResize } from '../lib/chart.js';
import { number, money, dateTime, date } from '../lib/format.js';
import { pageHeader, section, field, button, linkButton, statusLine, say, table, select, details, confirmAction, newKey } from '../lib/ui.js';
import { loadChannels, channelLabel } from './messaging-shared.js';
import {
  ACTIONS, TARGET_STATUSES, campaignBadge, targetBadge, campaignError, funnel, progressText, downloadCSV,
} from './campaigns-shared.js';

export const POLL_MS = 2000;
const TARGETS_PAGE = 50;
const LIVE = ['running', 'scheduled'];

/** The funnel as horizontal SVG bars, one per stage, each with data-series and data-value (and a title). */
export function funnelChart(t, counts, width = 640) {
  const stages = funnel(counts);
  const rowH = 30;
  const labelW = Math.min(150, Math.round(width * 0.34));
  const valueW = 64;
  const height = stages.length * rowH + 8;
  const most = Math.max(1, Number((counts || {}).total || 0), ...stages.map((x) => x.value));
  const plotW = width - labelW - valueW;
  const titleId = uid('funnel-title');
  const descId = uid('funnel-desc');
  const svg = s('svg', {
    class: 'chart funnel', role: 'img', viewBox: `0 0 ${width} ${height}`, width, height,
    'aria-labelledby': `${titleId} ${descId}`,
  }, s('title', { id: titleId }, t('campaign.funnelTitle')),
  s('desc', { id: descId }, stages.map((x) => `${t(`funnel.${x.key}`)}: ${number(x.value)}`).join(', ')));
  stages.forEach((stage, i) => {
    const y = 4 + i * rowH;
    const w = (stage.value / most) * plotW;
    svg.append(
      s('text', { x: labelW - 8, y: y + rowH / 2, dy: '0.32em', 'text-anchor': 'end', class: 'tick' }, t(`funnel.${stage.key}`)),
      s('rect', { x: labelW, y: y + 4, width: plotW, height: rowH - 8, class: 'funnel-track', 'aria-hidden': 'true' }),
      s('rect', {
        x: labelW, y: y + 4, width: Math.max(stage.value ? 2 : 0, w).toFixed(2), height: rowH - 8,
        class: `bar funnel-${stage.key}`, 'data-series': stage.key, 'data-value': stage.value,
      }, s('title', {}, t('campaign.barTitle', { stage: t(`funnel.${stage.key}`), value: number(stage.value) }))),
      s('text', { x: labelW + plotW + 6, y: y + rowH / 2, dy: '0.32em', class: 'funnel-value', 'data-series': stage.key }, number(stage.value)));
  });
  return svg;
}

export async function render(ctx) {
  const { t, api, root, params, query, can } = ctx;
  const id = encodeURIComponent(params.id);
  const back = h('p', { class: 'breadcrumb' }, h('a', { href: '#/campaigns', id: 'campaign-to-list' }, t('campaign.back')));
  const [one, channels] = await Promise.all([api('GET', `/v1/campaigns/${id}`), loadChannels(ctx)]);
  if (!ctx.isCurrent()) return;
  if (!one.ok) {
    root.append(back, pageHeader(t('campaign.title')), h('p', { class: 'form-error', role: 'alert', id: 'campaign-error' }, campaignError(t, one)));
    return;
  }
  let campaign = one.data;
  let template = null;
  if (can('GET /v1/templates/{id}')) {
    const found = await api('GET', `/v1/templates/${encodeURIComponent(campaign.templateId)}`);
    if (found.ok) template = found.data;
  }
  if (!ctx.isCurrent()) return;

  const header = pageHeader(campaign.name);
  header.querySelector('h1').dataset.id = campaign.id;
  const actions = h('div', { class: 'page-actions', id: 'campaign-actions' });
  header.append(actions);
  const line = statusLine();
  line.id = 'campaign-line';
  const facts = h('div', { id: 'campaign-facts' });
  const waiting = h('p', { class: 'notice', id: 'campaign-waiting', role: 'status', hidden: true });
  const funnelBox = h('div', { class: 'funnel-box', id: 'campaign-funnel' });
  const rate = h('p', { class: 'hint', id: 'campaign-rate' });
  const countsBox = h('details', { class: 'chart-table', id: 'campaign-counts' }, h('summary', {}, t('dashboard.asTable')));
  const failuresBox = h('div', { id: 'campaign-failures' });
  const progressSection = section(t('campaign.progress'), waiting, h('p', { class: 'summary', id: 'campaign-progress-text' }), funnelBox, rate, countsBox);
  progressSection.id = 'campaign-progress';

  root.append(back, header, line,
    h('div', { class: 'grid-2' }, section(t('campaign.details'), facts), section(t('campaign.failures'), failuresBox)),
    progressSection);
  if (query.get('started')) say(line, t('campaign.startedNow'), 'ok');
  if (query.get('scheduled')) say(line, t('campaign.scheduledNow'), 'ok');

  const channelName = () => {
    const found = channels.find((c) => c.id === campaign.channelId);
    return found ? channelLabel(t, found) : campaign.channelId;
  };

  function drawFacts() {
    const meta = campaign.metadata || {};
    const voucher = campaign.voucher;
    const quiet = meta.ignoreQuietHours ? t('campaignNew.quietIgnoreText')
      : meta.quietHours ? t('campaignNew.quietOwnText', { start: meta.quietHours.start, end: meta.quietHours.end }) : t('campaignNew.quietTenantText');
    clear(facts).append(details([
      [t('field.status'), h('span', { id: 'campaign-status', dataset: { status: campaign.status } }, campaignBadge(t, campaign.status))],
      [t('campaigns.type'), h('span', { id: 'campaign-type' }, t(`campaignType.${campaign.type}`))],
      [t('campaigns.channel'), h('span', { id: 'campaign-channel' }, channelName())],
      [t('campaignNew.template'), h('span', { id: 'campaign-template' }, template ? `${template.name} (${template.language})` : campaign.templateId)],
      [t('campaignNew.voucher'), voucher ? h('span', { id: 'campaign-voucher' }, money(voucher.amount, voucher.currency),
        voucher.expiresAt ? ` · ${t('campaign.voucherExpires', { when: date(voucher.expiresAt) })}` : '') : null],
      [t('campaign.startAt'), campaign.startAt ? h('span', { id: 'campaign-start-at' }, dateTime(campaign.startAt)) : null],
      [t('campaign.startedAt'), campaign.startedAt ? h('span', { id: 'campaign-started' }, dateTime(campaign.startedAt)) : null],
      [t('campaign.finishedAt'), campaign.finishedAt ? h('span', { id: 'campaign-finished' }, dateTime(campaign.finishedAt)) : null],
      [t('campaignNew.validUntil'), h('span', { id: 'campaign-valid' }, campaign.validUntil ? dateTime(campaign.validUntil) : t('campaignNew.noEnd'))],
      [t('campaignNew.quietHours'), h('span', { id: 'campaign-quiet' }, quiet)],
      [t('campaignNew.perMinute'), h('span', { id: 'campaign-per-minute' }, meta.perMinute ? number(meta.perMinute) : t('campaignNew.defaultRate'))],
      [t('field.created'), dateTime(campaign.createdAt)],
    ]));
  }

  // ---------------------------------------------------------------- the buttons its status allows

  const ACTION_WORDS = { start: 'campaign.start', pause: 'campaign.pause', resume: 'campaign.resume', cancel: 'campaign.cancel' };
  const DONE_WORDS = { start: 'campaign.startedNow', pause: 'campaign.pausedNow', resume: 'campaign.resumedNow', cancel: 'campaign.cancelledNow' };
  const keys = {};

  function drawActions() {
    const allowed = (ACTIONS[campaign.status] || []).filter((a) => can(`POST /v1/campaigns/{id}/${a}`));
    const parts = allowed.map((a) => button(t(ACTION_WORDS[a]), {
      kind: a === 'cancel' ? 'danger-quiet' : a === 'pause' ? 'secondary' : 'primary', write: true, id: `campaign-${a}`, on: () => act(a),
    }));
    if (['draft', 'scheduled'].includes(campaign.status) && can('POST /v1/campaigns/{id}/targets')) {
      parts.unshift(linkButton(t('campaign.continue'), `#/campaigns/new?id=${id}`, { write: true, id: 'campaign-continue' }));
    }
    clear(actions).append(...parts);
    actions.dataset.status = campaign.status;
  }

  async function act(action) {
    const run = async () => {
      // one key per press of a button: a retry of the same press is the same request
      keys[action] = keys[action] || newKey();
      const answer = await api('POST', `/v1/campaigns/${id}/${action}`, { idempotencyKey: keys[action] });
      delete keys[action];
      if (!answer.ok) return campaignError(t, answer);
      campaign = answer.data;
      return null;
    };
    let problem;
    if (action === 'cancel') {
      const done = await confirmAction({
        t, title: t('campaign.cancelTitle'), message: t('campaign.cancelBody', { name: campaign.name }), confirmLabel: t('campaign.cancelConfirm'),
        onConfirm: run,
      });
      if (!done) return;
    } else {
      for (const b of actions.querySelectorAll('button')) b.disabled = true;
      problem = await run();
    }
    if (!ctx.isCurrent()) return;
    if (problem) {
      drawActions();
      say(line, problem, 'error');
      return;
    }
    const words = t(DONE_WORDS[action], { name: campaign.name });
    say(line, words, 'ok');
    ctx.announce(words);
    drawAll();
    await refreshProgress();
    follow();
  }

  // ---------------------------------------------------------------- progress

  let lastProgress = null;
  /** The funnel at the width its box has now (drawn again when that changes). */
  function drawFunnel() {
    if (!lastProgress) return;
    const width = Math.min(720, Math.max(280, Math.floor(funnelBox.clientWidth || 640)));
    clear(funnelBox).append(funnelChart(t, lastProgress.counts || {}, width));
  }
  redrawOnResize(root, funnelBox, drawFunnel);

  function drawProgress(progress) {
    const counts = progress.counts || {};
    funnelBox.dataset.total = String(counts.total || 0);
    drawFunnel();
    progressSection.querySelector('#campaign-progress-text').textContent = t('campaign.reached', { progress: progressText(counts) });
    waiting.hidden = !progress.waitingReason;
    waiting.textContent = progress.waitingReason ? t('campaign.waiting', { reason: progress.waitingReason }) : '';
    rate.textContent = [
      progress.sentPerMinute != null ? t('campaign.perMinuteNow', { count: number(progress.sentPerMinute || 0) }) : '',
      progress.needsReview ? t('campaign.needsReview', { count: number(progress.needsReview) }) : '',
    ].filter(Boolean).join(' · ');
    clear(countsBox).append(h('summary', {}, t('dashboard.asTable')), table({
      caption: t('campaign.countsCaption'),
      rows: ['total', ...TARGET_STATUSES].map((key) => ({ key, value: Number(counts[key] || 0) })),
      columns: [
        { label: t('field.status'), cell: (r) => (r.key === 'total' ? t('campaign.total') : t(`targetStatus.${r.key}`)) },
        { label: t('analytics.count'), className: 'num', cell: (r) => h('span', { class: 'count-value', dataset: { key: r.key, value: String(r.value) } }, number(r.value)) },
      ],
    }));
    const reasons = progress.failureReasons || [];
    clear(failuresBox).append(table({
      caption: t('campaign.failures'), captionHidden: true, rows: reasons, empty: t('campaign.noFailures'),
      columns: [
        { label: t('analytics.code'), cell: (f) => h('code', { class: 'failure-code' }, f.code) },
        { label: t('analytics.count'), className: 'num', cell: (f) => h('span', { class: 'failure-count' }, number(f.count)) },
      ],
    }));
    for (const tr of failuresBox.querySelectorAll('tbody tr')) {
      const f = reasons[tr.rowIndex - 1];
      if (f) tr.dataset.code = f.code;
    }
    funnelBox.dataset.status = progress.status || campaign.status;
  }

  async function refreshProgress() {
    const answer = await api('GET', `/v1/campaigns/${id}/progress`);
    if (!ctx.isCurrent()) return;
    if (!answer.ok) { say(line, campaignError(t, answer), 'error'); return; }
    lastProgress = answer.data;
    drawProgress(lastProgress);
    if (lastProgress.status && lastProgress.status !== campaign.status) {
      // it moved on by itself (started at its time, finished): its record says how
      const again = await api('GET', `/v1/campaigns/${id}`);
      if (!ctx.isCurrent()) return;
      if (again.ok) { campaign = again.data; drawAll(); }
    }
  }

  let timer = null;
  /** Reads the progress again every POLL_MS while the campaign runs or waits for its start; stops with the page. */
  function follow() {
    if (timer) return;
    const tick = async () => {
      timer = null;
      if (!ctx.isCurrent() || !root.isConnected || !LIVE.includes(campaign.status)) return;
      await refreshProgress();
      if (!ctx.isCurrent() || !root.isConnected) return;
      if (LIVE.includes(campaign.status)) timer = setTimeout(tick, POLL_MS);
      else funnelBox.dataset.live = 'false';
    };
    if (LIVE.includes(campaign.status)) {
      funnelBox.dataset.live = 'true';
      timer = setTimeout(tick, POLL_MS);
    } else {
      funnelBox.dataset.live = 'false';
    }
  }

  function drawAll() {
    drawFacts();
    drawActions();
    header.querySelector('h1').textContent = campaign.name;
  }

  drawAll();
  await refreshProgress();
  if (!ctx.isCurrent()) return;
  follow();

  // ---------------------------------------------------------------- the targets (phone numbers: not for every role)

  if (can('GET /v1/campaigns/{id}/targets') || can('GET /v1/campaigns/{id}/export')) await targets(ctx, id, campaign);
}

async function targets(ctx, id, campaign) {
  const { t, api, root, can } = ctx;
  const canList = can('GET /v1/campaigns/{id}/targets');
  const canExport = can('GET /v1/campaigns/{id}/export');
  const status = select([['', t('campaign.anyTarget')], ...TARGET_STATUSES.map((x) => [x, t(`targetStatus.${x}`)])], { id: 'targets-status-filter', value: '' });
  const list = h('div', { id: 'targets-list', class: 'market-list' });
  const line = statusLine();
  line.id = 'targets-line';
  const more = button(t('action.loadMore'), { id: 'targets-more', hidden: true });
  const exportButton = canExport ? button(t('campaign.export'), { id: 'campaign-export' }) : null;
  const download = h('a', { id: 'campaign-download', hidden: true, class: 'download' }, t('campaign.download'));
  const filters = canList ? h('form', { class: 'filters', id: 'targets-filters' }, field(t('field.status'), status),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'targets-apply' }))) : null;
  const part = section(t('campaign.targets'), h('p', { class: 'hint' }, t('campaign.targetsHint')),
    exportButton ? h('div', { class: 'form-actions' }, exportButton) : null, download,
    filters, line, canList ? list : null, canList ? more : null);
  part.id = 'campaign-targets';
  root.append(part);

  if (exportButton) {
    exportButton.addEventListener('click', async () => {
      exportButton.disabled = true;
      say(line, t('campaign.exporting'));
      const slug = campaign.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'campaign';
      const failed = await downloadCSV(ctx, `/v1/campaigns/${id}/export`, download, `${slug}-${new Date().toISOString().slice(0, 10)}.csv`);
      exportButton.disabled = false;
      if (failed) { say(line, campaignError(t, failed), 'error'); return; }
      say(line, t('campaign.exported', { count: number(Number(download.dataset.rows || 0)) }), 'ok');
    });
  }
  if (!canList) return;

  let items = [];
  let cursor = null;
  async function load(reset) {
    if (reset) { items = []; cursor = null; }
    const params = new URLSearchParams({ limit: String(TARGETS_PAGE) });
    if (status.value) params.set('status', status.value);
    if (cursor) params.set('cursor', cursor);
    list.dataset.ready = 'false';
    say(line, t('app.loading'));
    const answer = await api('GET', `/v1/campaigns/${id}/targets?${params}`);
    if (!ctx.isCurrent()) return;
    if (!answer.ok) { say(line, campaignError(t, answer), 'error'); return; }
    items = items.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
    more.hidden = !cursor;
    clear(list).append(table({
      caption: t('campaign.targets'), captionHidden: true, rows: items, empty: status.value ? t('campaign.noTargetsHere') : t('campaign.noTargets'),
      columns: [
        { label: t('campaignNew.number'), cell: (x) => h('span', { class: 'target-msisdn mono' }, x.msisdn) },
        { label: t('field.status'), cell: (x) => targetBadge(t, x.status) },
        { label: t('campaign.variables'), cell: (x) => h('span', { class: 'target-variables' }, (x.variables || []).join(', ')) },
        {
          label: t('campaign.problem'),
          cell: (x) => h('span', { class: 'target-error' }, x.errorCode ? h('code', {}, x.errorCode) : null, x.errorCode && x.errorMessage ? ' ' : null,
            x.errorMessage || '', x.needsReview ? [' ', h('strong', { class: 'target-review' }, t('campaign.review'))] : null),
        },
        { label: t('field.updated'), cell: (x) => dateTime(x.updatedAt) },
      ],
    }));
    list.dataset.ready = 'true';
    say(line, items.length ? t('campaign.targetsShown', { count: number(items.length) }) : '');
  }

  filters.addEventListener('submit', (event) => { event.preventDefault(); load(true); });
  status.addEventListener('change', () => load(true));
  more.addEventListener('click', () => load(false));
  await load(true);
}
