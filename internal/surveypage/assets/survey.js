// The hosted survey page. The one-time token is read from the URL fragment
// (#als_<id>.<secret>), which browsers never send to servers, and sent only
// as a bearer token to GET and POST /v1/survey. Texts come from the message
// catalogues (i18n.js); answers and the Idempotency-Key are kept in a draft
// (draft.js) until the server confirms the rating is stored.

import { I18n } from './i18n.js';
import { Draft } from './draft.js';

const API = new URL('../v1/survey', document.baseURI);
const TOKEN = /^als_([0-9A-Za-z]+)\.([0-9A-Za-z_-]+)$/;
const RETRY_DELAYS_MS = [1000, 2000, 4000]; // automatic retries of a send
const MAX_RADIO_POINTS = 11; // larger scales get a number field

const $ = (id) => document.getElementById(id);
const html = document.documentElement;
const i18n = new I18n((html.dataset.languages || 'en').split(' '));
const t = (key, args) => i18n.t(key, args);

const state = {
  token: null, // { raw, id }
  draft: null,
  survey: null,
  items: [], // { key, index, fieldset, inputs, error, clear }
  allowance: null, // { frac, groups: [{ indexes, allowed }] }
  sending: false,
  offline: false, // a send failed for want of a connection: retry when it returns
  chosenLang: null, // the rater's own choice on this page
};

// --- start ---

async function main() {
  await i18n.use(html.dataset.defaultLang);
  for (const b of document.querySelectorAll('button[data-lang]')) b.addEventListener('click', () => chooseLanguage(b.dataset.lang));
  $('survey-form').addEventListener('submit', onSubmit);
  $('send-retry').addEventListener('click', () => send());
  $('problem-retry').addEventListener('click', () => load());
  window.addEventListener('online', () => { if (state.offline) send(); });

  state.token = readToken();
  if (!state.token) return showProblem('missing');
  state.draft = new Draft(state.token.id);
  if (state.draft.lang) {
    state.chosenLang = state.draft.lang;
    await switchLanguage(state.draft.lang);
  }
  await load();
}

function readToken() {
  let raw = window.location.hash.slice(1);
  try {
    raw = decodeURIComponent(raw).trim();
  } catch {
    return null;
  }
  const m = TOKEN.exec(raw);
  return m ? { raw, id: m[1].toLowerCase() } : null;
}

function authHeaders(extra = {}) {
  return { Authorization: `Bearer ${state.token.raw}`, Accept: 'application/json', ...extra };
}

// load fetches the form the link is for and shows it, or says kindly why not.
async function load() {
  showView('view-loading');
  let res;
  try {
    res = await fetch(API, { headers: authHeaders(), cache: 'no-store', credentials: 'omit' });
  } catch {
    return showProblem('unavailable', { retry: true });
  }
  if (res.status === 200) {
    let survey;
    try {
      survey = await res.json();
    } catch {
      return showProblem('unavailable', { retry: true });
    }
    return showForm(survey);
  }
  if (res.status === 410) {
    // An earlier send whose answer never arrived may have been stored:
    // sending it again with the same Idempotency-Key asks for its receipt.
    if (state.draft.sending) return send({ recovering: true });
    state.draft.clear();
    return showProblem('gone');
  }
  if (res.status === 401 || res.status === 403) {
    state.draft.clear();
    return showProblem('invalid');
  }
  return showProblem('unavailable', { retry: true });
}

// --- language ---

async function chooseLanguage(lang) {
  state.chosenLang = lang;
  state.draft?.setLang(lang);
  await switchLanguage(lang);
}

async function switchLanguage(lang) {
  try {
    lang = await i18n.use(lang);
  } catch {
    return; // the catalogue could not be fetched: keep the current language
  }
  for (const b of document.querySelectorAll('button[data-lang]')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
  }
}

// --- the form ---

