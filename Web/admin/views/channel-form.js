// The channel dialog (create or edit). Its fields follow the kind: the provider's settings and its secrets.
// Secrets are write-only: password fields that start empty; an existing secret shows only its hint, and an empty
// field keeps it. Nothing of a typed secret stays in the page: the dialog is removed when it closes.
import { h, clear } from '../lib/dom.js';
import { field, dialog, select, checkbox, errorText, newKey } from '../lib/ui.js';
import { KINDS, KIND_FIELDS } from './messaging-shared.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The config inputs of one kind, each with how to read it back into the API's shape. */
function configInputs(t, kind, config) {
  return KIND_FIELDS[kind].config.map((spec) => {
    const current = config ? config[spec.name] : undefined;
    const id = `channel-${spec.name}`;
    if (spec.flag) {
      const box = checkbox(t(`channelField.${spec.name}`), { id, checked: Boolean(current) });
      return { spec, el: box.el, read: () => box.input.checked };
    }
    if (spec.list) {
      const input = h('textarea', { id, rows: '3', spellcheck: 'false', autocomplete: 'off', value: (current || []).join('\n') });
      return {
        spec, el: field(t(`channelField.${spec.name}`), input, { hint: t(`channelHint.${spec.name}`) }),
        read: () => input.value.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean),
      };
    }
    if (spec.options) {
      const input = select(spec.options.map((o) => [o, t(`channelOption.${o}`)]), { id, value: current || spec.options[0] });
      return { spec, el: field(t(`channelField.${spec.name}`), input), read: () => input.value };
    }
    const input = h('input', {
      id, type: spec.type || 'text', required: Boolean(spec.required), autocomplete: 'off', spellcheck: 'false', maxlength: '200', value: current || '',
    });
    return { spec, el: field(t(`channelField.${spec.name}`), input, { hint: t(`channelHint.${spec.name}`) }), read: () => input.value.trim() || undefined };
  });
}

/** The secret inputs of one kind: required when creating, optional (kept when empty) when editing. */
function secretInputs(t, kind, hints) {
  return KIND_FIELDS[kind].secrets.map((name) => {
    const hint = hints && hints[name];
    const input = h('input', {
      id: `secret-${name}`, type: 'password', autocomplete: 'new-password', spellcheck: 'false', maxlength: '2000', required: !hints,
      name: `secret-${name}`,
    });
    const words = hint ? t('channels.secretKept', { hint }) : t(`secretHint.${name}`);
    return { name, input, el: field(t(`secret.${name}`), input, { hint: words }) };
  });
}

/** Opens the form; resolves to the saved channel, or undefined when cancelled. */
export function channelForm(ctx, channel) {
  const { t, api } = ctx;
  const kind = select(KINDS.map((k) => [k, t(`channelKind.${k}`)]), { id: 'channel-kind', value: channel ? channel.kind : 'whatsapp', disabled: Boolean(channel) });
  const name = h('input', { id: 'channel-name', required: true, maxlength: '200', autocomplete: 'off', value: channel ? channel.name : '' });
  const agent = h('input', { id: 'channel-agent', autocomplete: 'off', spellcheck: 'false', maxlength: '36', class: 'mono' });
  const status = select([['active', t('channelStatus.active')], ['disabled', t('channelStatus.disabled')]], { id: 'channel-status', value: channel ? channel.status : 'active' });
  const settingsBox = h('fieldset', { class: 'channel-settings' });
  const secretsBox = h('fieldset', { class: 'channel-secrets' });
  let configs = [];
  let secrets = [];

  const drawKind = () => {
    configs = configInputs(t, kind.value, channel && channel.config);
    secrets = secretInputs(t, kind.value, channel && channel.secretHints);
    clear(settingsBox).append(h('legend', {}, t('channels.settings')),
      ...(configs.length ? configs.map((c) => c.el) : [h('p', { class: 'hint' }, t('channels.noSettings'))]));
    clear(secretsBox).append(h('legend', {}, t('channels.secrets')), ...(secrets.length
      ? [h('p', { class: 'hint' }, t(channel ? 'channels.secretsEdit' : 'channels.secretsIntro')), ...secrets.map((s) => s.el)]
      : [h('p', { class: 'hint' }, t('channels.noSecrets'))]));
  };
  drawKind();
  kind.addEventListener('change', drawKind);

  let idempotencyKey = newKey();
  const body = h('div', { id: 'channel-form' },
    field(t('channels.kind'), kind, { hint: channel ? t('channels.kindFixed') : t('channels.kindHint') }),
    field(t('field.name'), name, { hint: t('channels.nameHint') }),
    channel ? field(t('field.status'), status) : field(t('channels.agent'), agent, { hint: t('channels.agentHint') }),
    settingsBox, secretsBox);
  const d = dialog({
    t, title: channel ? t('channels.editTitle', { name: channel.name }) : t('channels.createTitle'),
    submitLabel: channel ? t('action.save') : t('channels.create'),
    body,
    onSubmit: async ({ close, fail }) => {
      const config = {};
      for (const c of configs) {
        const value = c.read();
        if (value !== undefined && !(Array.isArray(value) && !value.length && !channel)) config[c.spec.name] = value;
      }
      const typed = {};
      for (const s of secrets) if (s.input.value) typed[s.name] = s.input.value;
      const agentId = agent.value.trim();
      if (!channel && agentId && !UUID.test(agentId)) return fail(t('channels.badAgent'));
      const payload = channel
        ? { name: name.value.trim(), status: status.value, config, ...(Object.keys(typed).length ? { secrets: typed } : {}) }
        : { kind: kind.value, name: name.value.trim(), config, ...(Object.keys(typed).length ? { secrets: typed } : {}), ...(agentId ? { agentId } : {}) };
      const result = channel
        ? await api('PATCH', `/v1/channels/${encodeURIComponent(channel.id)}`, { body: payload })
        : await api('POST', '/v1/channels', { body: payload, idempotencyKey });
      if (!result.ok) {
        if (result.status >= 400 && result.status < 500) idempotencyKey = newKey();
        return fail(errorText(t, result));
      }
      // the typed secrets leave the page with the dialog; empty the fields now in case it lingers
      for (const s of secrets) s.input.value = '';
      close(result.data);
    },
  });
  return d.done;
}
