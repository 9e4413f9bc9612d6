// Money and time for the cashier, in the app's language. Amounts come from the API as decimal strings in the
// currency's units ("5000" RWF, "12.50" KES); Intl knows each currency's decimals (RWF has none).

// the first locale this browser's Intl really knows (Chromium has no Kinyarwanda data: it would fall back to en-US
// and its 12-hour clock); en-GB writes 24-hour times, as East African stations do
const LOCALES = { en: ['en-GB'], fr: ['fr-FR'], sw: ['sw-KE', 'sw'], rw: ['rw-RW', 'en-RW', 'en-GB'] };
let locale = 'en-GB';

export function setLanguage(language) {
  const candidates = [...(LOCALES[language] ?? []), 'en-GB'];
  locale = candidates.find((tag) => Intl.DateTimeFormat.supportedLocalesOf([tag]).length > 0) ?? 'en-GB';
}

function moneyFormat(currency) {
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay: 'code' });
  } catch {
    return null; // an unknown currency code: shown as number + code below
  }
}

export function formatMoney(amount, currency) {
  const format = moneyFormat(currency);
  return format ? format.format(Number(amount)) : `${amount} ${currency}`;
}

/** Integer minor units of a decimal string, so totals never drift (5000 RWF → 5000, "12.50" KES → 1250). */
function minorUnits(amount, currency) {
  const digits = moneyFormat(currency)?.resolvedOptions().maximumFractionDigits ?? 2;
  const [whole, fraction = ''] = String(amount).split('.');
  return Number(whole) * 10 ** digits + Number((fraction + '0'.repeat(digits)).slice(0, digits) || 0);
}

/** Totals per currency of [{amount, currency}], formatted: "RWF 15,000" (or "RWF 15,000 · KES 20.00"). */
export function formatTotals(items) {
  const minor = new Map();
  for (const { amount, currency } of items) minor.set(currency, (minor.get(currency) ?? 0) + minorUnits(amount, currency));
  return [...minor].map(([currency, units]) => {
    const digits = moneyFormat(currency)?.resolvedOptions().maximumFractionDigits ?? 2;
    return formatMoney(units / 10 ** digits, currency);
  }).join(' · ');
}

export function isToday(iso, now = new Date()) {
  const d = new Date(iso);
  return d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
}

export function startOfToday(now = new Date()) {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate());
}

export function formatTime(iso) {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

/** "14:05" today, else "3 Mar 2025, 14:05". */
export function formatWhen(iso) {
  if (isToday(iso)) return formatTime(iso);
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' })
    .format(new Date(iso));
}