async function showForm(survey) {
  state.survey = survey;
  const form = survey.instrument;
  // A study may name its language (a later API version); the rater's own
  // choice on this page wins, then the study's, then Accept-Language.
  if (!state.chosenLang && survey.language && i18n.languages.includes(survey.language)) {
    await switchLanguage(survey.language);
  }
  const n = form.items.length;
  state.draft.fit(form.id, n, survey.expires_at);
  if (state.draft.sending) state.draft.setSending(false); // the form is open: nothing was stored
  state.allowance = allowance(survey, form);

  i18n.bind($('form-heading'), () => t('form.heading', { session: survey.session }));
  i18n.bind($('form-role'), () => t(survey.role === 'counsellor' ? 'form.role.counsellor' : 'form.role.client'));
  i18n.bind($('form-skips'), () => {
    const n = state.allowance.maxSkips;
    return n === 0 ? t('form.skips.none') : i18n.plural('form.skips.some', n);
  });
  i18n.bind($('form-expires'), () => t('form.expires', { date: i18n.dateTime(survey.expires_at) }));
  $('storage-warning').hidden = state.draft.persistent;

  const box = $('items');
  box.replaceChildren();
  state.items = form.items.map((item, index) => renderItem(item, index, n, form.scale));
  for (const it of state.items) box.append(it.fieldset);
  restoreAnswers();
  i18n.bind($('progress-text'), () => t('progress', { answered: answeredCount(), total: n }));
  updateProgress();
  showView('view-form');
  $('form-heading').focus();
}

// allowance is how many items may stay unanswered so that every scale is
// still scored: at most floor(f·k) of a scale of k items, where f is the
// study's max_missing_fraction, capped by the form's own.
function allowance(survey, form) {
  let frac = survey.missing_policy?.max_missing_fraction ?? 0;
  if (form.max_missing_fraction != null) frac = Math.min(frac, form.max_missing_fraction);
  const allowed = (k) => Math.floor(frac * k + 1e-9);
  const index = new Map(form.items.map((it, i) => [it.key, i]));
  const groups = [{ indexes: form.items.map((_, i) => i), allowed: allowed(form.items.length) }];
  for (const s of form.subscales || []) {
    const idx = s.items.map((k) => index.get(k)).filter((i) => i !== undefined);
    groups.push({ indexes: idx, allowed: allowed(idx.length) });
  }
  // An item is required when a scale it belongs to allows no gap.
  const required = new Set();
  for (const g of groups) if (g.allowed === 0) for (const i of g.indexes) required.add(i);
  // The most items that may stay blank: the total's limit, or less when
  // the scales' own limits leave fewer (subscales do not overlap).
  const inScale = new Set(groups.slice(1).flatMap((g) => g.indexes));
  const bySubscale = groups.slice(1).reduce((sum, g) => sum + g.allowed, 0) + (form.items.length - inScale.size);
  const maxSkips = Math.min(groups[0].allowed, groups.length > 1 ? bySubscale : Infinity);
  return { frac, groups, required, maxSkips };
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children);
  return e;
}

function points(scale) {
  const n = Math.round((scale.max - scale.min) / scale.step) + 1;
  return Array.from({ length: n }, (_, i) => Number((scale.min + i * scale.step).toFixed(6)));
}

// itemText is the licensed wording in the page's language, else in
// another language the deployment has, else a neutral "Statement n".
function itemText(item) {
  const texts = item.text || {};
  if (texts[i18n.lang]) return { text: texts[i18n.lang], lang: null };
  const other = Object.keys(texts).sort().find((l) => texts[l]);
  if (other) return { text: texts[other], lang: other };
  return { text: t('item.neutral', { n: item.key }), lang: null, neutral: true };
}

// anchorLabel is the definition's label in the page's language, else the
// page catalogue's translation of the default label, else that label.
function anchorLabel(scale, v) {
  const a = (scale.anchors || []).find((x) => Math.abs(x.value - v) < 1e-9);
  if (!a) return '';
  if (a.labels && a.labels[i18n.lang]) return a.labels[i18n.lang];
  const key = `anchor.${a.label}`;
  const msg = t(key);
  return msg === key ? a.label : msg;
}

