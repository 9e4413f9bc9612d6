// One station: its details, its operators (GET /v1/users?stationId=) and its recent redemptions
// (GET /v1/redemptions?stationId=).
import { h, clear } from '../lib/dom.js';
import { dateTime, dateTimeShort, money } from '../lib/format.js';
import { pageHeader, section, button, errorText, table, badge, details, linkButton } from '../lib/ui.js';
import { stationForm, toggleStation } from './station-form.js';

export async function render(ctx) {
  const { t, api, root, params, can } = ctx;
  const id = params.id;
  const result = await api('GET', `/v1/stations/${encodeURIComponent(id)}`);
  if (!result.ok) {
    root.append(pageHeader(t('station.title')), h('p', { class: 'form-error', role: 'alert' }, errorText(t, result)),
      h('p', {}, h('a', { href: '#/stations' }, t('station.back'))));
    return;
  }
  const station = result.data;
  const canEdit = can('PATCH /v1/stations/{id}');
  const refresh = () => ctx.navigate(location.hash);
  root.append(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/stations' }, t('station.back'))),
    pageHeader(station.name,
      canEdit ? button(t('action.edit'), { write: true, id: 'station-edit', on: async () => { if (await stationForm(ctx, station)) refresh(); } }) : null,
      canEdit ? button(t(station.status === 'active' ? 'stations.deactivate' : 'stations.activate'), {
        write: true, id: 'station-toggle', kind: station.status === 'active' ? 'danger-quiet' : 'secondary',
        on: async () => { if (await toggleStation(ctx, station)) refresh(); },
      }) : null,
      can('GET /v1/vouchers/audit') ? linkButton(t('audit.forThis'), `#/audit?service=vouchers&targetType=stations&targetId=${encodeURIComponent(station.id)}`) : null),
    section(t('station.details'), details([
      [t('field.engencode'), station.engencode],
      [t('field.status'), badge(t(`stationStatus.${station.status}`), station.status)],
      [t('field.ownerContact'), station.ownerContact],
      [t('stations.location'), station.location ? `${station.location.latitude}, ${station.location.longitude}` : null],
      [t('field.created'), dateTime(station.createdAt)],
      [t('field.updated'), dateTime(station.updatedAt)],
    ])));

  const operators = h('div', { id: 'station-operators' }, h('p', { class: 'loading' }, t('app.loading')));
  const redemptions = h('div', { id: 'station-redemptions' }, h('p', { class: 'loading' }, t('app.loading')));
  root.append(h('div', { class: 'grid-2' },
    can('GET /v1/users') ? section(t('station.operators'), operators) : null,
    can('GET /v1/redemptions') ? section(t('station.redemptions'), redemptions) : null));

  const jobs = [];
  if (can('GET /v1/users')) {
    jobs.push(api('GET', `/v1/users?stationId=${encodeURIComponent(id)}&limit=100`).then((r) => {
      clear(operators);
      if (!r.ok) return operators.append(h('p', { class: 'form-error' }, errorText(t, r)));
      // until every gateway filters by station, keep only this station's people
      const people = r.data.items.filter((u) => u.stationId === id);
      operators.append(table({
        caption: t('station.operators'), captionHidden: true, rows: people, empty: t('station.noOperators'),
        columns: [
          { label: t('field.name'), cell: (u) => u.name || '—' },
          { label: t('field.email'), cell: (u) => u.email },
          { label: t('field.status'), cell: (u) => badge(t(u.active ? 'users.active' : 'users.inactive'), u.active ? 'active' : 'inactive') },
        ],
      }));
      if (can('PATCH /v1/users/{id}')) operators.append(h('p', {}, h('a', { href: `#/users?stationId=${encodeURIComponent(id)}` }, t('station.manageOperators'))));
    }));
  }
  if (can('GET /v1/redemptions')) {
    jobs.push(api('GET', `/v1/redemptions?stationId=${encodeURIComponent(id)}&limit=20`).then((r) => {
      clear(redemptions);
      if (!r.ok) return redemptions.append(h('p', { class: 'form-error' }, errorText(t, r)));
      redemptions.append(table({
        caption: t('station.redemptions'), captionHidden: true, rows: r.data.items, empty: t('station.noRedemptions'),
        columns: [
          { label: t('field.when'), className: 'nowrap', cell: (x) => dateTimeShort(x.redeemedAt) },
          { label: t('field.code'), cell: (x) => (can('GET /v1/vouchers/{id}') ? h('a', { href: `#/vouchers/${encodeURIComponent(x.voucherId)}`, class: 'code' }, x.code) : x.code) },
          { label: t('field.amount'), className: 'num', cell: (x) => money(x.amount, x.currency) },
          { label: t('field.phone'), cell: (x) => x.maskedMsisdn },
        ],
      }));
    }));
  }
  await Promise.all(jobs);
}
