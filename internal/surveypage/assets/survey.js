// The hosted survey page. The one-time token is read from the URL fragment
// (#als_<id>.<secret>), which browsers never send to servers, and sent only
// as a bearer token to GET and POST /v1/survey. Texts come from the message
// catalogues (i18n.js); answers and the Idempotency-Key are kept in a draft
// (draft.js) until the server confirms the rating is stored, and then only
// the receipt's id and time, so that a reload confirms it again.

import { I18n } from './i18n.js';
import { Draft, PageLang, Receipt } from './draft.js';

const API = new URL('../v1/survey', document.baseURI);
const TOKEN = /^als_([0-9A-Za-z]+)\.([0-9A-Za-z_-]+)$/;
const RETRY_DELAYS_MS = [1000, 2000, 4000]; // automatic retries of a send
const MAX_RADIO_POINTS = 11; // larger scales get a number field
// Why a link can no longer be answered (the 410's code), and the problem
// page that explains it (problem.<kind>.*): used (its answers are stored),
// expired or revoked (nothing was stored through it).
const GONE_KINDS = { link_used: 'used', link_expired: 'expired', link_revoked: 'revoked', already_rated: 'rated' };

const $ = (id) => document.getElementById(id);
const html = document.documentElement;
const i18n = new I18n((html.dataset.languages || 'en').split(' '));
const t = (key, args) => i18n.t(key, args);

const state = {
  token: null, // { raw, id }
  draft: null,
  lang: null, // PageLang: the chosen and the study's language, kept beside the draft
  receipt: null, // Receipt: the id and time of the rating this browser sent, kept beside the draft
  survey: null,
  items: [], // { key, index, fieldset, inputs, error, clear }
  allowance: null, // { frac, groups: [{ indexes, allowed }] }
  sending: false,
  offline: false, // a send failed for want of a connection: retry when it returns
  chosenLang: null, // the rater's own choice on this page
  summary: null, // what the error summary shows: 'missing', 'check', 'server' or null
};

// --- start ---

async function main() {
  // The loading view is hidden in the page, so that a browser without
  // JavaScript shows its notice alone; the script shows it as it starts.
  showView('view-loading');
  await i18n.use(html.dataset.defaultLang);
  for (const b of document.querySelectorAll('button[data-lang]')) b.addEventListener('click', () => chooseLanguage(b.dataset.lang));
  $('survey-form').addEventListener('submit', onSubmit);
  $('send-retry').addEventListener('click', () => send());
  $('problem-retry').addEventListener('click', () => load());
  window.addEventListener('online', () => { if (state.offline) send(); });
  window.addEventListener('resize', () => requestAnimationFrame(fitScales));

  state.token = readToken();
  if (!state.token) return showProblem('missing');
  state.draft = new Draft(state.token.id);
  state.lang = new PageLang(state.token.id);
  state.receipt = new Receipt(state.token.id);
  window.addEventListener('storage', (e) => {
    if (e.key === state.draft.name && e.newValue === null) recheck();
  });
  // The rater's own choice (kept by earlier pages in the draft), else the
  // study's language as the server last said it, else Accept-Language.
  state.chosenLang = state.lang.chosen ?? state.draft.lang ?? null;
  const lang = state.chosenLang ?? state.lang.study;
  if (lang && lang !== i18n.lang) await switchLanguage(lang);
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
    state.receipt.clear(); // the link can be answered: no rating of it is stored
    return showForm(survey);
  }
  if (res.status === 410) {
    const problem = await problemOf(res);
    await useStudyLanguage(problem.language);
    // An earlier send whose answer never arrived may have been stored:
    // sending it again with the same Idempotency-Key asks for its receipt.
    if (state.draft.sending) return send({ recovering: true });
    state.draft.clear();
    const kind = goneKind(problem);
    // Used (or, from an older server, used or expired) by this browser's
    // own send: a reload, Back or the link opened again confirms it as
    // the rater saw it, with the same reference, rather than saying the
    // link was used "if you did not send them, contact…". Expired or
    // revoked: nothing is stored, whatever this browser kept.
    const receipt = state.receipt.get();
    if (receipt && (kind === 'used' || kind === 'gone')) return showDone(receipt);
    if (kind === 'expired' || kind === 'revoked') state.receipt.clear();
    return showProblem(kind);
  }
  if (res.status === 401 || res.status === 403) {
    state.draft.clear();
    return showProblem('invalid');
  }
  return showProblem('unavailable', { retry: true });
}