function renderItem(item, index, total, scale) {
  const id = `q${item.key}`;
  const required = state.allowance.required.has(index);
  const pos = el('span', { class: 'item-pos' });
  const text = el('span', { class: 'item-text' });
  const req = el('span', { class: 'item-req' });
  req.hidden = !required;
  const legend = el('legend', {}, pos, text, req);
  i18n.bind(pos, () => t('item.position', { n: index + 1, total }));
  i18n.bind(text, () => {
    const it = itemText(item);
    if (it.lang) text.setAttribute('lang', it.lang);
    else text.removeAttribute('lang');
    return it.text;
  });
  i18n.bind(req, () => t('item.required'));

  const error = el('p', { class: 'item-error', id: `${id}-error` });
  error.hidden = true;
  const fieldset = el('fieldset', { class: 'item', id });
  const record = { item, key: item.key, index, fieldset, inputs: [], error, clear: null, number: null };
  const values = points(scale);

  if (scale.step > 0 && values.length <= MAX_RADIO_POINTS) {
    const opts = el('div', { class: `scale scale-${values.length}` });
    for (const v of values) {
      const input = el('input', { type: 'radio', name: id, value: String(v), required: required || null });
      input.addEventListener('change', () => answer(record, v));
      const label = el('span', { class: 'opt-label' });
      i18n.bind(label, () => anchorLabel(scale, v));
      opts.append(el('label', { class: 'opt' }, input, el('span', { class: 'opt-text' }, el('span', { class: 'opt-value' }, String(v)), label)));
      record.inputs.push(input);
    }
    fieldset.append(legend, opts);
  } else {
    // A fine-grained scale (e.g. 0-10 in steps of 0.1): a number field.
    const inputID = `${id}-value`;
    const hint = el('span', { class: 'hint', id: `${inputID}-hint` });
    i18n.bind(hint, () => t('scale.range', {
      min: scale.min, max: scale.max, minLabel: anchorLabel(scale, scale.min), maxLabel: anchorLabel(scale, scale.max),
    }));
    const input = el('input', {
      type: 'number', id: inputID, inputmode: 'decimal', min: scale.min, max: scale.max, step: scale.step,
      'aria-describedby': `${inputID}-hint`, required: required || null, class: 'number',
    });
    input.addEventListener('change', () => {
      const v = input.value === '' ? null : Number(input.value);
      const ok = v === null || (v >= scale.min && v <= scale.max && Math.abs(Math.round((v - scale.min) / scale.step) * scale.step + scale.min - v) < 1e-6);
      answer(record, ok ? v : null);
      showItemError(record, ok ? null : 'item.error.range');
    });
    const label = el('label', { for: inputID, class: 'number-label' });
    i18n.bind(label, () => t('scale.value'));
    record.number = input;
    record.inputs.push(input);
    fieldset.append(legend, el('div', { class: 'number-row' }, label, input, hint));
  }
  if (!required) {
    const clear = el('button', { type: 'button', class: 'clear' });
    i18n.bind(clear, () => t('item.clear'));
    clear.hidden = true;
    clear.addEventListener('click', () => {
      for (const input of record.inputs) {
        if (input.type === 'radio') input.checked = false;
        else input.value = '';
      }
      answer(record, null);
      (record.inputs[0]).focus();
    });
    record.clear = clear;
    fieldset.append(clear);
  }
  fieldset.append(error);
  return record;
}

function restoreAnswers() {
  for (const rec of state.items) {
    const v = state.draft.answers[rec.index];
    if (rec.number) rec.number.value = v === null || v === undefined ? '' : String(v);
    for (const input of rec.inputs) if (input.type === 'radio') input.checked = v !== null && Number(input.value) === v;
    if (rec.clear) rec.clear.hidden = v === null || v === undefined;
  }
}

function answer(rec, v) {
  state.draft.setAnswer(rec.index, v);
  if (rec.clear) rec.clear.hidden = v === null;
  if (v !== null) showItemError(rec, null);
  updateProgress();
}

function answeredCount() {
  return state.draft.answers.filter((v) => v !== null && v !== undefined).length;
}

function updateProgress() {
  const total = state.items.length;
  const n = answeredCount();
  $('progress-text').textContent = t('progress', { answered: n, total });
  $('progress-bar').max = total || 1;
  $('progress-bar').value = n;
}

