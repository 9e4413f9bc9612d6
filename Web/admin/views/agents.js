// Agents: who answers the tenant's customers (kind, product, languages, tone, allowed tools, default, status), oldest
// first, and "New agent" for those allowed to build one. The agent form (create and edit) lives here too; the
// agent's own page (details, prompt versions, their diff) is agent.js.
import { h, clear } from '../lib/dom.js';
import { number } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, errorText, table, badge, dialog, checkbox, select } from '../lib/ui.js';

export const KINDS = ['broker', 'support', 'sales', 'marketing'];
export const LANGUAGES = ['en', 'sw', 'rw', 'fr', 'sheng'];
export const TONES = ['mtaa', 'rafiki', 'kazi', 'sana', 'neutral'];
export const TOOLS = [
  'voucher_status', 'faq_lookup', 'handoff', 'product_search', 'create_intent', 'list_quotes', 'accept_quote',
  'find_slots', 'book_appointment', 'cancel_appointment', 'reschedule_appointment',
  'lookup_lead', 'update_lead', 'handoff_to_assignee',
];
// what a new agent starts with (as the API does): selling through the marketplace is chosen per agent
const DEFAULT_TOOLS = ['voucher_status', 'faq_lookup', 'handoff'];

/** "support" → its name in the reader's language; lists joined with commas. */
export const kindName = (t, kind) => t(`agentKind.${kind}`);
export const languageNames = (t, list) => (list || []).map((l) => t(`agentLanguage.${l}`)).join(', ');
export const toolNames = (t, list) => ((list && list.length) ? list.map((x) => t(`agentTool.${x}`)).join(', ') : t('agents.noTools'));
export const statusBadge = (t, status) => badge(t(`agentStatus.${status}`), status === 'active' ? 'active' : 'inactive');

const words = (text) => text.split(/[,\n]/).map((w) => w.trim()).filter(Boolean);

/**
 * The agent dialog: a new agent (`agent` null) or changes to one (PATCH, the kind stays). Resolves to the saved agent,
 * or undefined when cancelled. The policy is sent whole (the API replaces it), so what the form does not show
 * (the spend cap) is sent back as it was.
 */
