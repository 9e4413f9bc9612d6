// Dates, money and numbers in the reader's language. The API speaks ISO 8601 and decimal strings.

let locale = 'en';
export function setLocale(language) { locale = language; }

export function number(n) {
  return new Intl.NumberFormat(locale).format(n);
}

/** "5,000 RWF": amount is the API's decimal string in major units. */
export function money(amount, currency) {
  const value = Number(amount);
  if (!Number.isFinite(value)) return `${amount} ${currency || ''}`.trim();
  const decimals = String(amount).includes('.') ? String(amount).split('.')[1].length : 0;
  const text = new Intl.NumberFormat(locale, { minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(value);
  return currency ? `${text} ${currency}` : text;
}

export function dateTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

/** "12/2/26, 10:33 AM": for narrow table columns. */
export function dateTimeShort(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'short' }).format(date);
}

export function date(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(date);
}

/** "12 Mar" for a YYYY-MM-DD day (read as a calendar day, not a UTC instant). */
export function shortDay(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' }).format(new Date(y, m - 1, d));
}

export function longDay(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Intl.DateTimeFormat(locale, { dateStyle: 'full' }).format(new Date(y, m - 1, d));
}

/** The local calendar day of a Date as YYYY-MM-DD. */
export function isoDay(d = new Date()) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function addDays(day, n) {
  const [y, m, d] = day.split('-').map(Number);
  return isoDay(new Date(y, m - 1, d + n));
}

/** Every day from `from` to `to` inclusive (YYYY-MM-DD), at most `max`. */
export function daysBetween(from, to, max = 400) {
  const days = [];
  for (let day = from; day <= to && days.length < max; day = addDays(day, 1)) days.push(day);
  return days;
}

/** The end of a local calendar day as an ISO instant ("valid through that day"). */
export function endOfDay(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d, 23, 59, 59).toISOString();
}

export function shortId(id) {
  return id ? String(id).slice(0, 8) : '';
}
