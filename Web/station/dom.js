// Tiny DOM helpers. Nothing here writes HTML strings or style attributes (the CSP forbids inline styles).
export const $ = (id) => document.getElementById(id);

/** el('li', {class: 'x', dataset: {state: 'ok'}}, 'text', child) */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'class') node.className = value;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== ''));
  return node;
}

/** Fills every [data-i18n] element's text and every [data-i18n-aria] element's aria-label. */
export function applyStrings(t, root = document) {
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-aria]')) node.setAttribute('aria-label', t(node.dataset.i18nAria));
}

/** Sets an element's text and hides it when there is none. */
export function setText(id, text) {
  const node = $(id);
  node.textContent = text ?? '';
  node.hidden = !text;
}