export function agentForm(ctx, agent) {
  const { t, api } = ctx;
  const name = h('input', { id: 'agent-name', required: true, maxlength: '120', autocomplete: 'off', value: agent ? agent.name : '' });
  const kind = select(KINDS.map((k) => [k, kindName(t, k)]), { id: 'agent-kind', value: agent ? agent.kind : 'support', disabled: Boolean(agent) });
  const product = h('input', { id: 'agent-product', maxlength: '200', autocomplete: 'off', value: agent && agent.product ? agent.product : '' });
  const chosenLanguages = new Set(agent ? agent.languages : ['en']);
  const languages = LANGUAGES.map((l) => ({ value: l, ...checkbox(t(`agentLanguage.${l}`), { id: `agent-lang-${l}`, value: l, checked: chosenLanguages.has(l) }) }));
  // each tone says what it sounds like in its own option
  const tone = select(TONES.map((x) => [x, t('agents.toneOption', { tone: t(`tone.${x}`), what: t(`toneHint.${x}`) })]),
    { id: 'agent-tone', value: agent ? agent.tone : 'neutral' });
  const chosenTools = new Set(agent ? agent.tools : DEFAULT_TOOLS);
  const tools = TOOLS.map((x) => ({ value: x, ...checkbox(t(`agentTool.${x}`), { id: `agent-tool-${x}`, value: x, checked: chosenTools.has(x) }) }));
  // a new agent may start as a draft: only "Try it" talks to it until it goes live
  const draft = agent ? null : checkbox(t('agents.startDraft'), { id: 'agent-draft', checked: true, 'aria-describedby': 'agent-draft-hint' });
  const isDefault = checkbox(t('agents.isDefault'), { id: 'agent-default', checked: Boolean(agent && agent.isDefault), 'aria-describedby': 'agent-default-hint' });
  const policy = (agent && agent.policy) || {};
  const handoff = h('input', { id: 'agent-handoff', maxlength: '1000', autocomplete: 'off', value: (policy.handoffKeywords || []).join(', ') });
  const maxLength = h('input', {
    id: 'agent-max-length', type: 'number', min: '20', max: '4000', step: '1', inputmode: 'numeric',
    value: policy.maxAnswerLength ? String(policy.maxAnswerLength) : '',
  });
  // the agent's own monthly LLM spend cap, in US dollars here and micro-dollars in the API
  const hasCap = policy.monthlySpendCapMicros !== undefined && policy.monthlySpendCapMicros !== null;
  const spendCap = h('input', {
    id: 'agent-spend-cap', inputmode: 'decimal', autocomplete: 'off', placeholder: '25.00',
    value: hasCap ? (policy.monthlySpendCapMicros / 1e6).toFixed(2) : '',
  });

  const body = h('div', { id: 'agent-form' },
    field(t('field.name'), name, { hint: t('agents.nameHint') }),
    field(t('agents.kind'), kind, { hint: agent ? t('agents.kindFixed') : t('agents.kindHint') }),
    field(t('agents.product'), product, { hint: t('agents.productHint') }),
    h('fieldset', { class: 'choices', id: 'agent-languages' }, h('legend', {}, t('agents.languages')), languages.map((x) => x.el)),
    field(t('agents.tone'), tone),
    h('fieldset', { class: 'choices', id: 'agent-tools' }, h('legend', {}, t('agents.tools')),
      h('p', { class: 'hint' }, t('agents.toolsHint')), tools.map((x) => x.el)),
    draft ? [draft.el, h('p', { class: 'hint', id: 'agent-draft-hint' }, t('agents.draftHint'))] : null,
    isDefault.el,
    h('p', { class: 'hint', id: 'agent-default-hint' }, t('agents.defaultHint')),
    h('fieldset', { id: 'agent-policy' }, h('legend', {}, t('agents.policy')),
      field(t('agents.handoffWords'), handoff, { hint: t('agents.handoffHint') }),
      field(t('agents.maxLength'), maxLength, { hint: t('agents.maxLengthHint') }),
      field(t('agents.spendCap'), spendCap, { hint: t('agents.spendCapHint') })));

  const d = dialog({
    t, title: agent ? t('agents.editTitle', { name: agent.name }) : t('agents.createTitle'),
    submitLabel: agent ? t('action.save') : t('agents.create'),
    body,
    onSubmit: async ({ close, fail }) => {
      const langs = languages.filter((x) => x.input.checked).map((x) => x.value);
      if (!langs.length) return fail(t('agents.needLanguage'));
      const length = maxLength.value.trim();
      if (length && !(/^\d+$/.test(length) && Number(length) >= 20 && Number(length) <= 4000)) return fail(t('error.invalid_policy'));
      const keywords = words(handoff.value);
      if (keywords.some((w) => w.length > 40)) return fail(t('error.invalid_policy'));
      const newPolicy = {};
      if (keywords.length) newPolicy.handoffKeywords = keywords;
      if (length) newPolicy.maxAnswerLength = Number(length);
      const cap = spendCap.value.trim();
      if (cap && !/^\d{1,7}(\.\d{1,6})?$/.test(cap)) return fail(t('agents.spendCapInvalid'));
      if (cap) {
        // whole micro-dollars from the decimal text, without floating point on the way
        const [whole, fraction = ''] = cap.split('.');
        newPolicy.monthlySpendCapMicros = Number(whole) * 1e6 + Number(fraction.padEnd(6, '0'));
      }
      const payload = {
        name: name.value.trim(),
        languages: langs,
        tone: tone.value,
        tools: tools.filter((x) => x.input.checked).map((x) => x.value),
        isDefault: isDefault.input.checked,
        policy: newPolicy,
      };
      const productText = product.value.trim();
      if (productText) payload.product = productText;
      if (!agent) payload.kind = kind.value;
      if (!agent) payload.status = draft.input.checked ? 'draft' : 'active';
      const result = agent
        ? await api('PATCH', `/v1/agents/${encodeURIComponent(agent.id)}`, { body: payload })
        : await api('POST', '/v1/agents', { body: payload });
      if (!result.ok) return fail(errorText(t, result));
      close(result.data);
    },
  });
  return d.done;
}

export async function render(ctx) {
  const { t, api, root, can } = ctx;
  const canCreate = can('POST /v1/agents');
  const status = statusLine();
  status.id = 'agents-status';
  const list = h('div', { id: 'agents-list' });
  const more = button(t('action.loadMore'), { id: 'agents-more', hidden: true });
  root.append(
    pageHeader(t('agents.title'), canCreate ? button(t('agents.create'), { kind: 'primary', write: true, id: 'agent-create', on: create }) : null),
    h('p', { class: 'hint' }, t('agents.intro')),
    status, list, more);

  let items = [];
  let cursor = null;

  async function load(reset) {
    if (reset) { items = []; cursor = null; }
    say(status, t('app.loading'));
    const answer = await api('GET', `/v1/agents?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!answer.ok) return say(status, errorText(t, answer), 'error');
    items = items.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
    more.hidden = !cursor;
    clear(list).append(table({
      caption: t('agents.caption'), captionHidden: true, rows: items, empty: t('agents.none'),
      columns: [
        {
          label: t('field.name'),
          cell: (a) => h('span', { class: 'agent-name' }, h('a', { href: `#/agents/${encodeURIComponent(a.id)}` }, a.name),
            a.isDefault ? [' ', badge(t('agents.default'), 'default')] : null),
        },
        { label: t('agents.kind'), cell: (a) => kindName(t, a.kind) },
        { label: t('agents.tone'), cell: (a) => t(`tone.${a.tone}`) },
        { label: t('agents.languages'), cell: (a) => languageNames(t, a.languages) },
        { label: t('agents.tools'), cell: (a) => toolNames(t, a.tools) },
        { label: t('field.status'), cell: (a) => statusBadge(t, a.status) },
      ],
    }));
    say(status, t('agents.count', { count: number(items.length) }));
  }

  function create() {
    agentForm(ctx, null).then((agent) => {
      if (!agent) return;
      ctx.announce(t('agents.created', { name: agent.name }));
      ctx.navigate(`#/agents/${encodeURIComponent(agent.id)}?created=1`);
    });
  }

  more.addEventListener('click', () => load(false));
  await load(true);
}
