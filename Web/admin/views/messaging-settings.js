// Messaging settings: quiet hours per country (local time of the recipient), the send throttle per channel kind
// and per recipient, and the tenant's own opt-out / opt-in words, saved as one document (PUT replaces it whole);
// then the opt-out list: masked numbers, when and how each opted out, add one, remove one, export as CSV.
// Those who may only read see the same values with nothing to change.
import { h, clear } from '../lib/dom.js';
import { dateTime, number } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, errorText, table, confirmAction } from '../lib/ui.js';
import en from '../strings/en.js';
import { KINDS } from './messaging-shared.js';

const COUNTRY = /^[A-Z]{2}$/;
// the opt-out list is shown newest first, this many at a time, from at most this many entries
const SHOWN = 100;
const MAX_OPT_OUTS = 5000;
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

const words = (text) => text.split(/[,\n]/).map((w) => w.trim()).filter(Boolean);
/** The element with one more class (button() owns its `class`: a class passed to it would replace btn's). */
const marked = (el, className) => { el.classList.add(className); return el; };

export async function render(ctx) {
  const { t, root, can } = ctx;
  root.append(pageHeader(t('settings.title')));
  const parts = [];
  if (can('GET /v1/messaging/settings')) parts.push(settingsForm(ctx));
  if (can('GET /v1/opt-outs')) parts.push(optOuts(ctx));
  await Promise.all(parts);
}

