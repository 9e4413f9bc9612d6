// "Issue a voucher": amount, phone number, optional station scope and expiry day. One Idempotency-Key per dialog,
// so a retry after a lost answer issues nothing twice.
import { h } from '../lib/dom.js';
import { isoDay, addDays, endOfDay } from '../lib/format.js';
import { field, dialog, select, errorText, newKey } from '../lib/ui.js';

export const E164 = /^\+[1-9][0-9]{7,14}$/;

/** Spaces, dashes, dots and brackets people type in phone numbers go; "00" becomes "+". */
export function normalisePhone(text) {
  const compact = String(text).replace(/[\s().-]/g, '');
  return compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
}

// Which field an error code is about, to show the message next to it.
const FIELD_OF = { invalid_amount: 'amount', invalid_msisdn: 'msisdn', unknown_station: 'station', invalid_expiry: 'expiry' };

export function issueVoucher(ctx, stations) {
  const { t, api } = ctx;
  const amount = h('input', { name: 'amount', required: true, inputmode: 'decimal', pattern: '[0-9]+([.][0-9]+)?', autocomplete: 'off', id: 'issue-amount' });
  const msisdn = h('input', { name: 'msisdn', type: 'tel', required: true, autocomplete: 'off', placeholder: '+250788123456', id: 'issue-msisdn' });
  const station = select([['', t('vouchers.anyStation')], ...stations.filter((s) => s.status === 'active').map((s) => [s.id, `${s.name} (${s.engencode})`])], { id: 'issue-station' });
  const expiry = h('input', { name: 'expiry', type: 'date', min: addDays(isoDay(), 1), max: addDays(isoDay(), 3650), id: 'issue-expiry' });
  const inputs = { amount, msisdn, station, expiry };
  let idempotencyKey = newKey();
  const body = h('div', {},
    field(t('field.amount'), amount, { hint: t('issue.amountHint') }),
    field(t('field.phone'), msisdn, { hint: t('field.phoneHint') }),
    field(t('field.stationScope'), station, { hint: t('issue.stationHint') }),
    field(t('field.expiryDay'), expiry, { hint: t('issue.expiryHint') }));
  const d = dialog({
    t, title: t('issue.title'), body, submitLabel: t('issue.submit'),
    onSubmit: async ({ close, fail }) => {
      for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
      const phone = normalisePhone(msisdn.value);
      if (!E164.test(phone)) { msisdn.setAttribute('aria-invalid', 'true'); msisdn.focus(); return fail(t('error.invalid_msisdn')); }
      const payload = { amount: amount.value.trim(), msisdn: phone };
      if (station.value) payload.stationScope = station.value;
      if (expiry.value) payload.expiresAt = endOfDay(expiry.value);
      const result = await api('POST', '/v1/vouchers', { body: payload, idempotencyKey });
      if (!result.ok) {
        // a 4xx was refused before anything was written: the corrected request is a new one
        if (result.status >= 400 && result.status < 500) idempotencyKey = newKey();
        const input = inputs[FIELD_OF[result.error && result.error.code]];
        if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
        return fail(errorText(t, result));
      }
      close(result.data);
    },
  });
  return d.done;
}
