// Orbit's knowledge UI enhancements. Every page works without this file; it adds:
// - search suggestions as you type under the header's search box (an ARIA combobox);
// - the editor's live preview and drafts kept in localStorage;
// - clearing a draft once its save has succeeded.
// Connect calls are authenticated by the session cookie; no framework, no build step.
'use strict';

(() => {
  const DRAFT_PREFIX = 'orbit-draft:';

  /** POSTs a Connect JSON request; resolves to the decoded answer or throws an Error. */
  async function connect(method, body, signal) {
    const res = await fetch(`/orbit.v1.${method}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Connect-Protocol-Version': '1' },
      body: JSON.stringify(body),
      signal,
    });
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    if (!res.ok) throw new Error((data && data.message) || `the server answered ${res.status}`);
    return data || {};
  }

  function debounce(fn, ms) {
    let timer;
    const run = (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
    run.cancel = () => clearTimeout(timer);
    return run;
  }

  const storage = (() => {
    try {
      const probe = `${DRAFT_PREFIX}probe`;
      window.localStorage.setItem(probe, '1');
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch {
      return null; // private mode or disabled: no drafts
    }
  })();

  function readDraft(key) {
    if (!storage) return null;
    try {
      const d = JSON.parse(storage.getItem(key) || 'null');
      return d && typeof d.body === 'string' && typeof d.title === 'string' ? d : null;
    } catch {
      return null;
    }
  }

  function writeDraft(key, title, body) {
    if (!storage) return;
    try { storage.setItem(key, JSON.stringify({ title, body, saved: Date.now() })); } catch { /* full */ }
  }

  function removeDraft(key) {
    if (storage) storage.removeItem(key);
  }

  /** Moves headings one level down so that the page's title stays the only h1 (as the server does). */
  function demoteHeadings(root) {
    for (const h of root.querySelectorAll('h1, h2, h3, h4, h5')) {
      const level = Number(h.tagName[1]) + 1;
      const next = document.createElement(`h${level}`);
      for (const a of h.attributes) next.setAttribute(a.name, a.value);
      while (h.firstChild) next.appendChild(h.firstChild);
      h.replaceWith(next);
    }
  }

  /** Fills `el` with `text`, the words of `query` found in it wrapped in <mark> (as text nodes, never HTML). */
  function highlight(el, text, query) {
    const words = query.toLowerCase().split(/\s+/).filter((w) => w.length >= 2);
    const lower = text.toLowerCase();
    const marks = new Array(text.length).fill(false);
    for (const w of words) {
      for (let at = lower.indexOf(w); at >= 0; at = lower.indexOf(w, at + 1)) {
        if (at === 0 || !/[\p{L}\p{N}]/u.test(lower[at - 1])) marks.fill(true, at, at + w.length);
      }
    }
    let i = 0;
    while (i < text.length) {
      let j = i;
      while (j < text.length && marks[j] === marks[i]) j += 1;
      const part = document.createTextNode(text.slice(i, j));
      if (marks[i]) {
        const mark = document.createElement('mark');
        mark.appendChild(part);
        el.appendChild(mark);
      } else {
        el.appendChild(part);
      }
      i = j;
    }
  }

  // -------------------------------------------------------------------------------------
  // Search suggestions: the header box becomes a combobox with a listbox of results.

  function setUpSearch() {
    const input = document.getElementById('site-search');
    const list = document.getElementById('site-search-results');
    const status = document.getElementById('site-search-status');
    if (!input || !list || !input.dataset.workspaceId) return;
    const form = input.form;
    const workspaceId = input.dataset.workspaceId;
    const slug = input.dataset.workspaceSlug;

    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', list.id);
    list.setAttribute('role', 'listbox');

    let options = []; // [{el, href}]
    let active = -1;
    let controller = null;
    let seq = 0;

    function setActive(i) {
      if (active >= 0 && options[active]) options[active].el.setAttribute('aria-selected', 'false');
      active = i;
      if (active >= 0 && options[active]) {
        const el = options[active].el;
        el.setAttribute('aria-selected', 'true');
        input.setAttribute('aria-activedescendant', el.id);
        el.scrollIntoView({ block: 'nearest' });
      } else {
        input.removeAttribute('aria-activedescendant');
      }
    }

    function close() {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      setActive(-1);
    }

    function open() {
      if (!list.children.length) return;
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
    }

    function option(id, href, build) {
      const li = document.createElement('li');
      li.id = id;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', 'false');
      build(li);
      li.addEventListener('click', () => { window.location.assign(href); });
      const index = options.length;
      li.addEventListener('mousemove', () => { if (active !== index) setActive(index); });
      options.push({ el: li, href });
      return li;
    }

    function show(query, data) {
      options = [];
      active = -1;
      input.removeAttribute('aria-activedescendant');
      const results = data.results || [];
      const items = [];
      results.forEach((r, i) => {
        const href = r.kind === 'page' ? `/ui/w/${slug}/pages/${encodeURIComponent(r.id)}` : allHref(query);
        items.push(option(`site-search-option-${i}`, href, (li) => {
          const title = document.createElement('span');
          title.className = 's-title';
          highlight(title, r.title, query);
          li.appendChild(title);
          if (r.snippet) {
            const snippet = document.createElement('span');
            snippet.className = 's-snippet';
            snippet.innerHTML = r.snippet; // escaped by the server except for <mark>
            li.appendChild(snippet);
          }
        }));
      });
      const total = Number(data.total || results.length);
      items.push(option('site-search-option-all', allHref(query), (li) => {
        li.className = 's-all';
        li.textContent = results.length ? `All results for “${query}” (${total})` : `No pages match “${query}”: search anyway`;
      }));
      list.replaceChildren(...items);
      status.textContent = results.length
        ? `${total} result${total === 1 ? '' : 's'}; use the up and down arrow keys to choose one.`
        : 'No results.';
      open();
    }

    function allHref(query) {
      return `${form.action}?q=${encodeURIComponent(query)}`;
    }

    async function suggest() {
      const query = input.value.trim();
      if (controller) controller.abort();
      if (!query) { list.replaceChildren(); options = []; close(); status.textContent = ''; return; }
      controller = new AbortController();
      const mine = ++seq;
      try {
        const data = await connect('SearchService/Search', { workspaceId, query, pageSize: 8 }, controller.signal);
        if (mine === seq && input.value.trim() === query) show(query, data);
      } catch (err) {
        if (err.name === 'AbortError' || mine !== seq) return;
        status.textContent = `Suggestions are unavailable: ${err.message}`;
        close();
      }
    }

    const later = debounce(suggest, 200);
    input.addEventListener('input', later);
    input.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        if (!options.length) return;
        e.preventDefault();
        if (list.hidden) { open(); }
        const step = e.key === 'ArrowDown' ? 1 : -1;
        const next = active < 0 ? (step > 0 ? 0 : options.length - 1) : (active + step + options.length) % options.length;
        setActive(next);
      } else if (e.key === 'Enter') {
        if (!list.hidden && active >= 0 && options[active]) {
          e.preventDefault();
          window.location.assign(options[active].href);
        }
        // otherwise the form submits: the full results page.
      } else if (e.key === 'Escape') {
        if (!list.hidden) {
          e.preventDefault();
          close();
        }
      } else if (e.key === 'Home' || e.key === 'End') {
        setActive(-1);
      }
    });
    input.addEventListener('focus', () => { if (options.length && input.value.trim()) open(); });
    // Keep the focus in the box while the mouse picks an option.
    list.addEventListener('mousedown', (e) => e.preventDefault());
    input.addEventListener('blur', () => close());
    form.addEventListener('submit', () => { later.cancel(); if (controller) controller.abort(); });
  }

  // -------------------------------------------------------------------------------------
  // The editor: live preview and drafts.

  function setUpEditor() {
    const form = document.getElementById('editor');
    if (!form) return;
    const title = form.elements.title;
    const body = form.elements.body;
    const preview = document.getElementById('preview');
    const status = document.getElementById('preview-status');
    const note = document.getElementById('draft-note');
    const discard = document.getElementById('discard-draft');
    const pageId = form.dataset.pageId;
    const key = `${DRAFT_PREFIX}${pageId}:${form.dataset.baseRevision}`;
    // What the draft is compared with: the saved text. After a conflict that is the other
    // person's revision shown beside the editor, so the text being merged counts as a draft.
    const theirs = document.getElementById('theirs-body');
    const original = theirs
      ? { title: theirs.dataset.savedTitle ?? title.value, body: theirs.value }
      : { title: title.value, body: body.value };

    // After a conflict the edit continues from the newer revision: the draft moves with it.
    if (form.dataset.previousBase) removeDraft(`${DRAFT_PREFIX}${pageId}:${form.dataset.previousBase}`);

    let seq = 0;
    let controller = null;
    async function renderPreview() {
      const mine = ++seq;
      if (controller) controller.abort();
      controller = new AbortController();
      status.textContent = 'Updating the preview…';
      try {
        const data = await connect('KnowledgeService/RenderMarkdown', { markdown: body.value }, controller.signal);
        if (mine !== seq) return;
        preview.innerHTML = data.html || ''; // sanitized by the server
        demoteHeadings(preview);
        status.textContent = 'Preview of your text (not saved yet).';
      } catch (err) {
        if (err.name === 'AbortError' || mine !== seq) return;
        status.textContent = `The preview could not be updated: ${err.message}`;
      }
    }
    const previewLater = debounce(renderPreview, 250);

    function saveDraft() {
      if (title.value === original.title && body.value === original.body) removeDraft(key);
      else writeDraft(key, title.value, body.value);
    }
    const saveDraftLater = debounce(saveDraft, 250);

    const restored = readDraft(key);
    if (theirs) {
      saveDraft();
      status.textContent = 'The preview follows your typing.';
    } else if (restored && (restored.title !== title.value || restored.body !== body.value)) {
      title.value = restored.title;
      body.value = restored.body;
      note.hidden = false;
      renderPreview();
    } else {
      status.textContent = 'The preview follows your typing.';
    }

    discard.addEventListener('click', () => {
      removeDraft(key);
      title.value = original.title;
      body.value = original.body;
      note.hidden = true;
      renderPreview();
      body.focus();
    });

    body.addEventListener('input', () => { saveDraftLater(); previewLater(); });
    title.addEventListener('input', saveDraftLater);
    // Do not lose the last keystrokes to the debounce on reload or navigation.
    window.addEventListener('pagehide', () => { saveDraftLater.cancel(); saveDraft(); });
    form.addEventListener('submit', () => { saveDraftLater.cancel(); saveDraft(); });
  }

  // -------------------------------------------------------------------------------------
  // A page shown after a successful save: its draft is no longer needed.

  function clearSavedDraft() {
    const view = document.querySelector('[data-saved-draft]');
    if (view) removeDraft(`${DRAFT_PREFIX}${view.dataset.savedDraft}`);
  }

  function start() {
    setUpSearch();
    setUpEditor();
    clearSavedDraft();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