// recheck asks the server about the link, without leaving the form, when
// another tab or window on it has removed the draft they share: that
// tab's answers were stored, or it found the link gone. If the link can
// no longer be answered, the page says why now, rather than after the
// rater has answered again for nothing (a send under the shared key
// would be refused as not stored). If it still can (the other tab had an
// incomplete link, say), this tab's answers are kept again. A failed
// check changes nothing: a send will tell. A link used by the other tab
// says that these answers were not stored (notStored), not "used: the
// answers sent are stored": the answers on this form may not be the ones
// stored (a reload of it, with no answers of its own on screen, shows the
// confirmation of what this browser sent).
async function recheck() {
  const onForm = () => !state.sending && !$('view-form').hidden;
  if (!onForm()) return;
  let res;
  try {
    res = await fetch(API, { headers: authHeaders(), cache: 'no-store', credentials: 'omit' });
  } catch {
    return;
  }
  if (res.status === 200 && onForm()) return state.draft.save();
  if (res.status !== 410) return;
  const problem = await problemOf(res);
  await useStudyLanguage(problem.language);
  if (!onForm()) return; // sent meanwhile: its answer tells
  state.draft.clear();
  const kind = goneKind(problem);
  showProblem(kind === 'used' ? 'notStored' : kind);
}

// problemOf is the application/problem+json body of res, or {}.
async function problemOf(res) {
  try {
    const p = await res.json();
    return p && typeof p === 'object' ? p : {};
  } catch {
    return {};
  }
}

// goneKind is the problem page of a 410: used, expired or revoked by its
// code, or rated (the session and role were rated another way, nothing
// was sent through the link); a server that gives no code gets the old
// "used or expired".
function goneKind(problem, fallback = 'gone') {
  return GONE_KINDS[problem.code] ?? fallback;
}

// --- language ---

async function chooseLanguage(lang) {
  state.chosenLang = lang;
  state.lang?.setChosen(lang);
  await switchLanguage(lang);
}

// useStudyLanguage applies the study's language, which GET /v1/survey and
// every 410 of the link carry, unless the rater chose one on the page.
async function useStudyLanguage(lang) {
  if (!lang || !i18n.languages.includes(lang)) return;
  state.lang?.setStudy(lang);
  if (!state.chosenLang && i18n.lang !== lang) await switchLanguage(lang);
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
  fitScales(); // labels in another language may no longer fit side by side
}

// --- the form ---

async function showForm(survey) {
  state.survey = survey;
  const form = survey.instrument;
  // The rater's own choice on this page wins, then the study's, then
  // Accept-Language.
  await useStudyLanguage(survey.language);
  const n = form.items.length;
  state.draft.fit(form.id, n, survey.expires_at);
  state.lang.setExpiry(survey.expires_at);
  if (state.draft.sending) state.draft.setSending(false); // the form is open: nothing was stored
  state.allowance = allowance(survey, form);

  i18n.bind($('form-heading'), () => t('form.heading', { session: survey.session }));
  i18n.bind($('form-role'), () => t(survey.role === 'counsellor' ? 'form.role.counsellor' : 'form.role.client'));
  renderSkips();
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
  fitScales();
  $('form-heading').focus();
}

