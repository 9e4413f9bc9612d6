// Connections: each calendar's (agent's) Google Calendar. Per calendar its connection's status, the Google account,
// the last sync, how many busy times Google gave (they are kept out of the free slots) and the last error; a broken
// connection (Google refused the refresh) is said at the top of the page with its alert, and on its card. For those
// who may: Connect (Reconnect when broken), with or without Meet links, which sends the browser to Google's consent
// (Google sends it back here with `?google=connected|refused|failed`, said as a notice); Sync now; Disconnect (asked
// first). Anyone who reads may check Google's busy times of the next 7 days. Below, the tenant's reminder settings
// (times before the start, the booking confirmation) and the phone told when a connection breaks.
import { h, clear } from '../lib/dom.js';
import { number, dateTime } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, badge, details, checkbox, confirmAction, newKey, select } from '../lib/ui.js';
import { agentsOf, calendarError, rangeText, browserZone } from './calendar-shared.js';

const OUTCOMES = ['connected', 'refused', 'failed'];
/** Which connection of a calendar the page shows: the live one first, then the newest. */
const RANK = { active: 0, broken: 0, pending: 1, disconnected: 2 };
const MAX_REMINDERS = 5;
const UNITS = [['days', 1440], ['hours', 60], ['minutes', 1]];
const BUSY_DAYS = 7;

/** A calendar's connection to show, or null. */
function currentOf(items, agentId) {
  return items.filter((c) => c.agentId === agentId)
    .sort((x, y) => (RANK[x.status] ?? 3) - (RANK[y.status] ?? 3) || String(y.updatedAt).localeCompare(String(x.updatedAt)))[0] || null;
}

/** The largest unit that divides a number of minutes: 1440 → [1, 'days']. */
function inUnits(minutes) {
  const [unit, size] = UNITS.find(([, s]) => minutes % s === 0) || UNITS[2];
  return [minutes / size, unit];
}

