// The rater's draft: answers and the submission's Idempotency-Key, kept in
// localStorage under the token's public id (never its secret, which stays
// in the URL fragment only), so a reload, a crash or a closed tab loses
// nothing. A draft is removed once the rating is stored, when the link
// turns out to be used or invalid, and after the link's expiry. The page's
// language is kept beside it (PageLang), not in it, so that it outlives the
// draft: the page that says a link was used speaks the form's language.
// So is the receipt of a stored rating (Receipt): its id and time, never
// the answers, so that a reload confirms what this browser sent.

const PREFIX = 'alliance.survey.';
const LANG_PREFIX = 'alliance.survey-lang.'; // not under PREFIX: a draft sweep leaves it
const RECEIPT_PREFIX = 'alliance.survey-receipt.'; // nor this
const LANG_KEEP_MS = 30 * 24 * 3600 * 1000; // after the link's expiry
const RECEIPT_KEEP_MS = LANG_KEEP_MS; // as long as the link's language

function storage() {
  try {
    const s = window.localStorage;
    const probe = `${PREFIX}probe`;
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    return null; // storage disabled or full: the draft lives in memory only
  }
}

// newKey is a random UUID; crypto.randomUUID needs a secure context, so
// plain-http deployments fall back to getRandomValues.
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// sweep removes the records under prefix that stale says are done with,
// and any that cannot be read.
function sweep(store, prefix, stale) {
  if (!store) return;
  for (let i = store.length - 1; i >= 0; i--) {
    const k = store.key(i);
    if (!k?.startsWith(prefix)) continue;
    try {
      if (stale(JSON.parse(store.getItem(k)))) store.removeItem(k);
    } catch {
      store.removeItem(k);
    }
  }
}

// read is the record stored under name, or null.
function read(store, name) {
  try {
    return JSON.parse(store?.getItem(name) ?? 'null');
  } catch {
    return null;
  }
}

export class Draft {
  constructor(id) {
    this.store = storage();
    this.name = PREFIX + id;
    this.persistent = this.store !== null;
    this.dropExpired();
    let rec = read(this.store, this.name);
    if (!rec || rec.v !== 1 || typeof rec.key !== 'string') rec = { v: 1, key: newKey(), answers: [] };
    this.rec = rec;
    this.save(); // the key is fixed from the first load on
  }

  get key() { return this.rec.key; }
  get answers() { return this.rec.answers; }
  get sending() { return this.rec.sending === true; }
  // expires is the link's expiry, once its form has loaded.
  get expires() { return this.rec.expires; }
  // lang is the language chosen on pages that kept it in the draft.
  get lang() { return this.rec.lang; }

  // fit keeps the stored answers only if they belong to this form.
  fit(formID, n, expiresAt) {
    if (this.rec.form !== formID || !Array.isArray(this.rec.answers) || this.rec.answers.length !== n) {
      this.rec.form = formID;
      this.rec.answers = new Array(n).fill(null);
    }
    this.rec.expires = expiresAt;
    this.save();
  }

  setAnswer(i, v) { this.rec.answers[i] = v; this.save(); }
  setSending(on) { this.rec.sending = on; this.save(); }

  save() {
    try {
      this.store?.setItem(this.name, JSON.stringify(this.rec));
    } catch {
      this.persistent = false;
    }
  }

  clear() {
    try {
      this.store?.removeItem(this.name);
    } catch {
      // nothing to do: the draft was not kept
    }
  }

  // dropExpired removes the drafts of expired links; a draft whose form
  // has not loaded yet has no expiry and stays.
  dropExpired() {
    sweep(this.store, PREFIX, (r) => Date.parse(r?.expires) < Date.now());
  }
}

// PageLang is the page's language for one link: the rater's own choice on
// the page (chosen) and the study's language as the server last said it
// (study), kept under the token's public id until 30 days after the link's
// expiry, whether or not a draft is still there.
export class PageLang {
  constructor(id) {
    this.store = storage();
    this.name = LANG_PREFIX + id;
    this.dropExpired();
    const rec = read(this.store, this.name);
    this.rec = rec && typeof rec === 'object' ? rec : {};
  }

  get chosen() { return typeof this.rec.chosen === 'string' ? this.rec.chosen : null; }
  get study() { return typeof this.rec.study === 'string' ? this.rec.study : null; }

  setChosen(lang) { this.rec.chosen = lang; this.save(); }
  setStudy(lang) { this.rec.study = lang; this.save(); }
  setExpiry(expiresAt) {
    const exp = Date.parse(expiresAt);
    if (Number.isFinite(exp)) this.rec.until = new Date(exp + LANG_KEEP_MS).toISOString();
    this.save();
  }

  save() {
    if (!this.rec.chosen && !this.rec.study) return; // nothing worth keeping
    if (!this.rec.until) this.rec.until = new Date(Date.now() + LANG_KEEP_MS).toISOString();
    try {
      this.store?.setItem(this.name, JSON.stringify(this.rec));
    } catch {
      // kept in memory for this page
    }
  }

  // dropExpired removes the languages kept for links gone past their
  // keeping time, or kept with none.
  dropExpired() {
    sweep(this.store, LANG_PREFIX, (r) => !(Date.parse(r?.until) >= Date.now()));
  }
}

// Receipt is the receipt of the rating this browser sent through one
// link: the rating's id and when it was received (nothing of the
// answers), kept under the token's public id until 30 days after the
// link's expiry, as its language is. A page that opens a used link (a
// reload, Back, the link opened again) shows the confirmation from it,
// with the same reference, instead of "already used"; a browser without
// it (another device, a fresh profile) gets "already used".
export class Receipt {
  constructor(id) {
    this.store = storage();
    this.name = RECEIPT_PREFIX + id;
    this.dropExpired();
  }

  // get is the kept receipt, { id, received_at }, or null.
  get() {
    const rec = read(this.store, this.name);
    if (!rec || rec.v !== 1 || typeof rec.id !== 'string' || typeof rec.received_at !== 'string') return null;
    return { id: rec.id, received_at: rec.received_at };
  }

  // keep keeps the id and time of a 201's receipt, until 30 days after
  // expiresAt (the link's expiry; from now, if it is unknown).
  keep(receipt, expiresAt) {
    if (typeof receipt?.id !== 'string' || typeof receipt?.received_at !== 'string') return;
    const exp = Date.parse(expiresAt);
    const until = new Date((Number.isFinite(exp) ? Math.max(exp, Date.now()) : Date.now()) + RECEIPT_KEEP_MS).toISOString();
    try {
      this.store?.setItem(this.name, JSON.stringify({ v: 1, id: receipt.id, received_at: receipt.received_at, until }));
    } catch {
      // not kept: a reload says "already used", as before
    }
  }

  clear() {
    try {
      this.store?.removeItem(this.name);
    } catch {
      // nothing to do: it was not kept
    }
  }

  // dropExpired removes the receipts kept past their time.
  dropExpired() {
    sweep(this.store, RECEIPT_PREFIX, (r) => !(Date.parse(r?.until) >= Date.now()));
  }
}
