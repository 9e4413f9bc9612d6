// The tenant's stations for pickers and names (up to 1,000), kept for a minute per tenant.
import { loadAll, forget } from '../lib/cached-list.js';

export const loadStations = (ctx, options) => loadAll(ctx, '/v1/stations', 'GET /v1/stations', options);

export function forgetStations() {
  forget('/v1/stations');
}
