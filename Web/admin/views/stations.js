// Stations: the tenant's stations by name (search filters what is loaded), or by distance from here ("near me"),
// with create, edit and deactivate for those allowed to change stations.
import { h, clear } from '../lib/dom.js';
import { number } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, errorText, table, badge, select } from '../lib/ui.js';
import { stationForm, toggleStation } from './station-form.js';

export async function render(ctx) {
  const { t, api, root, can } = ctx;
  const canCreate = can('POST /v1/stations');
  const canEdit = can('PATCH /v1/stations/{id}');
  const search = h('input', { type: 'search', id: 'station-search', autocomplete: 'off', value: ctx.query.get('q') || '' });
  const radius = select([['2', '2 km'], ['5', '5 km'], ['10', '10 km'], ['25', '25 km'], ['50', '50 km'], ['200', '200 km']],
    { id: 'station-radius', value: ctx.query.get('radiusKm') || '10' });
  const nearButton = button(t('stations.nearMe'), { id: 'near-me' });
  const allButton = button(t('stations.showAll'), { id: 'show-all', hidden: true });
  const status = statusLine();
  const list = h('div', { id: 'stations-list' });
  const more = button(t('action.loadMore'), { hidden: true, id: 'stations-more' });

  root.append(
    pageHeader(t('stations.title'),
      canCreate ? button(t('stations.create'), { kind: 'primary', write: true, id: 'station-create', on: () => openForm(null) }) : null),
    h('div', { class: 'filters' },
      field(t('stations.search'), search, { hint: t('stations.searchHint') }),
      field(t('stations.radius'), radius),
      h('div', { class: 'filters-actions' }, nearButton, allButton)),
    status, list, more);

  let stations = [];
  let cursor = null;
  let near = null;  // {lat, lng} when showing distances

  const visible = () => {
    const q = search.value.trim().toLowerCase();
    return q ? stations.filter((s) => s.name.toLowerCase().includes(q) || s.engencode.toLowerCase().includes(q)) : stations;
  };

  function draw() {
    const rows = visible();
    const columns = [
      { label: t('field.name'), cell: (s) => h('a', { href: `#/stations/${encodeURIComponent(s.id)}` }, s.name) },
      { label: t('field.engencode'), cell: (s) => s.engencode },
      { label: t('field.status'), cell: (s) => badge(t(`stationStatus.${s.status}`), s.status) },
      { label: t('field.ownerContact'), cell: (s) => s.ownerContact || '—' },
    ];
    if (near) columns.push({ label: t('stations.distance'), className: 'num', cell: (s) => (s.distanceKm != null ? t('stations.km', { km: number(Math.round(s.distanceKm * 10) / 10) }) : '—') });
    if (canEdit) {
      columns.push({
        label: t('field.actions'), cell: (s) => h('div', { class: 'row-actions' },
          button(t('action.edit'), { write: true, on: () => openForm(s), 'aria-label': t('stations.editNamed', { name: s.name }) }),
          button(t(s.status === 'active' ? 'stations.deactivate' : 'stations.activate'), {
            write: true, kind: s.status === 'active' ? 'danger-quiet' : 'secondary',
            'aria-label': t(s.status === 'active' ? 'stations.deactivateNamed' : 'stations.activateNamed', { name: s.name }),
            on: async () => { if (await toggleStation(ctx, s)) reload(); },
          })),
      });
    }
    clear(list).append(table({ caption: t('stations.caption'), captionHidden: true, columns, rows, empty: t(stations.length ? 'stations.noMatch' : 'stations.none') }));
    say(status, t('stations.count', { shown: number(rows.length), total: number(stations.length) }));
  }

  async function loadPage() {
    const path = near
      ? `/v1/stations?near=${near.lat},${near.lng}&radiusKm=${radius.value}&limit=200`
      : `/v1/stations?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    say(status, t('app.loading'));
    const result = await api('GET', path);
    if (!result.ok) { say(status, errorText(t, result), 'error'); return; }
    stations = stations.concat(result.data.items);
    cursor = near ? null : result.data.nextCursor || null;
    more.hidden = !cursor;
    draw();
  }

  function reload() { stations = []; cursor = null; return loadPage(); }

  function openForm(station) {
    stationForm(ctx, station).then((saved) => {
      if (!saved) return;
      ctx.announce(t(station ? 'stations.saved' : 'stations.created', { name: saved.name }));
      reload();
    });
  }

  search.addEventListener('input', () => { ctx.setQuery({ q: search.value }); draw(); });
  more.addEventListener('click', loadPage);
  nearButton.addEventListener('click', () => {
    if (!navigator.geolocation) return say(status, t('stations.noGeolocation'), 'error');
    say(status, t('stations.locating'));
    navigator.geolocation.getCurrentPosition((pos) => {
      near = { lat: pos.coords.latitude.toFixed(5), lng: pos.coords.longitude.toFixed(5) };
      allButton.hidden = false;
      reload();
    }, () => say(status, t('stations.locationDenied'), 'error'), { timeout: 10000, maximumAge: 60000 });
  });
  radius.addEventListener('change', () => { if (near) reload(); });
  allButton.addEventListener('click', () => { near = null; allButton.hidden = true; reload(); });

  await loadPage();
}