function showItemError(rec, key) {
  if (key) {
    i18n.bind(rec.error, () => `${t('error.prefix')} ${t(key)}`);
    rec.error.hidden = false;
    rec.fieldset.classList.add('has-error');
    rec.fieldset.setAttribute('aria-describedby', rec.error.id);
  } else {
    rec.error.hidden = true;
    rec.fieldset.classList.remove('has-error');
    rec.fieldset.removeAttribute('aria-describedby');
  }
}

// missingProblem lists the unanswered items of every scale that would go
// unscored, and how many more answers the worst of them needs.
function missingProblem() {
  const answers = state.draft.answers;
  const blank = (i) => answers[i] === null || answers[i] === undefined;
  let need = 0;
  const items = new Set();
  for (const g of state.allowance.groups) {
    const missing = g.indexes.filter(blank);
    if (missing.length > g.allowed) {
      need = Math.max(need, missing.length - g.allowed);
      for (const i of missing) items.add(i);
    }
  }
  return need === 0 ? null : { need, items: [...items].sort((a, b) => a - b) };
}

function clearSummary() {
  $('error-summary').hidden = true;
  for (const rec of state.items) showItemError(rec, null);
}

// showSummary lists the items that need attention; each entry moves focus
// to its item (buttons, not #links: the fragment holds the token).
function showSummary(headingKey, textRender, indexes, itemKey) {
  i18n.bind($('error-summary-heading'), () => t(headingKey));
  i18n.bind($('error-summary-text'), textRender);
  const list = $('error-summary-list');
  list.replaceChildren();
  for (const i of indexes) {
    const rec = state.items[i];
    showItemError(rec, itemKey);
    const b = el('button', { type: 'button', class: 'link' });
    i18n.bind(b, () => t('item.neutral', { n: rec.key }));
    b.addEventListener('click', () => {
      rec.fieldset.scrollIntoView({ block: 'center' });
      (rec.inputs.find((x) => x.checked) || rec.inputs[0]).focus();
    });
    list.append(el('li', {}, b));
  }
  $('error-summary').hidden = false;
  $('error-summary').focus();
}

function onSubmit(event) {
  event.preventDefault();
  if (state.sending) return;
  clearSummary();
  const p = missingProblem();
  if (p) {
    showSummary('error.summary.heading', () => i18n.plural('error.missing', p.need), p.items, 'item.error.missing');
    return;
  }
  send();
}

