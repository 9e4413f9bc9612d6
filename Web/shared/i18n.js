// Strings per app: English is complete and the fallback; other languages may be partial.

/** The first of `supported` the browser prefers, else a language chosen before, else English. */
export function pickLanguage(supported) {
  const chosen = localStorage.getItem('sokoni.language');
  if (chosen && supported.includes(chosen)) return chosen;
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const base = tag.toLowerCase().split('-')[0];
    if (supported.includes(base)) return base;
  }
  return 'en';
}

export function rememberLanguage(language) {
  localStorage.setItem('sokoni.language', language);
}

/**
 * A translate function: `t('key', {name: 'x'})` fills `{name}` in the chosen language's text, falling back to
 * English, and to the key itself when even English lacks it (a missing string is visible, not blank).
 */
export async function makeT(english, loaders, language) {
  let strings = {};
  if (language !== 'en' && loaders[language]) {
    try { strings = (await loaders[language]()).default; } catch { strings = {}; }
  }
  const t = (key, params = {}) => {
    const text = strings[key] ?? english[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
  };
  t.language = language;
  return t;
}