export function statusBadge(t, status) {
  return h('span', { class: 'conn-status', dataset: { status } }, badge(t(`connStatus.${status}`), `conn-${status}`));
}

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const canConnect = can('POST /v1/calendar/connections');
  const canDisconnect = can('DELETE /v1/calendar/connections/{id}');
  const canSync = can('POST /v1/calendar/connections/{id}/sync');
  const canBusy = can('GET /v1/calendar/connections/{id}/busy');
  const canReadSettings = can('GET /v1/calendar/settings');
  const canEditSettings = can('PUT /v1/calendar/settings');

  const agents = await agentsOf(ctx, true);
  const outcome = OUTCOMES.includes(query.get('google')) ? query.get('google') : '';
  const outcomeFor = query.get('connection') || '';

  const outcomeBox = h('div', { id: 'conn-outcome' });
  const configuredBox = h('div', { id: 'conn-configured' });
  const alertsBox = h('div', { id: 'conn-alerts-box' });
  const line = statusLine();
  line.id = 'conn-status';
  const list = h('div', { id: 'conn-list', class: 'conn-list' });
  const settingsBox = h('div', { id: 'conn-settings-box' });

  root.append(
    pageHeader(t('connections.title')),
    h('p', { class: 'hint' }, t('connections.intro')),
    outcomeBox, configuredBox, alertsBox, line, list,
    canReadSettings ? section(t('reminderSettings.title'), settingsBox) : null);

  let items = [];
  let configured = true;
  const names = new Map(agents.map((a) => [a.id, a.name]));

  async function load() {
    const answer = await api('GET', '/v1/calendar/connections?all=true');
    if (!answer.ok) { say(line, calendarError(t, answer), 'error'); return false; }
    items = answer.data.items;
    configured = answer.data.googleConfigured !== false;
    return true;
  }

  function draw() {
    clear(configuredBox).append(configured ? '' : h('p', { class: 'notice', id: 'conn-not-configured' }, t('connections.notConfigured')));
    // broken connections and open alerts first, where nobody can miss them
    const troubled = agents.map((a) => ({ agent: a, c: currentOf(items, a.id) }))
      .filter(({ c }) => c && c.status !== 'disconnected' && (c.status === 'broken' || (c.alerts || []).length));
    clear(alertsBox).append(troubled.length ? h('div', { class: 'conn-alerts', id: 'conn-alerts', role: 'alert' },
      h('h2', {}, t('connections.alertsTitle', { count: number(troubled.length) })),
      h('ul', {}, troubled.map(({ agent, c }) => h('li', { dataset: { agent: agent.id, connection: c.id } },
        h('strong', {}, agent.name), ': ',
        (c.alerts || []).length
          ? c.alerts.map((x) => `${x.message} (${dateTime(x.createdAt)})`).join(' · ')
          : (c.lastError || t('connections.brokenNoReason')),
        ' ', h('span', { class: 'hint' }, t('connections.reconnectHint')))))) : '');
    if (!agents.length) {
      clear(list).append(h('p', { class: 'empty', id: 'conn-no-agents' }, t('connections.noAgents'), ' ',
        can('GET /v1/calendar/agents') ? h('a', { href: '#/availability' }, t('calendar.toAvailability')) : null));
      return;
    }
    clear(list).append(...agents.map((a) => card(a, currentOf(items, a.id))));
  }

  function card(agent, c) {
    const status = c ? c.status : 'none';
    const titleId = `conn-title-${agent.id}`;
    const cardLine = statusLine('status-line conn-line');
    const busyBox = h('div', { class: 'conn-busy', 'aria-live': 'polite' });
    const live = c && (c.status === 'active' || c.status === 'broken');
    const facts = c && c.status !== 'disconnected' ? details([
      [t('connections.account'), h('span', { class: 'conn-account' }, c.account || t('connections.noAccount'))],
      [t('connections.calendarId'), h('span', { class: 'mono conn-calendar' }, c.calendarId)],
      [t('connections.meet'), c.createMeetLinks ? t('connections.yes') : t('connections.no')],
      [t('connections.syncedAt'), h('span', { class: 'conn-synced', dataset: { at: c.syncedAt || '' } }, c.syncedAt ? dateTime(c.syncedAt) : t('connections.never'))],
      [t('connections.busyEvents'), h('span', { class: 'conn-busy-count', dataset: { count: String(c.busyEvents) } }, number(c.busyEvents))],
      c.status === 'broken' && c.brokenAt ? [t('connections.brokenAt'), dateTime(c.brokenAt)] : [],
      c.lastError ? [t('connections.lastError'), h('span', { class: 'conn-error' }, c.lastError)] : [],
      [t('connections.since'), dateTime(c.createdAt)],
    ]) : h('p', { class: 'hint conn-none' }, c ? t('connections.wasDisconnected', { when: dateTime(c.updatedAt) }) : t('connections.none'));

    const actions = [];
    if (canConnect && (!c || c.status !== 'active')) actions.push(connectForm(agent, c, cardLine));
    if (c && c.status === 'active' && canSync) {
      actions.push(button(t('connections.sync'), { write: true, class: 'btn btn-secondary conn-sync', on: (event) => syncNow(agent, c, event.currentTarget, cardLine) }));
    }
    if (c && c.status === 'active' && canBusy) {
      actions.push(button(t('connections.checkBusy', { days: number(BUSY_DAYS) }), {
        class: 'btn btn-secondary conn-check-busy', on: (event) => checkBusy(c, event.currentTarget, busyBox, cardLine),
      }));
    }
    if (c && (live || c.status === 'pending') && canDisconnect) {
      actions.push(button(t('connections.disconnect'), { kind: 'danger-quiet', write: true, class: 'btn btn-danger-quiet conn-disconnect', on: () => disconnect(agent, c) }));
    }

    return h('article', {
      class: ['card', 'conn-card', status === 'broken' ? 'is-broken' : null], id: `conn-${agent.id}`, 'aria-labelledby': titleId,
      dataset: { agent: agent.id, status, connection: c ? c.id : '' },
    },
    h('div', { class: 'conn-head' }, h('h2', { id: titleId }, agent.name), statusBadge(t, status)),
    h('p', { class: 'hint' }, agent.timeZone),
    status === 'broken' ? h('p', { class: 'conn-broken-note' }, t('connections.brokenNote')) : null,
    facts,
    actions.length ? h('div', { class: 'form-actions conn-actions' }, actions) : null,
    cardLine, busyBox);
  }

  function connectForm(agent, c, cardLine) {
    const reconnect = c && c.status === 'broken';
    const meet = checkbox(t('connections.meetLinks'), { class: 'conn-meet', checked: Boolean(c && c.createMeetLinks) });
    const submit = button(reconnect ? t('connections.reconnect') : t('connections.connect'), {
      kind: 'primary', type: 'submit', write: true, class: 'btn btn-primary conn-connect', disabled: !configured,
    });
    const form = h('form', { class: 'conn-connect-form', 'aria-label': t('connections.connectLabel', { name: agent.name }) }, meet.el, submit);
    let key = newKey();
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!configured) return;
      submit.disabled = true;
      say(cardLine, t('connections.opening'));
      const result = await api('POST', '/v1/calendar/connections', {
        body: { agentId: agent.id, createMeetLinks: meet.input.checked }, idempotencyKey: key,
      });
      if (!result.ok) {
        key = newKey();
        submit.disabled = false;
        say(cardLine, calendarError(t, result), 'error');
        return;
      }
      // to Google's consent; Google sends the browser back to this page
      window.location.assign(result.data.authorizationUrl);
    });
    return form;
  }

  /** Reloads the list and redraws, then says `message` on the card of `agentId` (or on the page's line). */
  async function refresh(message, agentId, kind = 'ok') {
    if (!(await load()) || !ctx.isCurrent()) return;
    draw();
    const target = agentId && list.querySelector(`.conn-card[data-agent="${agentId}"] .conn-line`);
    if (message) {
      say(target || line, message, kind);
      ctx.announce(message);
    }
  }

  async function syncNow(agent, c, control, cardLine) {
    control.disabled = true;
    say(cardLine, t('connections.syncing'));
    const result = await api('POST', `/v1/calendar/connections/${encodeURIComponent(c.id)}/sync`);
    control.disabled = false;
    if (!result.ok) {
      // a refused refresh broke it meanwhile: the card shows it now
      await refresh(calendarError(t, result), agent.id, 'error');
      return;
    }
    const r = result.data.result;
    await refresh(t(r.full ? 'connections.syncedFull' : 'connections.synced', { busy: number(r.busy), removed: number(r.removed) }), agent.id);
  }

  async function checkBusy(c, control, box, cardLine) {
    control.disabled = true;
    box.dataset.ready = 'false';
    say(cardLine, t('app.loading'));
    const from = new Date();
    const to = new Date(from.getTime() + BUSY_DAYS * 86400000);
    const params = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
    const result = await api('GET', `/v1/calendar/connections/${encodeURIComponent(c.id)}/busy?${params}`);
    control.disabled = false;
    if (!result.ok) {
      clear(box);
      say(cardLine, calendarError(t, result), 'error');
      if (result.status === 409) await refresh(calendarError(t, result), c.agentId, 'error');
      return;
    }
    const busy = result.data.busy;
    clear(box).append(
      h('h3', {}, t('connections.busyTitle', { days: number(BUSY_DAYS), zone: browserZone() })),
      busy.length
        ? h('ul', { class: 'plain-list conn-busy-list' }, busy.map((b) => h('li', { class: 'conn-busy-item', dataset: { start: b.startsAt, end: b.endsAt } },
          rangeText(b.startsAt, b.endsAt))))
        : h('p', { class: 'empty conn-busy-none' }, t('connections.busyNone', { days: number(BUSY_DAYS) })));
    box.dataset.ready = 'true';
    box.dataset.count = String(busy.length);
    say(cardLine, t('connections.busyCount', { count: number(busy.length) }));
  }

  function disconnect(agent, c) {
    confirmAction({
      t, title: t('connections.disconnectTitle', { name: agent.name }),
      message: t('connections.disconnectBody', { account: c.account || t('connections.noAccount') }),
      confirmLabel: t('connections.disconnect'),
      onConfirm: async () => {
        const result = await api('DELETE', `/v1/calendar/connections/${encodeURIComponent(c.id)}`);
        return result.ok ? null : calendarError(t, result);
      },
    }).then(async (done) => {
      if (!done) return;
      await refresh(t('connections.disconnected', { name: agent.name }), agent.id);
    });
  }

  // ---------------------------------------------------------------- reminders and alerts

  async function loadSettings() {
    const answer = await api('GET', '/v1/calendar/settings');
    if (!ctx.isCurrent()) return;
    if (!answer.ok) { clear(settingsBox).append(h('p', { class: 'form-error', role: 'alert' }, calendarError(t, answer))); return; }
    if (canEditSettings) drawSettingsForm(answer.data); else drawSettingsText(answer.data);
  }

  const offsetText = (minutes) => {
    const [value, unit] = inUnits(minutes);
    return t(`reminderSettings.before.${unit}`, { n: number(value) });
  };

  function drawSettingsText(s) {
    clear(settingsBox).append(h('div', { id: 'settings-text' }, details([
      [t('reminderSettings.reminders'), s.reminderOffsets.length ? s.reminderOffsets.map(offsetText).join(', ') : t('reminderSettings.noReminders')],
      [t('reminderSettings.confirmation'), s.sendConfirmation ? t('connections.yes') : t('connections.no')],
      [t('reminderSettings.alertPhone'), s.alertPhone || t('reminderSettings.noAlertPhone')],
    ])));
  }

  function drawSettingsForm(s) {
    const rows = h('ul', { class: 'plain-list reminder-rows', id: 'settings-reminders' });
    const add = button(t('reminderSettings.add'), { id: 'settings-add', write: true });
    const sync = () => { add.hidden = rows.children.length >= MAX_REMINDERS; };
    const addRow = (minutes = 60) => {
      const [value, unit] = inUnits(minutes);
      const amount = h('input', {
        type: 'number', min: '1', max: '20160', step: '1', inputmode: 'numeric', required: true, class: 'reminder-amount', value: String(value),
        'aria-label': t('reminderSettings.amount'),
      });
      const units = select(UNITS.map(([u]) => [u, t(`reminderSettings.unit.${u}`)]), { class: 'reminder-unit', value: unit, 'aria-label': t('reminderSettings.unit') });
      const row = h('li', { class: 'reminder-row' }, amount, units, h('span', {}, t('reminderSettings.beforeStart')),
        button(t('rules.remove'), { class: 'btn btn-danger-quiet reminder-remove', write: true, on: () => { row.remove(); sync(); add.focus(); } }));
      rows.append(row);
      sync();
      return amount;
    };
    for (const minutes of s.reminderOffsets) addRow(minutes);
    add.addEventListener('click', () => addRow().focus());
    sync();
    const confirmation = checkbox(t('reminderSettings.confirmationLabel'), { id: 'settings-confirmation', checked: s.sendConfirmation });
    const phone = h('input', { id: 'settings-alert-phone', type: 'tel', maxlength: '20', autocomplete: 'off', placeholder: '+254712345678', value: s.alertPhone || '' });
    const error = h('p', { class: 'form-error', role: 'alert', id: 'settings-error' });
    const status = statusLine();
    status.id = 'settings-status';
    const save = button(t('action.save'), { kind: 'primary', type: 'submit', write: true, id: 'settings-save' });
    const form = h('form', { id: 'settings-form', novalidate: true },
      h('fieldset', {}, h('legend', {}, t('reminderSettings.reminders')), h('p', { class: 'hint' }, t('reminderSettings.remindersHint')), rows, add),
      confirmation.el,
      field(t('reminderSettings.alertPhone'), phone, { hint: t('reminderSettings.alertPhoneHint') }),
      error, h('div', { class: 'form-actions' }, save), status);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      say(status, '');
      const offsets = [];
      for (const row of rows.querySelectorAll('.reminder-row')) {
        const text = row.querySelector('.reminder-amount').value.trim();
        const size = UNITS.find(([u]) => u === row.querySelector('.reminder-unit').value)[1];
        const minutes = Number(text) * size;
        if (!/^\d+$/.test(text) || minutes < 1 || minutes > 20160) { error.textContent = t('reminderSettings.badOffset'); row.querySelector('.reminder-amount').focus(); return; }
        if (offsets.includes(minutes)) { error.textContent = t('reminderSettings.sameOffset'); row.querySelector('.reminder-amount').focus(); return; }
        offsets.push(minutes);
      }
      const body = { reminderOffsets: offsets, sendConfirmation: confirmation.input.checked, alertPhone: phone.value.trim().replace(/[\s-]/g, '') };
      save.disabled = true;
      const result = await api('PUT', '/v1/calendar/settings', { body });
      save.disabled = false;
      if (!result.ok) {
        error.textContent = calendarError(t, result);
        if (result.error && result.error.code === 'invalid_alertPhone') phone.focus();
        return;
      }
      drawSettingsForm(result.data);
      const words = t('reminderSettings.saved');
      say(settingsBox.querySelector('#settings-status'), words, 'ok');
      ctx.announce(words);
    });
    clear(settingsBox).append(form);
  }

  // ---------------------------------------------------------------- first drawing

  if (await load()) draw();
  if (outcome) {
    // the callback names it in lower case; the API may spell a UUID in capitals
    const c = items.find((x) => String(x.id).toLowerCase() === outcomeFor.toLowerCase());
    const name = c ? (names.get(c.agentId) || '') : '';
    const words = t(`connections.outcome.${outcome}`, { name: name || t('connections.theCalendar') });
    clear(outcomeBox).append(h('p', {
      class: ['notice', 'conn-outcome', `conn-outcome-${outcome}`], role: 'status', id: 'conn-outcome-text', dataset: { outcome, connection: outcomeFor },
    }, words));
    ctx.announce(words);
    // the outcome is said once: a reload of the page does not say it again
    ctx.setQuery({});
  }
  if (canReadSettings) await loadSettings();
}