// renderSkips says how many items may stay unanswered and, where a
// subscale's own limit is tighter, how many of each subscale's items: the
// limits the page holds a submission to (missingProblem).
function renderSkips() {
  const { maxSkips, limited } = state.allowance;
  i18n.bind($('form-skips'), () => {
    if (maxSkips === 0) return t('form.skips.none');
    return i18n.plural(limited.length ? 'form.skips.grouped' : 'form.skips.some', maxSkips);
  });
  const list = $('form-skips-groups');
  list.replaceChildren();
  for (const g of [...limited].sort((x, y) => Math.min(...x.indexes) - Math.min(...y.indexes))) {
    const li = el('li');
    i18n.bind(li, () => i18n.plural('form.skips.group', g.allowed, { items: i18n.list(g.indexes.map((i) => String(i + 1))) }));
    list.append(li);
  }
  list.hidden = limited.length === 0 || maxSkips === 0;
}

// allowance is how many items may stay unanswered so that every scale is
// still scored: at most floor(f·k) of a scale of k items (as the service's
// scoring counts, internal/instrument/score.go), where f is the study's
// max_missing_fraction, capped by the form's own. The service stores a
// rating with more gaps, with that scale unscored (null); the page asks
// for enough answers that the total and every subscale get a score.
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
  // The subscales whose own limit is tighter than the overall one: the
  // page names them, or "up to n" would promise gaps it then refuses.
  const limited = groups.slice(1).filter((g) => g.allowed > 0 && g.allowed < Math.min(maxSkips, g.indexes.length));
  return { frac, groups, required, maxSkips, limited };
}

// fitScales lays a scale out as a list where its labels do not fit side
// by side in the wide layout's columns (a word would overflow its box;
// words are never broken). Run after rendering, a language switch and a
// resize.
function fitScales() {
  for (const scale of document.querySelectorAll('#items .scale')) {
    if (!scale.offsetParent) continue; // not shown: nothing to measure
    scale.classList.remove('scale-list');
    if (getComputedStyle(scale).gridTemplateColumns.trim().split(/\s+/).length < 2) continue;
    const overflows = [...scale.querySelectorAll('.opt')].some((opt) => {
      const box = opt.getBoundingClientRect();
      const cs = getComputedStyle(opt);
      const left = box.left + parseFloat(cs.borderLeftWidth) + parseFloat(cs.paddingLeft);
      const right = box.right - parseFloat(cs.borderRightWidth) - parseFloat(cs.paddingRight);
      return [...opt.querySelectorAll('.opt-label, .opt-value')].some((l) => {
        const r = l.getBoundingClientRect();
        return r.width > 0 && (r.left < left - 0.5 || r.right > right + 0.5);
      });
    });
    scale.classList.toggle('scale-list', overflows);
  }
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

// rangeHint is the number field's hint, as a message key and its
// arguments: the range and the step, with the anchor labels of the ends
// that have one (a scale may label both, one or neither).
function rangeHint(scale) {
  const minLabel = anchorLabel(scale, scale.min);
  const maxLabel = anchorLabel(scale, scale.max);
  let key = 'scale.range.unlabelled';
  if (minLabel && maxLabel) key = 'scale.range';
  else if (minLabel) key = 'scale.range.minLabel';
  else if (maxLabel) key = 'scale.range.maxLabel';
  return [key, { min: i18n.number(scale.min), max: i18n.number(scale.max), step: i18n.number(scale.step), minLabel, maxLabel }];
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
  const record = { item, key: item.key, index, fieldset, inputs: [], error, clear: null, number: null, check: null, invalid: null, errorKey: null };
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
    i18n.bind(hint, () => t(...rangeHint(scale)));
    const input = el('input', {
      type: 'number', id: inputID, inputmode: 'decimal', min: scale.min, max: scale.max, step: scale.step,
      'aria-describedby': `${inputID}-hint`, required: required || null, class: 'number',
    });
    // check answers the entry if it is on the scale, else keeps the item
    // unanswered and says what is wrong with it: out of range, off the
    // step grid, or not a number at all. The error stays until the entry
    // is corrected or cleared, and blocks sending.
    record.check = () => {
      const bad = entryProblem(input, scale);
      answer(record, bad || input.value === '' ? null : Number(input.value));
      record.invalid = bad;
      if (bad) showItemError(record, bad.key, bad.args);
      else if (record.errorKey === 'item.error.range' || record.errorKey === 'item.error.step') showItemError(record, null);
      return bad;
    };
    input.addEventListener('change', () => { record.check(); refreshSummary(); });
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
      record.invalid = null;
      answer(record, null);
      showItemError(record, null);
      refreshSummary();
      (record.inputs[0]).focus();
    });
    record.clear = clear;
    fieldset.append(clear);
  }
  fieldset.append(error);
  return record;
}