function setSending(on) {
  state.sending = on;
  state.draft.setSending(on);
  for (const rec of state.items) rec.fieldset.disabled = on;
  const submit = $('submit');
  submit.setAttribute('aria-disabled', String(on));
  submit.classList.toggle('busy', on);
  i18n.bind(submit, () => t(on ? 'submit.sending' : 'submit.label'));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function retryAfter(res, fallback) {
  const s = Number(res.headers.get('Retry-After'));
  return Number.isFinite(s) && s > 0 ? Math.min(s * 1000, 30000) : fallback;
}

// send posts the answers with the draft's Idempotency-Key, retrying when the
// network or the server fails, so a retry is a replay and never a second
// rating. A 201 and a replayed 201 (Idempotent-Replayed: true) are the same.
async function send({ recovering = false } = {}) {
  if (state.sending) return;
  state.offline = false;
  $('send-problem').hidden = true;
  if (!recovering) setSending(true);
  else state.sending = true;
  i18n.bind($('send-status'), () => t('status.sending'));
  const body = JSON.stringify({ answers: state.draft.answers });
  for (let attempt = 0; ; attempt++) {
    let res = null;
    try {
      res = await fetch(API, {
        method: 'POST', body, cache: 'no-store', credentials: 'omit',
        headers: authHeaders({ 'Content-Type': 'application/json', 'Idempotency-Key': state.draft.key }),
      });
    } catch {
      res = null; // connection lost: the rating may or may not be stored
    }
    const transient = res === null || [429, 502, 503, 504].includes(res.status);
    if (transient && attempt < RETRY_DELAYS_MS.length) {
      i18n.bind($('send-status'), () => t('status.retrying'));
      await sleep(res ? retryAfter(res, RETRY_DELAYS_MS[attempt]) : RETRY_DELAYS_MS[attempt]);
      continue;
    }
    return settle(res, recovering);
  }
}

async function settle(res, recovering) {
  const status = res ? res.status : 0;
  if (status === 201) {
    let receipt = {};
    try {
      receipt = await res.json();
    } catch {
      receipt = {}; // stored all the same
    }
    state.draft.clear();
    state.sending = false;
    return showDone(receipt);
  }
  let problem = {};
  try {
    problem = res ? await res.json() : {};
  } catch {
    problem = {};
  }
  if (status === 410 || (status === 409 && problem.type === 'urn:alliance:problem:idempotency-key-reuse')) {
    // Used meanwhile, unless it simply expired: most likely by an attempt
    // of this very send whose answer was lost (browsers also resend a
    // request by themselves when a kept-alive connection closes), or from
    // another tab of the same rater. Either way the answers are stored.
    state.draft.clear();
    state.sending = false;
    const expired = Date.now() >= Date.parse(state.survey?.expires_at ?? '');
    return showProblem(expired ? 'gone' : 'goneAfterSend');
  }
  if (status === 401 || status === 403) {
    state.draft.clear();
    state.sending = false;
    return showProblem('invalid');
  }
  if (recovering && (status === 0 || status === 429 || status >= 500)) {
    state.sending = false;
    return showProblem('unavailable', { retry: true });
  }
  if (recovering) {
    // The link was gone before this page sent anything it knows of.
    state.draft.clear();
    state.sending = false;
    return showProblem('gone');
  }
  $('send-status').textContent = '';
  i18n.bound.delete($('send-status'));
  if (status === 0 || status === 429 || status >= 500) {
    // Still unknown whether it was stored: keep the answers locked, so
    // the retry sends the same request under the same key.
    state.sending = false;
    state.offline = status === 0;
    const why = status === 0 ? 'status.offline' : 'error.server.failed';
    i18n.bind($('send-problem-text'), () => `${t('error.prefix')} ${t(why)}`);
    $('send-retry').hidden = false;
    $('send-problem').hidden = false;
    $('send-retry').focus();
    return;
  }
  setSending(false);
  if (status === 409) {
    i18n.bind($('send-problem-text'), () => `${t('error.prefix')} ${t('error.conflict')}`);
    $('send-problem').hidden = false;
    $('send-retry').hidden = true;
    return;
  }
  if (status === 422 && Array.isArray(problem.errors)) {
    const idx = problem.errors
      .map((e) => /^answers\[(\d+)\]$/.exec(e.field || ''))
      .filter(Boolean).map((m) => Number(m[1])).filter((i) => i < state.items.length);
    showSummary('error.summary.heading', () => t('error.server.validation'), [...new Set(idx)], 'item.error.check');
    return;
  }
  i18n.bind($('send-problem-text'), () => `${t('error.prefix')} ${t('error.server.failed')}`);
  $('send-retry').hidden = false;
  $('send-problem').hidden = false;
  $('send-retry').focus();
}

// --- other views ---

function showView(id) {
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== id;
}

function showDone(receipt) {
  $('done-received').hidden = !receipt.received_at;
  $('done-reference').hidden = !receipt.id;
  i18n.bind($('done-received'), () => t('done.received', { time: i18n.dateTime(receipt.received_at) }));
  i18n.bind($('done-reference'), () => t('done.reference', { id: receipt.id }));
  showView('view-done');
  $('done-heading').focus();
}

// showProblem explains kindly why the form cannot be shown: missing,
// invalid, gone, goneAfterSend or unavailable.
function showProblem(kind, { retry = false } = {}) {
  i18n.bind($('problem-heading'), () => t(`problem.${kind}.heading`));
  i18n.bind($('problem-body'), () => t(`problem.${kind}.body`));
  i18n.bind($('problem-help'), () => t(`problem.${kind}.help`));
  $('problem-retry').hidden = !retry;
  showView('view-problem');
  $('problem-heading').focus();
}

main().catch(() => showProblem('unavailable', { retry: true }));