async function settingsForm(ctx) {
  const { t, api, root, can } = ctx;
  const canSave = can('PUT /v1/messaging/settings');
  const status = statusLine();
  status.id = 'settings-status';
  const box = h('div', { id: 'settings' });
  root.append(box);
  const answer = await api('GET', '/v1/messaging/settings');
  if (!answer.ok) { box.append(h('p', { class: 'form-error', role: 'alert' }, errorText(t, answer))); return; }
  const settings = answer.data;

  // quiet hours: one row per country
  const rows = h('tbody', { id: 'quiet-rows' });
  const addRow = (country = '', hours = { start: '22:00', end: '06:00' }) => {
    const code = h('input', {
      class: 'quiet-country', maxlength: '2', autocomplete: 'off', spellcheck: 'false', value: country, required: true,
      pattern: '[A-Za-z]{2}', 'aria-label': t('settings.country'), disabled: !canSave,
    });
    code.addEventListener('input', () => { code.value = code.value.toUpperCase(); });
    const start = h('input', { type: 'time', class: 'quiet-start', value: hours.start, required: true, 'aria-label': t('settings.start'), disabled: !canSave });
    const end = h('input', { type: 'time', class: 'quiet-end', value: hours.end, required: true, 'aria-label': t('settings.end'), disabled: !canSave });
    const row = h('tr', { class: 'quiet-row', dataset: { country } },
      h('td', { 'data-label': t('settings.country') }, code),
      h('td', { 'data-label': t('settings.start') }, start),
      h('td', { 'data-label': t('settings.end') }, end),
      canSave ? h('td', { 'data-label': t('field.actions') }, marked(button(t('settings.removeCountry'), {
        write: true, kind: 'danger-quiet',
        'aria-label': t('settings.removeNamed', { country: country || '—' }),
        on: () => { row.remove(); quietEmpty.hidden = rows.children.length > 0; addButton.focus(); },
      }), 'quiet-remove')) : null);
    code.addEventListener('change', () => { row.dataset.country = code.value; });
    rows.append(row);
    return code;
  };
  const quietEmpty = h('p', { class: 'empty', id: 'quiet-empty' }, t('settings.noQuiet'));
  const addButton = button(t('settings.addCountry'), { write: true, id: 'quiet-add', on: () => { addRow('').focus(); quietEmpty.hidden = true; } });
  for (const country of Object.keys(settings.quietHours).sort()) addRow(country, settings.quietHours[country]);
  quietEmpty.hidden = rows.children.length > 0;
  const captionId = 'quiet-caption';
  const quietTable = h('div', { class: 'table-wrap', role: 'region', 'aria-labelledby': captionId, tabindex: '0' },
    h('table', { class: 'data quiet-table', id: 'quiet-hours' },
      h('caption', { id: captionId, class: 'visually-hidden' }, t('settings.quietHours')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('settings.country')), h('th', { scope: 'col' }, t('settings.start')), h('th', { scope: 'col' }, t('settings.end')),
        canSave ? h('th', { scope: 'col' }, t('field.actions')) : null)),
      rows));

  // throttle: a rate per channel kind (empty: the platform's) and one per recipient
  const rates = KINDS.map((kind) => {
    const input = h('input', {
      type: 'number', min: '1', max: '100000', step: '1', id: `throttle-${kind}`, inputmode: 'numeric', disabled: !canSave,
      value: settings.sendThrottle.perMinute[kind] != null ? String(settings.sendThrottle.perMinute[kind]) : '',
    });
    return { kind, input, el: field(t(`channelKind.${kind}`), input) };
  });
  const perRecipient = h('input', {
    type: 'number', min: '1', max: '10000', step: '1', required: true, id: 'throttle-recipient', inputmode: 'numeric', disabled: !canSave,
    value: String(settings.sendThrottle.perRecipientPerHour),
  });

  // the tenant's own words, besides the built-in ones in four languages
  const optOutWords = h('textarea', { id: 'keywords-optout', rows: '2', disabled: !canSave, value: settings.optOutKeywords.optOut.join(', ') });
  const optInWords = h('textarea', { id: 'keywords-optin', rows: '2', disabled: !canSave, value: settings.optOutKeywords.optIn.join(', ') });

  const error = h('p', { class: 'form-error', role: 'alert', id: 'settings-error' });
  const form = h('form', { id: 'settings-form', novalidate: true },
    section(t('settings.quietHours'), h('p', { class: 'hint' }, t('settings.quietIntro')), quietTable, quietEmpty,
      canSave ? h('div', { class: 'form-actions' }, addButton) : null),
    section(t('settings.throttle'), h('p', { class: 'hint' }, t('settings.throttleIntro')),
      h('fieldset', { class: 'inline-fields' }, h('legend', {}, t('settings.perMinute')), rates.map((r) => r.el)),
      field(t('settings.perRecipient'), perRecipient, { hint: t('settings.perRecipientHint') })),
    section(t('settings.keywords'), h('p', { class: 'hint' }, t('settings.keywordsIntro')),
      field(t('settings.optOutWords'), optOutWords, { hint: t('settings.wordsHint') }),
      field(t('settings.optInWords'), optInWords, { hint: t('settings.wordsHint') })),
    error,
    canSave ? h('div', { class: 'form-actions' }, button(t('action.save'), { kind: 'primary', type: 'submit', write: true, id: 'settings-save' })) : null);
  box.append(form, status);

  /** The document the form describes, or a sentence saying what is wrong with it. */
  function read() {
    const quietHours = {};
    for (const row of rows.querySelectorAll('tr')) {
      const country = row.querySelector('.quiet-country').value.trim().toUpperCase();
      const start = row.querySelector('.quiet-start').value;
      const end = row.querySelector('.quiet-end').value;
      if (!COUNTRY.test(country)) return { problem: t('settings.badCountry', { country: country || '—' }) };
      if (country in quietHours) return { problem: t('settings.twice', { country }) };
      if (!TIME.test(start) || !TIME.test(end) || start === end) return { problem: t('settings.badHours', { country }) };
      quietHours[country] = { start, end };
    }
    const perMinute = {};
    for (const r of rates) {
      if (r.input.value === '') continue;
      const rate = Number(r.input.value);
      if (!Number.isInteger(rate) || rate < 1 || rate > 100000) return { problem: t('settings.badRate', { kind: t(`channelKind.${r.kind}`) }) };
      perMinute[r.kind] = rate;
    }
    const recipient = Number(perRecipient.value);
    if (!Number.isInteger(recipient) || recipient < 1 || recipient > 10000) return { problem: t('settings.badRecipient') };
    const optOut = words(optOutWords.value);
    const optIn = words(optInWords.value);
    if ([...optOut, ...optIn].some((w) => w.length > 40)) return { problem: t('settings.longWord') };
    // parts this form does not show (notice templates) are kept as they are
    return { settings: { ...settings, quietHours, sendThrottle: { perMinute, perRecipientPerHour: recipient }, optOutKeywords: { optOut, optIn } } };
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!canSave) return;
    error.textContent = '';
    const { settings: next, problem } = read();
    if (problem) { error.textContent = problem; return; }
    const save = document.getElementById('settings-save');
    save.disabled = true;
    say(status, t('settings.saving'));
    const result = await api('PUT', '/v1/messaging/settings', { body: next });
    save.disabled = false;
    if (!result.ok) { say(status, ''); error.textContent = errorText(t, result); return; }
    say(status, t('settings.saved'), 'ok');
    ctx.announce(t('settings.saved'));
  });
}

