// The rater's draft: answers and the submission's Idempotency-Key, kept in
// localStorage under the token's public id (never its secret, which stays
// in the URL fragment only), so a reload, a crash or a closed tab loses
// nothing. A draft is removed once the rating is stored, when the link
// turns out to be used or invalid, and after the link's expiry.

const PREFIX = 'alliance.survey.';

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

export class Draft {
  constructor(id) {
    this.store = storage();
    this.name = PREFIX + id;
    this.persistent = this.store !== null;
    this.dropExpired();
    let rec = null;
    try {
      rec = JSON.parse(this.store?.getItem(this.name) ?? 'null');
    } catch {
      rec = null;
    }
    if (!rec || rec.v !== 1 || typeof rec.key !== 'string') rec = { v: 1, key: newKey(), answers: [] };
    this.rec = rec;
    this.save(); // the key is fixed from the first load on
  }

  get key() { return this.rec.key; }
  get answers() { return this.rec.answers; }
  get sending() { return this.rec.sending === true; }
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
  setLang(lang) { this.rec.lang = lang; this.save(); }

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

  dropExpired() {
    if (!this.store) return;
    const now = Date.now();
    for (let i = this.store.length - 1; i >= 0; i--) {
      const k = this.store.key(i);
      if (!k?.startsWith(PREFIX)) continue;
      try {
        const exp = Date.parse(JSON.parse(this.store.getItem(k))?.expires);
        if (exp < now) this.store.removeItem(k);
      } catch {
        this.store.removeItem(k);
      }
    }
  }
}
