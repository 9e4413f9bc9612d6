// FAQs: the answers the agents give by keyword, in display order, with how often a reply used each (the count moves
// only when a reply uses one). "Add an FAQ", "Edit" and "Deactivate" / "Activate" for those allowed to change them.
import { h, clear } from '../lib/dom.js';
import { number } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, errorText, table, badge, dialog, checkbox, select } from '../lib/ui.js';
import { LANGUAGES } from './agents.js';

const words = (text) => text.split(/[,\n]/).map((w) => w.trim()).filter(Boolean);

/** The FAQ dialog, new (`faq` null) or changes (PATCH). Resolves to the saved FAQ, or undefined when cancelled. */
function faqForm(ctx, faq) {
  const { t, api } = ctx;
  const category = h('input', { id: 'faq-category', maxlength: '80', autocomplete: 'off', value: faq && faq.category ? faq.category : '' });
  const question = h('textarea', { id: 'faq-question', required: true, maxlength: '500', rows: '2', value: faq ? faq.question : '' });
  const answer = h('textarea', { id: 'faq-answer', required: true, maxlength: '4000', rows: '5', value: faq ? faq.answer : '' });
  const keywords = h('input', { id: 'faq-keywords', maxlength: '1300', autocomplete: 'off', value: faq ? faq.keywords.join(', ') : '' });
  const language = select(LANGUAGES.map((l) => [l, t(`agentLanguage.${l}`)]), { id: 'faq-language', value: faq ? faq.language : 'en' });
  const order = h('input', {
    id: 'faq-order', type: 'number', min: '0', max: '100000', step: '1', inputmode: 'numeric', required: true, value: String(faq ? faq.displayOrder : 0),
  });
  const active = checkbox(t('faqs.activeLabel'), { id: 'faq-active', checked: faq ? faq.active : true });
  const d = dialog({
    t, title: faq ? t('faqs.editTitle') : t('faqs.createTitle'), submitLabel: faq ? t('action.save') : t('faqs.create'),
    body: h('div', { id: 'faq-form' },
      field(t('faqs.category'), category, { hint: t('faqs.categoryHint') }),
      field(t('faqs.question'), question),
      field(t('faqs.answer'), answer),
      field(t('faqs.keywords'), keywords, { hint: t('faqs.keywordsHint') }),
      field(t('field.language'), language),
      field(t('faqs.order'), order, { hint: t('faqs.orderHint') }),
      active.el),
    onSubmit: async ({ close, fail }) => {
      const list = words(keywords.value);
      if (list.length > 30 || list.some((w) => w.length > 40)) return fail(t('error.invalid_keywords'));
      if (!/^\d+$/.test(order.value.trim()) || Number(order.value) > 100000) return fail(t('faqs.badOrder'));
      if (!question.value.trim() || !answer.value.trim()) return fail(t('faqs.needText'));
      const payload = {
        question: question.value.trim(), answer: answer.value.trim(), keywords: list, language: language.value,
        active: active.input.checked, displayOrder: Number(order.value),
      };
      if (category.value.trim()) payload.category = category.value.trim();
      const result = faq
        ? await api('PATCH', `/v1/faqs/${encodeURIComponent(faq.id)}`, { body: payload })
        : await api('POST', '/v1/faqs', { body: payload });
      if (!result.ok) return fail(errorText(t, result));
      close(result.data);
    },
  });
  return d.done;
}

export async function render(ctx) {
  const { t, api, root, can } = ctx;
  const canCreate = can('POST /v1/faqs');
  const canEdit = can('PATCH /v1/faqs/{id}');
  const status = statusLine();
  status.id = 'faqs-status';
  const list = h('div', { id: 'faqs-list' });
  root.append(
    pageHeader(t('faqs.title'), canCreate ? button(t('faqs.create'), { kind: 'primary', write: true, id: 'faq-create', on: create }) : null),
    h('p', { class: 'hint' }, t('faqs.intro')),
    status, list);

  async function load(message) {
    if (!message) say(status, t('app.loading'));
    const answer = await api('GET', '/v1/faqs');
    if (!answer.ok) return say(status, errorText(t, answer), 'error');
    const faqs = answer.data.items;
    const columns = [
      { label: t('faqs.category'), cell: (f) => f.category || '—' },
      { label: t('faqs.question'), cell: (f) => h('span', { class: 'faq-question' }, f.question) },
      { label: t('faqs.answer'), cell: (f) => h('span', { class: 'faq-answer' }, f.answer) },
      { label: t('faqs.keywords'), cell: (f) => (f.keywords.length ? f.keywords.join(', ') : '—') },
      { label: t('field.language'), cell: (f) => t(`agentLanguage.${f.language}`) },
      { label: t('faqs.active'), cell: (f) => badge(t(f.active ? 'faqs.on' : 'faqs.off'), f.active ? 'active' : 'inactive') },
      { label: t('faqs.order'), className: 'num', cell: (f) => h('span', { class: 'faq-order' }, number(f.displayOrder)) },
      { label: t('faqs.usage'), className: 'num', cell: (f) => h('span', { class: 'faq-usage' }, number(f.usageCount)) },
    ];
    if (canEdit) {
      columns.push({
        label: t('field.actions'), cell: (f) => h('div', { class: 'row-actions' },
          button(t('action.edit'), { write: true, 'aria-label': t('faqs.editNamed', { question: f.question }), dataset: { write: '', action: 'edit' }, on: () => edit(f) }),
          button(t(f.active ? 'faqs.deactivate' : 'faqs.activate'), {
            write: true, kind: f.active ? 'danger-quiet' : 'secondary', dataset: { write: '', action: 'toggle' },
            'aria-label': t(f.active ? 'faqs.deactivateNamed' : 'faqs.activateNamed', { question: f.question }),
            on: () => toggle(f),
          })),
      });
    }
    clear(list).append(table({ caption: t('faqs.caption'), captionHidden: true, columns, rows: faqs, empty: t('faqs.none') }));
    if (message) say(status, message, 'ok'); else say(status, t('faqs.count', { count: number(faqs.length) }));
  }

  function create() {
    faqForm(ctx, null).then((faq) => {
      if (!faq) return;
      const words = t('faqs.created');
      ctx.announce(words);
      load(words);
    });
  }

  function edit(faq) {
    faqForm(ctx, faq).then((saved) => {
      if (!saved) return;
      const words = t('faqs.saved');
      ctx.announce(words);
      load(words);
    });
  }

  async function toggle(faq) {
    const result = await api('PATCH', `/v1/faqs/${encodeURIComponent(faq.id)}`, { body: { active: !faq.active } });
    if (!result.ok) return say(status, errorText(t, result), 'error');
    const words = t(result.data.active ? 'faqs.activated' : 'faqs.deactivated', { question: result.data.question });
    ctx.announce(words);
    await load(words);
    // the list was drawn again: back on the same row's button
    const again = [...list.querySelectorAll('tr[data-id]')].find((tr) => tr.dataset.id === faq.id);
    if (again) again.querySelector('[data-action="toggle"]')?.focus();
    return null;
  }

  await load();
}
