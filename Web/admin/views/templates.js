// Message templates: what campaigns send, per channel. The list (filtered by channel and status, a page at a time)
// shows each template's review status at the provider as a badge — pending, approved, rejected (with Meta's reason),
// paused, disabled — and "Preview" fills its {{1}}, {{2}}… with values the person types (POST …/preview; a missing
// one is named as the API names it). "New template" writes one: on WhatsApp it goes to Meta for review and starts
// pending, elsewhere it is approved at once. Each WhatsApp channel has "Sync from WhatsApp", which reads the
// business account's templates from Meta (POST /v1/templates/sync) and says what changed.
import { h, clear } from '../lib/dom.js';
import { number, dateTime } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, table, select, dialog, newKey } from '../lib/ui.js';
import { loadChannels, channelLabel } from './messaging-shared.js';
import {
  TEMPLATE_STATUSES, TEMPLATE_CATEGORIES, TEMPLATE_LANGUAGES, HEADER_TYPES, BUTTON_TYPES, templateBadge, campaignError, variableNames, variablesIn,
} from './campaigns-shared.js';

const PAGE = 50;
const NAME = /^[a-z0-9_]{1,512}$/;
const MAX_BUTTONS = 10;

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const channels = await loadChannels(ctx, { fresh: true });
  if (!ctx.isCurrent()) return;
  const channelName = (id) => {
    const found = channels.find((c) => c.id === id);
    return found ? channelLabel(t, found) : String(id || '').slice(0, 8);
  };
  const canCreate = can('POST /v1/templates');
  const canSync = can('POST /v1/templates/sync');

  const channel = select([['', t('templates.anyChannel')], ...channels.map((c) => [c.id, channelLabel(t, c)])],
    { id: 'templates-channel', value: channels.some((c) => c.id === query.get('channelId')) ? query.get('channelId') : '' });
  const status = select([['', t('templates.anyStatus')], ...TEMPLATE_STATUSES.map((x) => [x, t(`templateStatus.${x}`)])],
    { id: 'templates-status-filter', value: TEMPLATE_STATUSES.includes(query.get('status')) ? query.get('status') : '' });
  const form = h('form', { class: 'filters', id: 'templates-filters' },
    field(t('campaigns.channel'), channel), field(t('field.status'), status),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'templates-apply' })));
  const line = statusLine();
  line.id = 'templates-status';
  const list = h('div', { id: 'templates-list', class: 'market-list' });
  const more = button(t('action.loadMore'), { id: 'templates-more', hidden: true });

  const whatsapp = channels.filter((c) => c.kind === 'whatsapp');
  const syncBox = canSync && whatsapp.length ? section(t('templates.syncTitle'), h('p', { class: 'hint' }, t('templates.syncIntro')),
    h('ul', { class: 'sync-list', id: 'templates-sync' }, whatsapp.map((c) => syncRow(c)))) : null;

  root.append(
    pageHeader(t('templates.title'),
      canCreate ? button(t('templates.new'), { kind: 'primary', write: true, id: 'templates-new', on: () => create() }) : null),
    h('p', { class: 'hint' }, t('templates.intro')),
    ...[syncBox, form, line, list, more].filter(Boolean));

  function syncRow(c) {
    const result = h('span', { class: 'sync-result', role: 'status', id: `sync-result-${c.id}` });
    const go = button(t('templates.sync'), { write: true, class: 'btn btn-secondary template-sync', id: `sync-${c.id}` });
    go.dataset.channel = c.id;
    go.addEventListener('click', async () => {
      go.disabled = true;
      say(result, t('templates.syncing'));
      const answer = await api('POST', '/v1/templates/sync', { body: { channelId: c.id } });
      if (!ctx.isCurrent()) return;
      go.disabled = false;
      if (!answer.ok) { say(result, campaignError(t, answer), 'error'); result.dataset.code = (answer.error && answer.error.code) || ''; return; }
      const r = answer.data;
      const words = t('templates.synced', { created: number(r.created || 0), updated: number(r.updated || 0), unchanged: number(r.unchanged || 0) })
        + (r.messagingTier ? ` ${t('templates.tier', { tier: r.messagingTier })}` : '');
      say(result, words, 'ok');
      Object.assign(result.dataset, { code: '', created: String(r.created || 0), updated: String(r.updated || 0), unchanged: String(r.unchanged || 0) });
      ctx.announce(words);
      load(true);
    });
    return h('li', { class: 'sync-row', dataset: { channel: c.id } }, h('span', { class: 'sync-name' }, c.name), ' ', go, ' ', result);
  }

  let items = [];
  let cursor = null;
  async function load(reset) {
    if (reset) { items = []; cursor = null; }
    ctx.setQuery({ channelId: channel.value, status: status.value });
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (channel.value) params.set('channelId', channel.value);
    if (status.value) params.set('status', status.value);
    if (cursor) params.set('cursor', cursor);
    say(line, t('app.loading'));
    list.dataset.ready = 'false';
    const answer = await api('GET', `/v1/templates?${params}`);
    if (!ctx.isCurrent()) return;
    if (!answer.ok) { say(line, campaignError(t, answer), 'error'); return; }
    items = items.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
    more.hidden = !cursor;
    draw();
    list.dataset.ready = 'true';
    say(line, items.length ? t('templates.count', { count: number(items.length) }) : '');
  }

  function draw() {
    clear(list).append(table({
      caption: t('templates.caption'), captionHidden: true, rows: items,
      empty: channel.value || status.value ? t('templates.none') : t('templates.noneYet'),
      columns: [
        { label: t('field.name'), cell: (x) => h('span', { class: 'template-name mono' }, x.name) },
        { label: t('campaigns.channel'), cell: (x) => h('span', { class: 'template-channel' }, channelName(x.channelId)) },
        { label: t('field.language'), cell: (x) => h('span', { class: 'template-language' }, x.language) },
        { label: t('templates.category'), cell: (x) => t(`templateCategory.${x.category}`) },
        {
          label: t('field.status'),
          cell: (x) => h('div', {}, templateBadge(t, x.status),
            x.rejectionReason ? h('p', { class: 'hint template-reason' }, x.rejectionReason) : null),
        },
        { label: t('templates.body'), cell: (x) => h('span', { class: 'template-text' }, x.body) },
        { label: t('templates.variables'), className: 'num', cell: (x) => h('span', { class: 'template-vars' }, number(x.variableCount || 0)) },
        { label: t('field.updated'), cell: (x) => dateTime(x.updatedAt) },
        {
          label: t('field.actions'),
          cell: (x) => button(t('templates.preview'), { class: 'btn btn-secondary template-preview-open', dataset: { id: x.id }, on: () => previewDialog(ctx, x) }),
        },
      ],
    }));
  }

  function create() {
    templateForm(ctx, channels, channel.value).then((made) => {
      if (!made) return;
      const words = t('templates.created', { name: made.name, status: t(`templateStatus.${made.status}`) });
      say(line, words, 'ok');
      ctx.announce(words);
      load(true).then(() => say(line, words, 'ok'));
    });
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); load(true); });
  channel.addEventListener('change', () => load(true));
  status.addEventListener('change', () => load(true));
  more.addEventListener('click', () => load(false));
  await load(true);
}

