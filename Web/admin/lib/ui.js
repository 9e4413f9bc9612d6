// Shared pieces of the console's pages: fields, buttons, tables, dialogs, error text. Built on dom.js.
import { h, uid } from './dom.js';
import en from '../strings/en.js';

/** A labelled control: `field(t('x'), h('input', {...}), {hint})`. The input gets an id if it has none. */
export function field(label, control, { hint, className } = {}) {
  if (!control.id) control.id = uid('field');
  const parts = [h('label', { for: control.id }, label)];
  if (hint) {
    const hintId = uid('hint');
    control.setAttribute('aria-describedby', hintId);
    parts.push(control, h('p', { class: 'hint', id: hintId }, hint));
  } else {
    parts.push(control);
  }
  return h('div', { class: ['field', className] }, parts);
}

/** A checkbox with its label after it. */
export function checkbox(label, props = {}) {
  const input = h('input', { type: 'checkbox', ...props });
  if (!input.id) input.id = uid('check');
  return { input, el: h('div', { class: 'check' }, input, h('label', { for: input.id }, label)) };
}

export function select(options, props = {}) {
  return h('select', props, options.map(([value, label]) => h('option', { value, selected: value === props.value }, label)));
}

/**
 * A button. `write: true` marks it as changing something (tests check that read-only people see none); views create
 * write buttons only when `session.can` allows the endpoint behind them.
 */
export function button(label, { kind = 'secondary', on, write = false, type = 'button', ...rest } = {}) {
  return h('button', { type, class: ['btn', `btn-${kind}`], dataset: write ? { write: '' } : undefined, on: on && { click: on }, ...rest }, label);
}

export function linkButton(label, href, { kind = 'secondary', write = false, ...rest } = {}) {
  return h('a', { href, class: ['btn', `btn-${kind}`], dataset: write ? { write: '' } : undefined, ...rest }, label);
}

/** Page title (focused on navigation, for screen readers) and the page's main actions. */
export function pageHeader(title, ...actions) {
  return h('div', { class: 'page-header' },
    h('h1', { tabindex: '-1', class: 'page-title' }, title),
    actions.flat().filter(Boolean).length ? h('div', { class: 'page-actions' }, actions) : null);
}

export function section(title, ...children) {
  const id = uid('sec');
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), children);
}

/** A live region: results and outcomes are announced without moving focus. */
export function statusLine(className = 'status-line') {
  return h('p', { class: className, role: 'status', 'aria-live': 'polite' });
}

export function say(el, text, kind = '') {
  el.textContent = text || '';
  el.dataset.kind = kind;
}

/** Words for an API answer that failed: the code's own sentence when we have one, else the server's message. */
export function errorText(t, result) {
  if (!result) return t('error.generic');
  if (result.status === 0) return t('error.offline');
  const code = result.error && result.error.code;
  if (code && `error.${code}` in en) return t(`error.${code}`);
  if (result.status === 403) return t('error.forbidden');
  if (result.error && result.error.message && !String(code || '').startsWith('http_')) return result.error.message;
  return t('error.status', { status: result.status });
}

export function badge(text, kind) {
  return h('span', { class: ['badge', `badge-${kind}`] }, text);
}

/**
 * A table that becomes a list of cards on phones (each cell shows its column name). `columns`:
 * [{label, cell: (row) => node|string, className}].
 */
export function table({ caption, columns, rows, empty, captionHidden = false }) {
  const captionId = uid('cap');
  if (!rows.length && empty) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap', role: 'region', 'aria-labelledby': captionId, tabindex: '0' },
    h('table', { class: 'data' },
      h('caption', { id: captionId, class: captionHidden ? 'visually-hidden' : null }, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.className }, c.label)))),
      h('tbody', {}, rows.map((row) => h('tr', { dataset: row.id ? { id: row.id } : undefined },
        columns.map((c) => h('td', { 'data-label': c.label, class: c.className }, c.cell(row))))))));
}

/** A definition list of [term, value] pairs, skipping empty values. */
export function details(pairs) {
  return h('dl', { class: 'details' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))));
}

/**
 * A modal form in a native <dialog> (focus is kept inside, Escape closes, focus returns to the opener).
 * `onSubmit({close, fail})` runs on a valid submit; it calls close(value) or fail(message).
 */
export function dialog({ t, title, body, submitLabel, onSubmit, destructive = false, cancelLabel }) {
  const titleId = uid('dlg');
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = submitLabel ? button(submitLabel, { kind: destructive ? 'danger' : 'primary', type: 'submit' }) : null;
  const cancel = button(cancelLabel || t('action.cancel'), { kind: 'secondary', value: 'cancel' });
  const form = h('form', { class: 'dialog-form' },
    h('h2', { id: titleId }, title), body, error, h('div', { class: 'dialog-actions' }, cancel, submit));
  const el = h('dialog', { 'aria-labelledby': titleId, class: 'dialog' }, form);
  const opener = document.activeElement;
  let result;
  let resolve;
  const done = new Promise((r) => { resolve = r; });
  const close = (value) => { result = value; el.close(); };
  const fail = (message) => { error.textContent = message; };
  cancel.addEventListener('click', () => close(undefined));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!onSubmit) return close(true);
    error.textContent = '';
    submit.disabled = true;
    try { await onSubmit({ close, fail, form }); } catch (e) { fail(e instanceof TypeError ? t('error.offline') : String(e.message || e)); }
    finally { submit.disabled = false; }
  });
  el.addEventListener('close', () => {
    el.remove();
    if (opener && opener.isConnected) opener.focus();
    resolve(result);
  });
  document.body.append(el);
  el.showModal();
  return { el, close, fail, done };
}

/** Asks before a change; with `reason` the person must say why (sent to the API). Resolves to {reason} or null. */
export function confirmAction({ t, title, message, confirmLabel, reason = false, destructive = true, onConfirm }) {
  const reasonInput = reason ? h('textarea', { required: true, maxlength: '500', rows: '3', name: 'reason' }) : null;
  const body = h('div', {}, h('p', {}, message), reasonInput ? field(t('field.reason'), reasonInput) : null);
  const d = dialog({
    t, title, body, submitLabel: confirmLabel, destructive,
    onSubmit: async ({ close, fail }) => {
      const value = reasonInput ? reasonInput.value.trim() : '';
      if (reasonInput && !value) return fail(t('error.reasonRequired'));
      const problem = onConfirm ? await onConfirm(value) : null;
      if (problem) return fail(problem);
      close({ reason: value });
    },
  });
  return d.done;
}

/** Copies text, with a fallback for browsers without the async clipboard (or without permission). */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (input) { input.select(); return document.execCommand('copy'); }
    return false;
  }
}

/** A random idempotency key: one per thing the person means to do once (a retry reuses it). */
export function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}
