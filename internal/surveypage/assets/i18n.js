// Message catalogues: every text a person reads comes from i18n/<lang>.json.
// Texts are bound to elements so that switching the language re-renders
// them in place, without rebuilding the form (focus and answers stay).

const catalogues = new Map();

async function fetchCatalogue(lang) {
  if (!catalogues.has(lang)) {
    const res = await fetch(new URL(`i18n/${lang}.json`, import.meta.url), { credentials: 'omit' });
    if (!res.ok) throw new Error(`catalogue ${lang}: HTTP ${res.status}`);
    catalogues.set(lang, await res.json());
  }
  return catalogues.get(lang);
}

export class I18n {
  constructor(languages) {
    this.languages = languages;
    this.lang = languages[0];
    this.messages = {};
    this.bound = new Map(); // element -> function returning its text
  }

  // use loads a catalogue and re-renders every bound text in it.
  async use(lang) {
    if (!this.languages.includes(lang)) lang = this.languages[0];
    this.messages = await fetchCatalogue(lang);
    this.lang = lang;
    document.documentElement.lang = lang;
    this.refresh();
    return lang;
  }

  // t returns the message key with {name} placeholders filled from args.
  t(key, args = {}) {
    const msg = this.messages[key];
    if (msg === undefined) return key;
    return msg.replace(/\{(\w+)\}/g, (m, name) => (name in args ? String(args[name]) : m));
  }

  // plural picks key.one, key.other, ... by the language's plural rules for n.
  plural(key, n, args = {}) {
    const form = new Intl.PluralRules(this.lang).select(n);
    const k = `${key}.${form}` in this.messages ? `${key}.${form}` : `${key}.other`;
    return this.t(k, { n, ...args });
  }

  // bind sets el's text now and after every language switch.
  bind(el, render) {
    this.bound.set(el, render);
    el.textContent = render();
  }

  // refresh re-renders the static data-i18n texts and the bound ones.
  refresh() {
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = this.t(el.dataset.i18n);
    for (const el of document.querySelectorAll('[data-i18n-aria-label]')) {
      el.setAttribute('aria-label', this.t(el.dataset.i18nAriaLabel));
    }
    for (const [el, render] of this.bound) {
      if (el.isConnected) el.textContent = render();
      else this.bound.delete(el);
    }
  }

  // number writes x as the page's language does (0,1 in Swedish).
  number(x) {
    return new Intl.NumberFormat(this.lang, { maximumFractionDigits: 6, useGrouping: false }).format(x);
  }

  // list joins items as the page's language does ("1, 2 and 3").
  list(items) {
    return new Intl.ListFormat(this.lang, { type: 'conjunction' }).format(items);
  }

  dateTime(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    return new Intl.DateTimeFormat(this.lang, { dateStyle: 'long', timeStyle: 'short' }).format(d);
  }
}