// ---------------------------------------------------------------- preview

/** The template filled with the values typed: the API's text, or its refusal (a missing variable is named). */
function previewDialog(ctx, template) {
  const { t, api } = ctx;
  const inputs = variableNames(template.variableCount).map((label, i) =>
    h('input', { class: 'tpl-var', id: `tpl-var-${i + 1}`, autocomplete: 'off', maxlength: '500', dataset: { index: String(i + 1) }, 'aria-label': label }));
  const output = h('p', { class: 'template-preview', id: 'tpl-preview-text', 'aria-live': 'polite' });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'tpl-preview-error' });
  const body = h('div', { id: 'tpl-preview', dataset: { id: template.id } },
    h('pre', { class: 'template-body' }, template.body),
    inputs.length ? h('div', { class: 'inline-fields' }, inputs.map((input, i) => field(`{{${i + 1}}}`, input)))
      : h('p', { class: 'hint' }, t('templates.noVariables')),
    output, error);
  dialog({
    t, title: t('templates.previewTitle', { name: template.name }), body, submitLabel: t('templates.preview'), cancelLabel: t('templates.close'),
    onSubmit: async () => {
      const values = inputs.map((i) => i.value);
      // trailing empty values are not sent: the API names the first variable that is missing
      while (values.length && !values[values.length - 1].trim()) values.pop();
      error.textContent = '';
      error.dataset.code = '';
      const answer = await api('POST', `/v1/templates/${encodeURIComponent(template.id)}/preview`, { body: { variables: values } });
      if (!answer.ok) {
        output.textContent = '';
        error.textContent = campaignError(t, answer);
        error.dataset.code = (answer.error && answer.error.code) || '';
        return;
      }
      output.textContent = answer.data.text;
    },
  });
  if (inputs[0]) inputs[0].focus();
}

// ---------------------------------------------------------------- a new template

