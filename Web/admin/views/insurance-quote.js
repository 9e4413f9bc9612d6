// One insurance quote: the customer, insurer, cover and premium, its review (who decided, when, the comment), and its
// documents, each opened by its signed link in a new tab (images also shown here); for the writers, upload documents
// (the page's file input; a file that is not a PDF, PNG, JPEG or WebP is refused in plain words) and resubmit after
// changes; for the reviewers, "Approve" (with the premium) or "Ask for changes" (with the comment the customer is
// sent).
import { h, clear } from '../lib/dom.js';
import { number, dateTime, dateTimeShort } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, table, details, dialog, newKey, confirmAction } from '../lib/ui.js';
import { amountOf, amountProblem } from './wallet-shared.js';
import { statusBadge, insuranceError, customerOf, sizeText, upload, ACCEPT } from './insurance-shared.js';

export async function render(ctx) {
  const { t, api, root, params, can } = ctx;
  const id = params.id;
  const canUpload = can('POST /v1/insurance-quotes/{id}/documents');
  const canReview = can('POST /v1/insurance-quotes/{id}/review');
  const canResubmit = can('POST /v1/insurance-quotes/{id}/resubmit');

  const head = h('div', { id: 'iq-head' });
  const line = statusLine();
  line.id = 'iq-status-line';
  const summary = h('div', { id: 'iq-summary' });
  const docs = h('div', { id: 'iq-documents' });
  const uploadBox = h('div', { id: 'iq-upload' });
  root.append(h('p', { class: 'breadcrumb' }, h('a', { href: '#/insurance' }, t('insurance.back'))), head, line, summary,
    section(t('insurance.documents'), docs, uploadBox));

  let quote = null;
  let buyers = null;

  async function refresh(message, kind = 'ok') {
    const answer = await api('GET', `/v1/insurance-quotes/${encodeURIComponent(id)}`);
    if (!answer.ok) {
      clear(head).append(pageHeader(t('insurance.quoteTitle')));
      say(line, insuranceError(t, answer), 'error');
      return false;
    }
    quote = answer.data;
    if (quote.buyerId && !buyers && can('GET /v1/buyers/{id}')) {
      const b = await api('GET', `/v1/buyers/${encodeURIComponent(quote.buyerId)}`);
      buyers = new Map(b.ok ? [[b.data.id, b.data]] : []);
    }
    draw();
    if (message) say(line, message, kind);
    return true;
  }

  function draw() {
    const q = quote;
    const actions = [];
    if (canReview && q.status === 'pending') {
      actions.push(button(t('insurance.approve'), { kind: 'primary', write: true, id: 'iq-approve', on: approve }),
        button(t('insurance.askChanges'), { kind: 'danger-quiet', write: true, id: 'iq-changes', on: askChanges }));
    }
    if (canResubmit && q.status === 'needs_changes') {
      actions.push(button(t('insurance.resubmit'), { kind: 'primary', write: true, id: 'iq-resubmit', on: resubmit }));
    }
    clear(head).append(pageHeader(t('insurance.quoteOf', { customer: customerOf(q, buyers) }), actions));
    clear(summary).append(h('div', { class: 'card' }, details([
      [t('field.status'), h('span', { id: 'iq-status' }, statusBadge(t, q.status))],
      [t('insurance.comment'), q.reviewerComment ? h('span', { id: 'iq-comment' }, q.reviewerComment) : ''],
      [t('insurance.customer'), customerOf(q, buyers)],
      [t('insurance.insurer'), q.insurer],
      [t('insurance.cover'), q.coverType],
      [t('insurance.premium'), h('span', { id: 'iq-premium', dataset: { amount: q.premium ? q.premium.amount : '' } }, q.premium ? amountOf(q.premium) : t('insurance.notPriced'))],
      [t('insurance.received'), dateTime(q.createdAt)],
      [t('insurance.reviewed'), q.reviewedAt ? dateTime(q.reviewedAt) : ''],
      [t('insurance.resubmitted'), q.resubmittedAt ? dateTime(q.resubmittedAt) : ''],
    ])));
    drawDocuments();
  }

  function drawDocuments() {
    const documents = quote.documents || [];
    const images = documents.filter((d) => d.contentType.startsWith('image/') && d.downloadUrl);
    clear(docs).append(
      table({
        caption: t('insurance.documentsCaption'), captionHidden: true, rows: documents, empty: t('insurance.noDocuments'),
        columns: [
          {
            label: t('insurance.file'),
            cell: (d) => (d.downloadUrl
              ? h('a', { href: d.downloadUrl, target: '_blank', rel: 'noopener noreferrer', class: 'iq-open', 'aria-label': t('insurance.openNamed', { name: d.fileName }) }, d.fileName)
              : d.fileName),
          },
          { label: t('insurance.type'), cell: (d) => h('span', { class: 'iq-type' }, t(`insuranceType.${d.contentType}`)) },
          { label: t('insurance.size'), className: 'num', cell: (d) => sizeText(d.sizeBytes) },
          { label: t('insurance.uploaded'), cell: (d) => dateTimeShort(d.uploadedAt) },
        ],
      }),
      images.length ? h('div', { class: 'iq-images' }, images.map((d) => h('figure', { class: 'iq-image', dataset: { document: d.id } },
        h('a', { href: d.downloadUrl, target: '_blank', rel: 'noopener noreferrer' },
          h('img', { src: d.downloadUrl, alt: t('insurance.imageOf', { name: d.fileName }), loading: 'lazy' })),
        h('figcaption', { class: 'hint' }, d.fileName)))) : null,
      documents.length ? h('p', { class: 'hint' }, t('insurance.linksExpire')) : null);
    drawUpload();
  }

  function drawUpload() {
    if (!canUpload || quote.status === 'approved') return clear(uploadBox);
    const input = h('input', { type: 'file', id: 'iq-file', accept: ACCEPT, multiple: true });
    const note = h('p', { class: 'status-line', id: 'iq-upload-status', role: 'status', 'aria-live': 'polite' });
    const send = button(t('insurance.upload'), { kind: 'primary', type: 'submit', id: 'iq-upload-submit', dataset: { write: '' } });
    const form = h('form', { class: 'iq-upload-form', id: 'iq-upload-form' },
      field(t('insurance.chooseFiles'), input, { hint: t('insurance.filesHint') }), h('div', { class: 'filters-actions' }, send), note);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const files = [...(input.files || [])];
      if (!files.length) return say(note, t('insurance.noFile'), 'error');
      send.disabled = true;
      const problems = [];
      let sent = 0;
      for (const file of files) {
        say(note, t('insurance.uploading', { name: file.name }));
        const result = await upload(ctx, quote.id, file);
        if (result.ok) sent += 1; else problems.push(result.message);
      }
      send.disabled = false;
      input.value = '';
      if (sent) await refresh();
      const box = document.getElementById('iq-upload-status') || note;
      if (problems.length) {
        say(box, [sent ? t('insurance.uploadedCount', { count: number(sent) }) : '', ...problems].filter(Boolean).join(' '), 'error');
      } else {
        say(box, t('insurance.uploadedCount', { count: number(sent) }), 'ok');
        ctx.announce(t('insurance.uploadedCount', { count: number(sent) }));
      }
      return undefined;
    });
    return clear(uploadBox).append(form);
  }

  function approve() {
    const premium = h('input', { id: 'iq-approve-premium', inputmode: 'decimal', autocomplete: 'off', value: quote.premium ? quote.premium.amount : '', required: !quote.premium });
    const comment = h('textarea', { id: 'iq-approve-comment', maxlength: '1000', rows: '3' });
    const key = newKey();
    dialog({
      t, title: t('insurance.approveTitle'), submitLabel: t('insurance.approve'),
      body: h('div', { class: 'form-grid' }, h('p', {}, t('insurance.approveBody')),
        field(t('insurance.premiumIn', { currency: quote.currency }), premium, { hint: quote.premium ? t('insurance.premiumKeep') : t('insurance.premiumRequired') }),
        field(t('insurance.commentOptional'), comment)),
      onSubmit: async ({ close, fail }) => {
        const body = { decision: 'approve' };
        const text = premium.value.trim();
        if (text && text !== (quote.premium && quote.premium.amount)) {
          const problem = amountProblem(text, quote.currency);
          if (problem) return fail(t(problem, { currency: quote.currency }));
          body.premium = text;
        }
        if (!text && !quote.premium) return fail(t('insurance.premiumRequired'));
        if (comment.value.trim()) body.comment = comment.value.trim();
        const result = await api('POST', `/v1/insurance-quotes/${encodeURIComponent(quote.id)}/review`, { body, idempotencyKey: key });
        if (!result.ok) return fail(insuranceError(t, result));
        close(result.data);
      },
    }).done.then(async (done) => {
      if (!done) return;
      const words = t('insurance.approved');
      ctx.announce(words);
      await refresh(words);
    });
  }

  function askChanges() {
    const comment = h('textarea', { id: 'iq-changes-comment', name: 'comment', required: true, maxlength: '1000', rows: '4' });
    const key = newKey();
    dialog({
      t, title: t('insurance.changesTitle'), submitLabel: t('insurance.askChanges'), destructive: true,
      body: h('div', { class: 'form-grid' }, h('p', {}, t('insurance.changesBody')), field(t('insurance.comment'), comment, { hint: t('insurance.commentHint') })),
      onSubmit: async ({ close, fail }) => {
        if (!comment.value.trim()) return fail(t('insurance.commentRequired'));
        const result = await api('POST', `/v1/insurance-quotes/${encodeURIComponent(quote.id)}/review`,
          { body: { decision: 'needs_changes', comment: comment.value.trim() }, idempotencyKey: key });
        if (!result.ok) return fail(insuranceError(t, result));
        close(result.data);
      },
    }).done.then(async (done) => {
      if (!done) return;
      const words = t('insurance.changesAsked');
      ctx.announce(words);
      await refresh(words);
    });
  }

  function resubmit() {
    confirmAction({
      t, title: t('insurance.resubmitTitle'), message: t('insurance.resubmitBody'), confirmLabel: t('insurance.resubmit'), destructive: false,
      onConfirm: async () => {
        const result = await api('POST', `/v1/insurance-quotes/${encodeURIComponent(quote.id)}/resubmit`, { idempotencyKey: newKey() });
        return result.ok ? null : insuranceError(t, result);
      },
    }).then(async (done) => {
      if (!done) return;
      const words = t('insurance.resubmitDone');
      ctx.announce(words);
      await refresh(words);
    });
  }

  await refresh();
}
