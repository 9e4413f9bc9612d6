// The Sokoni web-chat widget. A business pastes one tag into its site:
//   <script src="https://GATEWAY/webchat/widget.js" data-channel="ch_…" async></script>
// Optional: data-title (the panel's heading), data-lang (en, fr, sw, rw; default the page's), data-open="true".
// It talks to the gateway over one WebSocket (/webchat/socket): the visitor's token is kept in localStorage so a
// reload resumes the same chat; after a dropped connection it resumes from the last sequence number it shows, and
// messages typed meanwhile are sent again with the same id (the server stores each once). Everything it draws
// lives in a shadow root, so the host page's CSS neither breaks it nor is broken by it.
(() => {
  const script = document.currentScript;
  if (!script) return;
  const source = new URL(script.src, location.href);
  const channel = script.dataset.channel || source.searchParams.get('channel');
  if (!channel || window.SokoniChat) return;

  const STRINGS = {
    en: { title: 'Chat with us', open: 'Open chat', close: 'Close chat', placeholder: 'Type a message', send: 'Send',
      connecting: 'Connecting…', offline: 'Reconnecting…', phone: 'Your phone number', sendCode: 'Send code',
      code: 'The code we texted you', confirm: 'Confirm', verifyFirst: 'Please confirm your phone number to chat.',
      codeSent: 'Code sent to', failed: 'Not sent' },
    fr: { title: 'Discutons', open: 'Ouvrir la discussion', close: 'Fermer', placeholder: 'Écrivez un message', send: 'Envoyer',
      connecting: 'Connexion…', offline: 'Reconnexion…', phone: 'Votre numéro de téléphone', sendCode: 'Envoyer le code',
      code: 'Le code reçu par SMS', confirm: 'Confirmer', verifyFirst: 'Confirmez votre numéro pour discuter.',
      codeSent: 'Code envoyé au', failed: 'Non envoyé' },
    sw: { title: 'Ongea nasi', open: 'Fungua gumzo', close: 'Funga', placeholder: 'Andika ujumbe', send: 'Tuma',
      connecting: 'Inaunganisha…', offline: 'Inaunganisha tena…', phone: 'Namba yako ya simu', sendCode: 'Tuma msimbo',
      code: 'Msimbo tuliokutumia', confirm: 'Thibitisha', verifyFirst: 'Thibitisha namba yako ya simu kuanza.',
      codeSent: 'Msimbo umetumwa kwa', failed: 'Haukutumwa' },
    rw: { title: 'Tuvugane', open: 'Fungura ikiganiro', close: 'Funga', placeholder: 'Andika ubutumwa', send: 'Ohereza',
      connecting: 'Birimo guhuza…', offline: 'Birongera guhuza…', phone: 'Nimero yawe ya telefone', sendCode: 'Ohereza kode',
      code: 'Kode twakoherereje', confirm: 'Emeza', verifyFirst: 'Emeza nimero yawe ya telefone mbere yo kuganira.',
      codeSent: 'Kode yoherejwe kuri', failed: 'Ntibyoherejwe' },
  };
  const language = [script.dataset.lang, document.documentElement.lang, navigator.language]
    .map((value) => (value || '').slice(0, 2).toLowerCase()).find((value) => STRINGS[value]) || 'en';
  const t = STRINGS[language];

  const storageKey = `sokoni.webchat.${channel}`;
  const saved = (() => { try { return JSON.parse(localStorage.getItem(storageKey)) || {}; } catch { return {}; } })();
  const state = {
    token: saved.token || null,
    conversationId: null,
    after: 0,
    shown: new Set(), // message ids on screen
    unacked: new Map(), // clientId → text, sent again after a reconnect
    socket: null,
    wanted: true, // false after disconnect(): no automatic reconnect
    refused: false, // the server refused this site or channel: no reconnect, the reason stays shown
    retries: 0,
    verifyPhone: false,
    verified: false,
  };
  const remember = () => { try { localStorage.setItem(storageKey, JSON.stringify({ token: state.token })); } catch { /* private mode */ } };

  // ---- the drawing -------------------------------------------------------------------------------------------
  const host = document.createElement('sokoni-webchat');
  host.setAttribute('data-channel', channel);
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = `
    <style>
      :host { all: initial; position: fixed; right: 16px; bottom: 16px; z-index: 2147483000; font: 15px/1.4 system-ui, sans-serif; color: #14213d; }
      button { font: inherit; cursor: pointer; }
      .launcher { border: 0; border-radius: 999px; padding: 12px 18px; background: #0b6e4f; color: #fff; box-shadow: 0 4px 14px #0003; }
      .panel { display: none; flex-direction: column; width: min(360px, calc(100vw - 32px)); height: min(520px, calc(100vh - 96px));
        background: #fff; border-radius: 14px; box-shadow: 0 8px 30px #0004; overflow: hidden; margin-bottom: 10px; }
      :host([data-open="true"]) .panel { display: flex; }
      header { display: flex; align-items: center; justify-content: space-between; padding: 12px 14px; background: #0b6e4f; color: #fff; }
      header h2 { font-size: 16px; margin: 0; }
      header button { background: none; border: 0; color: #fff; font-size: 20px; line-height: 1; }
      .status { font-size: 12px; padding: 4px 14px; background: #fff4d6; color: #6b4e00; }
      .status:empty { display: none; }
      ol { list-style: none; margin: 0; padding: 12px; flex: 1; overflow-y: auto; display: flex; flex-direction: column; gap: 6px; background: #f4f6f5; }
      li { max-width: 80%; padding: 8px 11px; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
      li.inbound { align-self: flex-end; background: #d9f2e6; }
      li.outbound { align-self: flex-start; background: #fff; border: 1px solid #e2e6e4; }
      li.pending { opacity: .6; }
      .choices { align-self: flex-start; display: flex; flex-wrap: wrap; gap: 6px; max-width: 90%; }
      .choices button { border: 1px solid #0b6e4f; background: #fff; color: #0b6e4f; border-radius: 999px; padding: 5px 11px; }
      form { display: flex; gap: 6px; padding: 10px; border-top: 1px solid #e2e6e4; }
      input { flex: 1; font: inherit; padding: 8px 10px; border: 1px solid #b9c2bf; border-radius: 8px; min-width: 0; }
      form button { border: 0; border-radius: 8px; padding: 8px 12px; background: #0b6e4f; color: #fff; }
      .verify { padding: 10px; border-top: 1px solid #e2e6e4; font-size: 14px; }
      .verify[hidden], form[hidden] { display: none; }
      .verify form { padding: 6px 0 0; border: 0; }
    </style>
    <section class="panel" role="dialog" aria-label="${t.title}">
      <header><h2></h2><button type="button" class="close" aria-label="${t.close}">×</button></header>
      <div class="status" role="status"></div>
      <ol class="log" role="log" aria-live="polite"></ol>
      <div class="verify" hidden>
        <p class="verify-note">${t.verifyFirst}</p>
        <form class="phone-form"><input name="phone" type="tel" autocomplete="tel" aria-label="${t.phone}" placeholder="+250…" required><button>${t.sendCode}</button></form>
        <form class="code-form" hidden><input name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6" aria-label="${t.code}" required><button>${t.confirm}</button></form>
      </div>
      <form class="compose"><input name="text" autocomplete="off" maxlength="4096" aria-label="${t.placeholder}" placeholder="${t.placeholder}"><button>${t.send}</button></form>
    </section>
    <button type="button" class="launcher" aria-expanded="false">${t.open}</button>`;
  const $ = (selector) => root.querySelector(selector);
  $('header h2').textContent = script.dataset.title || t.title;
  const log = $('.log');
  const status = $('.status');

  function setOpen(open) {
    host.setAttribute('data-open', String(open));
    $('.launcher').setAttribute('aria-expanded', String(open));
    $('.launcher').textContent = open ? t.close : t.open;
    if (open) (state.verifyPhone && !state.verified ? $('.phone-form input') : $('.compose input')).focus();
  }
  $('.launcher').addEventListener('click', () => setOpen(host.getAttribute('data-open') !== 'true'));
  $('.close').addEventListener('click', () => setOpen(false));

  function bubble(direction, text, attributes = {}) {
    const item = document.createElement('li');
    item.className = direction;
    item.textContent = text;
    for (const [name, value] of Object.entries(attributes)) item.setAttribute(name, value);
    place(item);
    return item;
  }

  // in sequence order; messages still on their way (no number yet) stay last
  function place(item) {
    const sequence = Number(item.getAttribute('data-sequence'));
    const before = sequence
      ? [...log.children].find((other) => other !== item && (!other.hasAttribute('data-sequence') || Number(other.getAttribute('data-sequence')) > sequence))
      : null;
    log.insertBefore(item, before || null);
    log.scrollTop = log.scrollHeight;
  }

  function showVerification() {
    const needed = state.verifyPhone && !state.verified;
    $('.verify').hidden = !needed;
    $('.compose').hidden = needed;
  }

  // ---- the socket ----------------------------------------------------------------------------------------------
  function send(frame) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
  }

  function connect() {
    state.wanted = true;
    if (state.socket && state.socket.readyState <= WebSocket.OPEN) return;
    status.textContent = state.retries ? t.offline : t.connecting;
    host.setAttribute('data-connected', 'false');
    const url = new URL('/webchat/socket', source);
    url.protocol = source.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('channel', channel);
    const socket = new WebSocket(url);
    state.socket = socket;
    socket.addEventListener('open', () => {
      socket.send(JSON.stringify({ type: 'hello', token: state.token, conversationId: state.conversationId, after: state.after }));
    });
    socket.addEventListener('message', (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      receive(frame);
    });
    socket.addEventListener('close', () => {
      if (state.socket !== socket) return;
      state.socket = null;
      host.setAttribute('data-connected', 'false');
      if (!state.wanted) { if (!state.refused) status.textContent = ''; return; }
      status.textContent = t.offline;
      const delay = Math.min(10000, 500 * 2 ** state.retries++);
      setTimeout(() => { if (state.wanted) connect(); }, delay);
    });
  }

  function receive(frame) {
    switch (frame.type) {
      case 'welcome':
        state.token = frame.token;
        remember();
        state.verifyPhone = Boolean(frame.verifyPhone);
        state.verified = Boolean(frame.verified);
        state.retries = 0;
        status.textContent = '';
        host.setAttribute('data-connected', 'true');
        showVerification();
        // what was typed while away goes again, with its first id
        for (const [clientId, text] of state.unacked) send({ type: 'message', clientId, text });
        break;
      case 'message': {
        if (frame.conversationId !== state.conversationId) { state.conversationId = frame.conversationId; state.after = 0; }
        state.after = Math.max(state.after, frame.sequenceNo);
        if (state.shown.has(frame.id)) break;
        state.shown.add(frame.id);
        const attributes = { 'data-id': frame.id, 'data-sequence': String(frame.sequenceNo) };
        const pending = frame.clientId && log.querySelector(`li[data-client-id="${CSS.escape(frame.clientId)}"]`);
        if (pending) {
          pending.classList.remove('pending');
          for (const [name, value] of Object.entries(attributes)) pending.setAttribute(name, value);
          place(pending);
        } else {
          bubble(frame.direction, frame.text || '', attributes);
        }
        // the agent's choices under its newest message only: a tap sends the choice's words
        for (const old of log.querySelectorAll('.choices')) old.remove();
        if (frame.direction === 'outbound' && Array.isArray(frame.options) && frame.options.length
            && frame.sequenceNo >= Math.max(0, ...[...log.querySelectorAll('li[data-sequence]')].map((li) => Number(li.getAttribute('data-sequence'))))) {
          const choices = document.createElement('div');
          choices.className = 'choices';
          choices.setAttribute('role', 'group');
          for (const option of frame.options) {
            const button = document.createElement('button');
            button.type = 'button';
            button.textContent = option.title;
            button.setAttribute('data-option', option.id);
            button.addEventListener('click', () => { choices.remove(); say(option.title, option.id); });
            choices.append(button);
          }
          log.append(choices);
          log.scrollTop = log.scrollHeight;
        }
        break;
      }
      case 'ack':
        state.unacked.delete(frame.clientId);
        break;
      case 'code_sent':
        $('.verify-note').textContent = `${t.codeSent} ${frame.phone}`;
        $('.code-form').hidden = false;
        $('.code-form input').focus();
        break;
      case 'verified':
        state.verified = true;
        showVerification();
        $('.compose input').focus();
        break;
      case 'error':
        if (['origin_not_allowed', 'unknown_channel'].includes(frame.code)) { state.wanted = false; state.refused = true; }
        status.textContent = frame.message || frame.code;
        break;
      default:
        break;
    }
  }

  // a tapped choice goes with its id (payload), so the agent answers exactly that choice
  function say(text, payload) {
    for (const old of log.querySelectorAll('.choices')) old.remove();
    const clientId = (crypto.randomUUID && crypto.randomUUID()) || `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    state.unacked.set(clientId, text);
    bubble('inbound pending', text, { 'data-client-id': clientId });
    send(payload ? { type: 'message', clientId, text, payload } : { type: 'message', clientId, text });
  }
  $('.compose').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('.compose input');
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    say(text);
  });
  $('.phone-form').addEventListener('submit', (event) => {
    event.preventDefault();
    send({ type: 'verify', phone: $('.phone-form input').value.trim() });
  });
  $('.code-form').addEventListener('submit', (event) => {
    event.preventDefault();
    send({ type: 'confirm', code: $('.code-form input').value.trim() });
  });

  // the host page may drive the widget: open it from its own button, or drop and resume the connection
  window.SokoniChat = {
    open: () => setOpen(true),
    close: () => setOpen(false),
    disconnect: () => { state.wanted = false; if (state.socket) state.socket.close(); },
    connect: () => { state.retries = 0; connect(); },
  };
  const mount = () => {
    document.body.append(host);
    connect();
    if (script.dataset.open === 'true') setOpen(true);
  };
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