/** The "new template" dialog. Resolves to the created template, or undefined when cancelled. */
function templateForm(ctx, channels, channelId) {
  const { t, api } = ctx;
  const channel = select(channels.map((c) => [c.id, channelLabel(t, c)]), { id: 'template-channel', value: channelId || (channels[0] && channels[0].id) || '' });
  const name = h('input', { id: 'template-name', required: true, maxlength: '512', autocomplete: 'off', spellcheck: 'false' });
  const language = select(TEMPLATE_LANGUAGES.map((l) => [l, t(`templateLanguage.${l}`)]), { id: 'template-language', value: 'en' });
  const category = select(TEMPLATE_CATEGORIES.map((c) => [c, t(`templateCategory.${c}`)]), { id: 'template-category', value: 'marketing' });
  const headerType = select([['', t('templates.noHeader')], ...HEADER_TYPES.map((x) => [x, t(`templateHeader.${x}`)])], { id: 'template-header-type', value: '' });
  const headerText = h('input', { id: 'template-header-text', maxlength: '60', autocomplete: 'off' });
  const headerTextField = field(t('templates.headerText'), headerText);
  headerTextField.hidden = true;
  const bodyText = h('textarea', { id: 'template-body', required: true, rows: '5', maxlength: '1024' });
  const varsNote = h('p', { class: 'hint', id: 'template-vars-note', role: 'status' });
  const footer = h('input', { id: 'template-footer', maxlength: '60', autocomplete: 'off' });
  const buttonRows = h('ol', { class: 'template-buttons', id: 'template-buttons' });
  const addButton = button(t('templates.addButton'), { id: 'template-add-button' });

  headerType.addEventListener('change', () => { headerTextField.hidden = headerType.value !== 'text'; });
  const countVars = () => {
    const n = variablesIn(bodyText.value);
    varsNote.textContent = n ? t('templates.usesVariables', { count: number(n), names: variableNames(n).join(', ') }) : t('templates.bodyHint');
  };
  bodyText.addEventListener('input', countVars);
  countVars();

  const addRow = () => {
    if (buttonRows.children.length >= MAX_BUTTONS) return;
    const kind = select(BUTTON_TYPES.map((x) => [x, t(`templateButton.${x}`)]), { class: 'button-type', value: 'quick_reply' });
    const text = h('input', { class: 'button-text', maxlength: '25', autocomplete: 'off' });
    const url = h('input', { class: 'button-url', type: 'url', maxlength: '2000', autocomplete: 'off', placeholder: 'https://' });
    const phone = h('input', { class: 'button-phone', type: 'tel', maxlength: '20', autocomplete: 'off', placeholder: '+250788123456' });
    const urlField = field(t('templates.buttonUrl'), url);
    const phoneField = field(t('templates.buttonPhone'), phone);
    const shape = () => { urlField.hidden = kind.value !== 'url'; phoneField.hidden = kind.value !== 'phone_number'; };
    kind.addEventListener('change', shape);
    shape();
    const row = h('li', { class: 'template-button-row inline-fields' },
      field(t('templates.buttonType'), kind), field(t('templates.buttonText'), text), urlField, phoneField,
      button(t('templates.removeButton'), { class: 'btn btn-danger-quiet button-remove', on: () => { row.remove(); addButton.disabled = false; addButton.focus(); } }));
    row.templateButton = () => {
      const b = { type: kind.value, text: text.value.trim() };
      if (kind.value === 'url') b.url = url.value.trim();
      if (kind.value === 'phone_number') b.phoneNumber = phone.value.trim();
      return b;
    };
    buttonRows.append(row);
    addButton.disabled = buttonRows.children.length >= MAX_BUTTONS;
    kind.focus();
  };
  addButton.addEventListener('click', addRow);

  const key = newKey();
  const d = dialog({
    t, title: t('templates.createTitle'), submitLabel: t('templates.create'),
    body: h('div', { id: 'template-form' },
      h('p', { class: 'hint' }, t('templates.createIntro')),
      field(t('campaigns.channel'), channel),
      field(t('field.name'), name, { hint: t('templates.nameHint') }),
      h('div', { class: 'inline-fields' }, field(t('field.language'), language), field(t('templates.category'), category)),
      h('div', { class: 'inline-fields' }, field(t('templates.header'), headerType), headerTextField),
      field(t('templates.body'), bodyText), varsNote,
      field(t('templates.footer'), footer, { hint: t('templates.optional') }),
      h('fieldset', {}, h('legend', {}, t('templates.buttons')), buttonRows, h('div', { class: 'form-actions' }, addButton))),
    onSubmit: async ({ close, fail }) => {
      if (!channel.value) return fail(t('campaignNew.needChannel'));
      if (!NAME.test(name.value.trim())) { name.focus(); return fail(t('templates.badName')); }
      if (!bodyText.value.trim()) { bodyText.focus(); return fail(t('templates.needBody')); }
      if (headerType.value === 'text' && !headerText.value.trim()) { headerText.focus(); return fail(t('templates.needHeaderText')); }
      const buttons = [...buttonRows.children].map((row) => row.templateButton());
      if (buttons.some((b) => !b.text)) return fail(t('templates.needButtonText'));
      const body = { channelId: channel.value, name: name.value.trim(), language: language.value, category: category.value, body: bodyText.value };
      if (headerType.value) body.header = headerType.value === 'text' ? { type: 'text', text: headerText.value.trim() } : { type: headerType.value };
      if (footer.value.trim()) body.footer = footer.value.trim();
      if (buttons.length) body.buttons = buttons;
      const answer = await api('POST', '/v1/templates', { body, idempotencyKey: key });
      if (!answer.ok) return fail(campaignError(t, answer));
      close(answer.data);
    },
  });
  name.focus();
  return d.done;
}
