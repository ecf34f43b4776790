// Orbit's workflow UI enhancements. Every page works without this file (an unfinished run's
// page refreshes itself every few seconds instead); it adds:
// - live progress on a run's page: polls GetWorkflow about every 700 ms while the run is
//   pending or running and updates its status, progress, current step, event log, error,
//   result and buttons in place; stops when the run has finished;
// - live rows for unfinished runs in the workflows list;
// - the header's "N running" indicator kept up to date while something runs.
// Connect calls are authenticated by the session cookie; no framework, no build step.
'use strict';

(() => {
  const POLL_MS = 700;
  const ROW_POLL_MS = 1500;
  const BACKGROUND_POLL_MS = 5000; // while the tab is hidden
  const ACTIVITY_POLL_MS = 3000;
  const ACTIVITY_CAP = 20; // as in web_workflows.rs
  const MAX_LIVE_ROWS = 25;
  const STATUSES = {
    WORKFLOW_STATUS_PENDING: 'pending',
    WORKFLOW_STATUS_RUNNING: 'running',
    WORKFLOW_STATUS_SUCCEEDED: 'succeeded',
    WORKFLOW_STATUS_FAILED: 'failed',
    WORKFLOW_STATUS_CANCELLED: 'cancelled',
  };
  const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

  /** POSTs a Connect JSON request; resolves to the decoded answer or throws an Error with `status`. */
  async function connect(method, body) {
    const res = await fetch(`/orbit.v1.${method}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Connect-Protocol-Version': '1' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    if (!res.ok) {
      const err = new Error((data && data.message) || `the server answered ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return data || {};
  }

  const statusOf = (wf) => STATUSES[wf.status] || 'pending';
  const capitalised = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  /** "2026-03-01T14:05:09.123Z" → "14:05:09", "2026-03-01 14:05:09 UTC", "2026-03-01T14:05:09Z". */
  const clock = (ts) => (ts || '').slice(11, 19);
  const datetime = (ts) => (ts ? `${ts.slice(0, 10)} ${ts.slice(11, 19)} UTC` : '');
  const isoSeconds = (ts) => (ts ? `${ts.slice(0, 19)}Z` : '');

  function pretty(json) {
    try { return JSON.stringify(JSON.parse(json), null, 2); } catch { return json; }
  }

  function setText(el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  }

  /** Sets a <time>: "2026-03-01 14:05:09 UTC", or date and time in two spans when it is "stacked". */
  function setTime(el, ts) {
    if (!el || !ts) return;
    el.setAttribute('datetime', isoSeconds(ts));
    if (!el.classList.contains('stacked')) {
      setText(el, datetime(ts));
      return;
    }
    const [date, time] = el.querySelectorAll('span');
    setText(date, ts.slice(0, 10));
    setText(time, clock(ts));
  }

  /** Sets a <progress> and its text from a run: "3 of 5 steps" (long) or "3 / 5". */
  function setProgress(bar, text, wf, long) {
    const done = wf.stepsDone || 0;
    const total = wf.stepsTotal || 0;
    const finished = FINISHED.has(statusOf(wf));
    if (total > 0) {
      bar.max = total;
      bar.value = done;
      setText(text, long ? `${done} of ${total} steps` : `${done} / ${total}`);
    } else if (finished) {
      bar.max = 1;
      bar.value = 0;
      setText(text, long ? 'no steps' : '—');
    } else {
      bar.removeAttribute('value'); // indeterminate
      setText(text, long ? 'starting…' : '—');
    }
  }

  function setBadge(el, status, extra) {
    if (!el) return;
    const cls = `badge status${extra} ${status}`;
    if (el.className !== cls) el.className = cls;
    setText(el, capitalised(status));
  }

  function schedule(fn, ms) {
    setTimeout(fn, document.hidden ? Math.max(ms, BACKGROUND_POLL_MS) : ms);
  }

  // -------------------------------------------------------------------------------------
  // The header's indicator

  const indicator = document.getElementById('activity');
  let activityLoop = false;

  async function refreshActivity() {
    if (!indicator) return 0;
    const ask = (status) => connect('WorkflowService/ListWorkflows', {
      workspaceId: indicator.dataset.workspaceId, status, pageSize: ACTIVITY_CAP,
    });
    const [running, pending] = await Promise.all([ask('WORKFLOW_STATUS_RUNNING'), ask('WORKFLOW_STATUS_PENDING')]);
    const r = (running.workflows || []).length;
    const p = (pending.workflows || []).length;
    const more = Boolean(running.nextPageToken || pending.nextPageToken) || r + p > ACTIVITY_CAP;
    const count = Math.min(r + p, ACTIVITY_CAP);
    setText(document.getElementById('activity-count'), `${count}${more ? '+' : ''}`);
    const status = r === 0 && p > 0 ? 'pending' : 'running';
    indicator.href = `/ui/w/${indicator.dataset.workspaceSlug}/workflows?status=${status}`;
    indicator.hidden = count === 0;
    return count;
  }

  /** Keeps the indicator current while something runs (or while `keepGoing()` says so). */
  function watchActivity(keepGoing) {
    if (!indicator || activityLoop) return;
    activityLoop = true;
    const tick = async () => {
      let count = 1;
      try { count = await refreshActivity(); } catch { /* try again later */ }
      if (count === 0 && !keepGoing()) {
        activityLoop = false;
        return;
      }
      schedule(tick, ACTIVITY_POLL_MS);
    };
    schedule(tick, ACTIVITY_POLL_MS);
  }

  // -------------------------------------------------------------------------------------
  // A run's page

  const run = document.getElementById('run');

  function appendEvents(list, events) {
    const shown = list.children.length;
    if (events.length < shown) list.replaceChildren();
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    for (const e of events.slice(list.children.length)) {
      const li = document.createElement('li');
      const time = document.createElement('time');
      time.setAttribute('datetime', isoSeconds(e.time));
      time.textContent = clock(e.time);
      const message = document.createElement('span');
      message.className = 'event-message';
      message.textContent = e.message || '';
      li.append(time, ' ', message);
      list.append(li);
    }
    if (nearBottom) list.scrollTop = list.scrollHeight;
  }

  function updateRun(wf) {
    const status = statusOf(wf);
    const finished = FINISHED.has(status);
    run.dataset.status = status;
    setBadge(document.getElementById('run-status'), status, ' big');
    const requested = document.getElementById('run-cancel-requested');
    if (requested) requested.hidden = !(wf.cancelRequested && !finished);
    setProgress(document.getElementById('run-progress'), document.getElementById('run-steps'), wf, true);
    setText(document.getElementById('run-attempt'), String(wf.attempt || 1));
    const step = document.getElementById('run-step');
    if (step) {
      if (wf.currentStep) {
        const code = step.querySelector('code');
        if (code) setText(code, wf.currentStep);
        else {
          const c = document.createElement('code');
          c.textContent = wf.currentStep;
          step.replaceChildren(c);
        }
      } else setText(step, '—');
    }
    setTime(document.getElementById('run-updated'), wf.updateTime);
    const events = wf.events || [];
    appendEvents(document.getElementById('run-events'), events);
    const none = document.getElementById('run-no-events');
    if (none) none.hidden = events.length > 0;

    const failed = status === 'failed' && Boolean(wf.error);
    document.getElementById('run-error-section').hidden = !failed;
    setText(document.getElementById('run-error'), failed ? wf.error : '');
    const succeeded = status === 'succeeded' && Boolean(wf.result);
    document.getElementById('run-result-section').hidden = !succeeded;
    setText(document.getElementById('run-result'), succeeded ? pretty(wf.result) : '');

    const cancel = document.getElementById('run-cancel');
    if (cancel) cancel.hidden = finished;
    const retry = document.getElementById('run-retry');
    if (retry) retry.hidden = !(status === 'failed' || status === 'cancelled');
  }

  function watchRun() {
    const body = { workspaceId: run.dataset.workspaceId, id: run.dataset.runId };
    const log = document.getElementById('run-events');
    log.scrollTop = log.scrollHeight; // follow the newest events
    let failures = 0;
    const tick = async () => {
      let wf;
      try {
        wf = (await connect('WorkflowService/GetWorkflow', body)).workflow || {};
        failures = 0;
      } catch (err) {
        failures += 1;
        // Signed out, or the run or workspace is gone: the server-rendered page says so.
        if ([401, 403, 404].includes(err.status) || failures >= 10) {
          window.location.reload();
          return;
        }
        schedule(tick, Math.min(POLL_MS * 2 ** failures, 10_000));
        return;
      }
      const before = run.dataset.status;
      updateRun(wf);
      const now = run.dataset.status;
      if (now !== before) refreshActivity().catch(() => {});
      if (!FINISHED.has(now)) schedule(tick, POLL_MS);
    };
    schedule(tick, POLL_MS);
  }

  // -------------------------------------------------------------------------------------
  // The list: unfinished rows follow their run

  function watchRow(table, row) {
    const body = { workspaceId: table.dataset.workspaceId, id: row.dataset.runId };
    let failures = 0;
    const tick = async () => {
      let wf;
      try {
        wf = (await connect('WorkflowService/GetWorkflow', body)).workflow || {};
        failures = 0;
      } catch {
        failures += 1;
        if (failures < 5) schedule(tick, ROW_POLL_MS * 2 ** failures);
        return;
      }
      const status = statusOf(wf);
      row.dataset.status = status;
      setBadge(row.querySelector('[data-field="status"]'), status, '');
      setProgress(row.querySelector('[data-field="progress"]'), row.querySelector('[data-field="steps"]'), wf, false);
      setTime(row.querySelector('[data-field="updated"]'), wf.updateTime);
      if (!FINISHED.has(status)) schedule(tick, ROW_POLL_MS);
    };
    schedule(tick, ROW_POLL_MS);
  }

  // -------------------------------------------------------------------------------------

  if (run && !FINISHED.has(run.dataset.status)) {
    watchRun();
  }
  const table = document.getElementById('runs');
  if (table) {
    const live = [...table.querySelectorAll('tbody tr[data-run-id]')].filter((r) => !FINISHED.has(r.dataset.status));
    for (const row of live.slice(0, MAX_LIVE_ROWS)) watchRow(table, row);
  }
  if (indicator && !indicator.hidden) {
    // The run page refreshes the indicator itself when its run changes status.
    watchActivity(() => Boolean(run && !FINISHED.has(run.dataset.status)));
  }
})();