// entryProblem is what is wrong with a number field's entry, as a message
// key and its arguments, or null when it is empty or on the scale.
function entryProblem(input, scale) {
  const range = { key: 'item.error.range', args: () => ({ min: i18n.number(scale.min), max: i18n.number(scale.max) }) };
  if (input.validity.badInput) return range; // typed, but not a number
  if (input.value === '') return null;
  const v = Number(input.value);
  if (!Number.isFinite(v) || v < scale.min || v > scale.max) return range;
  const steps = (v - scale.min) / scale.step;
  if (Math.abs(steps - Math.round(steps)) < 1e-6) return null;
  // Off the grid: name the step and the two nearest values on it.
  const at = (k) => Number((scale.min + k * scale.step).toFixed(6));
  const lo = at(Math.floor(steps));
  const hi = Math.min(at(Math.ceil(steps)), scale.max);
  return { key: 'item.error.step', args: () => ({ step: i18n.number(scale.step), lower: i18n.number(lo), upper: i18n.number(hi) }) };
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
  if (rec.clear) rec.clear.hidden = v === null && !rec.number?.value;
  if (v !== null) showItemError(rec, null);
  updateProgress();
  if (rec.number === null) refreshSummary(); // number fields refresh on change
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

function showItemError(rec, key, args = () => ({})) {
  rec.errorKey = key;
  if (key) {
    i18n.bind(rec.error, () => `${t('error.prefix')} ${t(key, args())}`);
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

// clearSummary hides the summary and the errors it listed; an entry that
// is not a number on the scale keeps its own error.
function clearSummary() {
  $('error-summary').hidden = true;
  state.summary = null;
  for (const rec of state.items) if (!rec.invalid) showItemError(rec, null);
}

// invalidEntries are the number fields whose entry is not on the scale.
function invalidEntries() {
  return state.items.filter((rec) => rec.check && rec.check()).map((rec) => rec.index);
}

// refreshSummary brings a shown summary up to date as the rater answers:
// an item that may now stay blank loses its "Please answer" error, and
// the summary goes once nothing is left to fix.
function refreshSummary() {
  if (state.summary === 'missing') {
    const p = missingProblem();
    const listed = new Set(p ? p.items : []);
    for (const rec of state.items) if (rec.errorKey === 'item.error.missing' && !listed.has(rec.index)) showItemError(rec, null);
    if (!p) return hideSummary();
    showSummary('missing', () => i18n.plural('error.missing', p.need), p.items, 'item.error.missing', { focus: false });
  } else if (state.summary === 'check') {
    const bad = state.items.filter((rec) => rec.invalid).map((rec) => rec.index);
    if (bad.length === 0) return hideSummary();
    showSummary('check', () => t('error.invalid'), bad, null, { focus: false });
  }
}

function hideSummary() {
  $('error-summary').hidden = true;
  state.summary = null;
}

// showSummary lists the items that need attention; each entry moves focus
// to its item (buttons, not #links: the fragment holds the token). itemKey
// is the error each item gets (null: its own, already shown).
function showSummary(kind, textRender, indexes, itemKey, { focus = true } = {}) {
  state.summary = kind;
  i18n.bind($('error-summary-heading'), () => t(kind === 'missing' ? 'error.summary.heading' : 'error.summary.check'));
  i18n.bind($('error-summary-text'), textRender);
  const list = $('error-summary-list');
  list.replaceChildren();
  for (const i of indexes) {
    const rec = state.items[i];
    if (itemKey && !rec.invalid) showItemError(rec, itemKey); // an entry off the scale keeps its own
    const b = el('button', { type: 'button', class: 'link' });
    i18n.bind(b, () => t('item.neutral', { n: rec.key }));
    b.addEventListener('click', () => {
      rec.fieldset.scrollIntoView({ block: 'center' });
      (rec.inputs.find((x) => x.checked) || rec.inputs[0]).focus();
    });
    list.append(el('li', {}, b));
  }
  $('error-summary').hidden = false;
  if (focus) $('error-summary').focus();
}

function onSubmit(event) {
  event.preventDefault();
  if (state.sending) return;
  clearSummary();
  // An entry that is not on the scale would be sent as unanswered: the
  // rater fixes it first, told what is wrong with it.
  const bad = invalidEntries();
  if (bad.length) {
    showSummary('check', () => t('error.invalid'), bad, null);
    return;
  }
  const p = missingProblem();
  if (p) {
    showSummary('missing', () => i18n.plural('error.missing', p.need), p.items, 'item.error.missing');
    return;
  }
  send();
}

function setSending(on) {
  state.sending = on;
  state.draft.setSending(on);
  for (const rec of state.items) rec.fieldset.disabled = on;
  setSubmitBusy(on);
}

// setSubmitBusy shows the send button as "Sending…" (aria-disabled) or
// as itself again.
function setSubmitBusy(on) {
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
    // Its id and time outlive the draft, so that a reload confirms the
    // rating again; the answers go with the draft.
    state.receipt.keep(receipt, state.survey?.expires_at ?? state.draft.expires);
    state.draft.clear();
    state.sending = false;
    return showDone(receipt);
  }
  const problem = res ? await problemOf(res) : {};
  if (status === 410) await useStudyLanguage(problem.language);
  if (status === 409 && problem.code === 'dyad_withdrawn') {
    // Consent was withdrawn while the form was open: nothing was stored.
    state.draft.clear();
    state.sending = false;
    return showProblem('revoked');
  }
  if (status === 409 && problem.type === 'urn:alliance:problem:idempotency-key-reuse') {
    // This draft's Idempotency-Key already stored other answers: another
    // tab or window of this browser shares the draft and its key, and
    // sent first (or at the same time). The link is used, with those
    // answers; these were not stored.
    state.draft.clear();
    state.sending = false;
    return showProblem('notStored');
  }
  if (status === 410) {
    // The 410's code says why. Used: answers sent through the link are
    // stored (a lost answer to this very send is replayed as a 201 by its
    // Idempotency-Key, so rather from another tab or device). Expired or
    // revoked: nothing was stored through it. A server that gives no
    // code: most likely used, unless the link has simply expired.
    state.draft.clear();
    state.sending = false;
    const expired = Date.now() >= Date.parse(state.survey?.expires_at ?? '');
    return showProblem(goneKind(problem, expired ? 'gone' : 'goneAfterSend'));
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
    return showProblem(goneKind(problem));
  }
  $('send-status').textContent = '';
  i18n.bound.delete($('send-status'));
  if (status === 0 || status === 429 || status >= 500) {
    // Still unknown whether it was stored: keep the answers locked, so
    // the retry sends the same request under the same key; the button is
    // itself again (it sends just as "Try again" does).
    state.sending = false;
    setSubmitBusy(false);
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
    showSummary('server', () => t('error.server.validation'), [...new Set(idx)], 'item.error.check');
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
// invalid, used, expired, revoked, gone (used or expired: a 410 without a
// code), goneAfterSend, notStored (other answers were stored under this
// draft's key) or unavailable.
function showProblem(kind, { retry = false } = {}) {
  i18n.bind($('problem-heading'), () => t(`problem.${kind}.heading`));
  i18n.bind($('problem-body'), () => t(`problem.${kind}.body`));
  i18n.bind($('problem-help'), () => t(`problem.${kind}.help`));
  $('problem-retry').hidden = !retry;
  showView('view-problem');
  $('problem-heading').focus();
}

main().catch(() => showProblem('unavailable', { retry: true }));
