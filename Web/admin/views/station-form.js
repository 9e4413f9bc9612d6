// The station dialog (create or edit) and the activate/deactivate confirmation, used by the list and a station's page.
import { h } from '../lib/dom.js';
import { field, dialog, select, button, errorText, confirmAction, newKey } from '../lib/ui.js';

/** Opens the form; resolves to the saved station, or undefined when cancelled. */
export function stationForm(ctx, station) {
  const { t, api } = ctx;
  const name = h('input', { name: 'name', required: true, maxlength: '200', value: station ? station.name : '', id: 'station-name' });
  const code = h('input', { name: 'engencode', required: true, maxlength: '64', value: station ? station.engencode : '', id: 'station-code', disabled: Boolean(station) });
  const contact = h('input', { name: 'ownerContact', type: 'tel', autocomplete: 'off', placeholder: '+250788123456', value: station && station.ownerContact ? station.ownerContact : '', id: 'station-contact' });
  const lat = h('input', { name: 'latitude', type: 'number', step: 'any', min: '-90', max: '90', value: station && station.location ? String(station.location.latitude) : '', id: 'station-lat' });
  const lng = h('input', { name: 'longitude', type: 'number', step: 'any', min: '-180', max: '180', value: station && station.location ? String(station.location.longitude) : '', id: 'station-lng' });
  const status = select([['active', t('stationStatus.active')], ['inactive', t('stationStatus.inactive')]], { id: 'station-status', value: station ? station.status : 'active' });
  const here = button(t('stations.useHere'), {
    on: () => navigator.geolocation && navigator.geolocation.getCurrentPosition((p) => {
      lat.value = p.coords.latitude.toFixed(6);
      lng.value = p.coords.longitude.toFixed(6);
    }),
  });
  let idempotencyKey = newKey();
  const body = h('div', {},
    field(t('field.name'), name),
    field(t('field.engencode'), code, { hint: station ? t('stations.codeFixed') : t('stations.codeHint') }),
    field(t('field.ownerContact'), contact, { hint: t('field.phoneHint') }),
    h('fieldset', { class: 'inline-fields' }, h('legend', {}, t('stations.location')),
      field(t('field.latitude'), lat), field(t('field.longitude'), lng), here),
    field(t('field.status'), status));
  const d = dialog({
    t, title: station ? t('stations.editTitle', { name: station.name }) : t('stations.createTitle'),
    body, submitLabel: station ? t('action.save') : t('stations.create'),
    onSubmit: async ({ close, fail }) => {
      if ((lat.value === '') !== (lng.value === '')) return fail(t('stations.bothCoordinates'));
      const payload = { name: name.value.trim(), status: status.value };
      if (!station) payload.engencode = code.value.trim();
      const phone = contact.value.replace(/[\s()-]/g, '');
      if (phone) payload.ownerContact = phone;
      if (lat.value !== '') payload.location = { latitude: Number(lat.value), longitude: Number(lng.value) };
      const result = station
        ? await api('PATCH', `/v1/stations/${encodeURIComponent(station.id)}`, { body: payload })
        : await api('POST', '/v1/stations', { body: payload, idempotencyKey });
      if (!result.ok) {
        if (result.status >= 400 && result.status < 500) idempotencyKey = newKey();
        return fail(errorText(t, result));
      }
      close(result.data);
    },
  });
  return d.done;
}

/** Asks, then flips a station between active and inactive. Resolves true when it changed. */
export async function toggleStation(ctx, station) {
  const { t, api } = ctx;
  const deactivate = station.status === 'active';
  const done = await confirmAction({
    t,
    title: t(deactivate ? 'stations.deactivateTitle' : 'stations.activateTitle', { name: station.name }),
    message: t(deactivate ? 'stations.deactivateBody' : 'stations.activateBody'),
    confirmLabel: t(deactivate ? 'stations.deactivate' : 'stations.activate'),
    destructive: deactivate,
    onConfirm: async () => {
      const result = await api('PATCH', `/v1/stations/${encodeURIComponent(station.id)}`, { body: { status: deactivate ? 'inactive' : 'active' } });
      return result.ok ? null : errorText(t, result);
    },
  });
  if (done) ctx.announce(t(deactivate ? 'stations.deactivated' : 'stations.activated', { name: station.name }));
  return Boolean(done);
}