async function optOuts(ctx) {
  const { t, api, root, can } = ctx;
  const canAdd = can('POST /v1/opt-outs');
  const canRemove = can('DELETE /v1/opt-outs/{hash}');
  const status = statusLine();
  status.id = 'optouts-status';
  const list = h('div', { id: 'optouts-list' });
  const more = button(t('optouts.older'), { id: 'optouts-more', hidden: true });
  const address = h('input', { id: 'optout-address', type: 'text', required: true, autocomplete: 'off', maxlength: '200', placeholder: '+250788123456' });
  const addForm = canAdd ? h('form', { class: 'inline-form', id: 'optout-form' },
    field(t('optouts.address'), address, { hint: t('optouts.addressHint') }),
    button(t('optouts.add'), { kind: 'primary', type: 'submit', write: true, id: 'optout-add' })) : null;
  const exportButton = button(t('optouts.export'), { id: 'optout-export' });
  const download = h('a', { id: 'optout-download', hidden: true, download: 'opt-outs.csv', class: 'download' }, t('optouts.download'));
  root.append(section(t('optouts.title'),
    h('p', { class: 'hint' }, t('optouts.intro')), addForm, status, list, more,
    h('div', { class: 'form-actions' }, exportButton), download));

  let items = [];
  let shown = SHOWN;

  // the API pages oldest first: the list (up to MAX_OPT_OUTS) is read whole to show the newest first
  async function load() {
    let got = [];
    let cursor = null;
    do {
      const answer = await api('GET', `/v1/opt-outs?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (!answer.ok) return say(status, errorText(t, answer), 'error');
      got = got.concat(answer.data.items);
      cursor = answer.data.nextCursor || null;
    } while (cursor && got.length < MAX_OPT_OUTS);
    items = got.reverse();
    draw();
  }

  function draw() {
    more.hidden = items.length <= shown;
    const columns = [
      { label: t('optouts.number'), cell: (o) => h('span', { class: 'mono optout-masked' }, o.masked) },
      { label: t('optouts.source'), cell: (o) => (`optoutSource.${o.source}` in en ? t(`optoutSource.${o.source}`) : o.source) },
      { label: t('field.language'), cell: (o) => o.language || '—' },
      { label: t('field.when'), cell: (o) => dateTime(o.createdAt) },
    ];
    if (canRemove) {
      columns.push({
        label: t('field.actions'), cell: (o) => marked(button(t('optouts.remove'), {
          write: true, kind: 'danger-quiet', on: () => remove(o), 'aria-label': t('optouts.removeNamed', { number: o.masked }),
        }), 'optout-remove'),
      });
    }
    const rows = items.slice(0, shown).map((o) => ({ ...o, id: o.hash }));
    clear(list).append(table({ caption: t('optouts.caption'), captionHidden: true, columns, rows, empty: t('optouts.none') }));
    say(status, t('optouts.count', { count: number(items.length) }));
  }

  async function remove(entry) {
    const done = await confirmAction({
      t, title: t('optouts.removeTitle', { number: entry.masked }), message: t('optouts.removeBody'), confirmLabel: t('optouts.remove'),
      onConfirm: async () => {
        const result = await api('DELETE', `/v1/opt-outs/${encodeURIComponent(entry.hash)}`);
        return result.ok ? null : errorText(t, result);
      },
    });
    if (!done) return;
    await load();
    say(status, t('optouts.removed', { number: entry.masked }), 'ok');
    ctx.announce(t('optouts.removed', { number: entry.masked }));
  }

  if (addForm) {
    addForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const typed = address.value.trim();
      // a phone number as people type it; anything else (a chat id, an email) as it is
      const value = /^\+?[\d\s().-]+$/.test(typed) ? typed.replace(/[\s().-]/g, '') : typed;
      if (!value) return;
      const result = await api('POST', '/v1/opt-outs', { body: { address: value } });
      if (!result.ok) return say(status, errorText(t, result), 'error');
      address.value = '';
      await load();
      const text = t(result.status === 201 ? 'optouts.added' : 'optouts.already', { number: result.data.masked });
      say(status, text, 'ok');
      ctx.announce(text);
    });
  }

  // the whole list as the API exports it (hashes and masked numbers, never a number in clear)
  exportButton.addEventListener('click', async () => {
    exportButton.disabled = true;
    const result = await api('GET', '/v1/opt-outs', { headers: { Accept: 'text/csv' } });
    exportButton.disabled = false;
    if (!result.ok) return say(status, errorText(t, result), 'error');
    if (download.href) URL.revokeObjectURL(download.href);
    download.href = URL.createObjectURL(new Blob([typeof result.data === 'string' ? result.data : ''], { type: 'text/csv' }));
    download.hidden = false;
    download.click();
    say(status, t('optouts.exported'), 'ok');
  });
  more.addEventListener('click', () => { shown += SHOWN; draw(); });
  await load();
}
