// The dashboard's script: sign-in, then who is signed in and how fresh the
// tenant is, and the chart, figures, comparison, rows and collector status of
// the tenant shown, all read through the API with the token. An operator's token
// picks the tenant (sent as the tenant-id header) or the All tenants view.
// Row values reach the page only through textContent or a parsed SVG document.
'use strict';

const BASE = '/beta';
const COLLECTION = BASE + '/reports/teamsDeviceUsageDistributionUserCounts';
const TOKEN_KEY = 'teamsUsageStore.token';
const PAGE_SIZE = 25;
// Rows ask for Int64 values as decimal strings: a JavaScript number is exact only
// up to 2^53, and counts go up to Int64's maximum.
const ROWS_JSON = 'application/json;IEEE754Compatible=true';
const DEVICES = [
  ['web', 'Web'], ['windowsPhone', 'Windows Phone'], ['androidPhone', 'Android Phone'],
  ['ios', 'iOS'], ['mac', 'Mac'], ['windows', 'Windows'], ['chromeOS', 'Chrome OS'],
  ['linux', 'Linux'],
];

const $ = (id) => document.getElementById(id);

class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

let session = null;     // the last GET {base}/dashboard/session
let chosenTenant = '';  // an operator's pick; '' is the All tenants view
let pickerFilled = false;

// Every data request: the token as a bearer header, never in the URL; the
// operator's chosen tenant as the tenant-id header, unless `allTenants`.
async function api(url, accept, allTenants) {
  const headers = { Authorization: 'Bearer ' + token(), Accept: accept || 'application/json' };
  if (chosenTenant && !allTenants) headers['tenant-id'] = chosenTenant;
  let response;
  try {
    response = await fetch(url, {
      headers,
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (cause) {
    throw new ApiFailure(0, 'The server cannot be reached. Check that the service is running, then press Show.');
  }
  if (!response.ok) {
    let message = response.statusText;
    try {
      message = (await response.json()).error.message || message;
    } catch (ignored) { /* not Graph's error shape */ }
    throw new ApiFailure(response.status, message);
  }
  return response;
}

// --- The selection ------------------------------------------------------------------

function selection() {
  return { period: $('period').value, from: $('from').value, to: $('to').value };
}

function filterOf(sel) {
  let filter = "reportPeriod eq '" + sel.period + "'";
  if (sel.from) filter += ' and reportRefreshDate ge ' + sel.from;
  if (sel.to) filter += ' and reportRefreshDate le ' + sel.to;
  return filter;
}

function collectionUrl(sel, order, top, count) {
  let url = COLLECTION + '?$filter=' + encodeURIComponent(filterOf(sel)) +
    '&$orderby=' + encodeURIComponent('reportRefreshDate ' + order) + '&$top=' + top;
  if (count) url += '&$count=true';
  return url;
}

function rangeText(sel) {
  if (sel.from && sel.to) return 'from ' + sel.from + ' to ' + sel.to;
  if (sel.from) return 'from ' + sel.from;
  if (sel.to) return 'up to ' + sel.to;
  return 'over the whole history';
}

// --- Loading ------------------------------------------------------------------------

let pages = [];      // URLs of the pages shown so far, the current one last
let loadNumber = 0;  // a newer load makes an older one's answers stale

async function load() {
  const sel = selection();
  if (sel.from && sel.to && sel.from > sel.to) {
    setStatus('"From" is after "To": choose a range that runs forward.', 'error');
    return;
  }
  const mine = ++loadNumber;
  try {
    const who = await (await api(BASE + '/dashboard/session')).json();
    if (mine !== loadNumber) return;
    session = who;
    showWho(who);
    if (who.allTenants && !pickerFilled) await fillPicker(mine);
    if (mine !== loadNumber) return;
    const all = who.allTenants && !chosenTenant;
    $('all-view').hidden = !all;
    $('tenant-view').hidden = all;
    if (all) await loadAll(sel, mine);
    else await loadTenant(sel, mine);
  } catch (failure) {
    if (mine === loadNumber) fail(failure);
  }
}

async function loadTenant(sel, mine) {
  setStatus('Loading the ' + sel.period + '-day reports ' + rangeText(sel) + '…', 'loading');
  $('chart').setAttribute('aria-busy', 'true');
  try {
    pages = [collectionUrl(sel, 'desc', PAGE_SIZE, true)];
    const [count] = await Promise.all([
      showPage(mine), showChart(sel, mine), showFigures(sel, mine), showCollector(mine),
      showComparison(BASE + '/dashboard/comparison', sel, 'comparison', false, mine),
    ]);
    if (mine !== loadNumber) return;
    if (count === 0) {
      setStatus('No rows yet for the ' + sel.period + '-day period ' + rangeText(sel) +
        '. Rows appear here once a collector stores them (POST, import or collect).', 'empty');
    } else {
      setStatus(count + ' ' + sel.period + '-day report' + (count === 1 ? '' : 's') + ' ' +
        rangeText(sel) + '.', 'ok');
    }
  } catch (failure) {
    if (mine === loadNumber) fail(failure);
  } finally {
    $('chart').setAttribute('aria-busy', 'false');
  }
}

function fail(failure) {
  if (failure.status === 401) {
    signOut('The token was refused: it is unknown, expired or revoked. Paste another one.');
  } else if (failure.status === 403) {
    setStatus('This token may not read reports (it needs Reports.Read.All).', 'error');
  } else {
    setStatus(failure.status ? 'The server answered ' + failure.status + ': ' + failure.message
      : failure.message, 'error');
  }
}

function setStatus(text, kind) {
  const status = $('status');
  status.textContent = text;
  status.className = 'status status-' + kind;
}

// --- Who is signed in, and how fresh the tenant shown is -----------------------------

function showWho(who) {
  const tenant = who.tenant;
  $('who-tenant').textContent = tenant
    ? (tenant.displayName ? tenant.displayName + ' (' + tenant.id + ')' : tenant.id)
    : 'All tenants';
  $('who-token').textContent = who.tokenName + (who.allTenants ? ' (operator)' : '');
  $('who').hidden = false;
  const warning = $('stale-warning');
  if (tenant && tenant.stale) {
    const name = tenant.displayName || tenant.id;
    warning.textContent = tenant.ageDays === null || tenant.ageDays === undefined
      ? name + ' is stale: no report is stored yet; stale after ' + who.staleAfterDays + ' days.'
      : name + ' is stale: newest report ' + tenant.ageDays + ' day' + (tenant.ageDays === 1 ? '' : 's') +
        ' old (' + tenant.latestReportRefreshDate + '); stale after ' + who.staleAfterDays + ' days.';
    warning.hidden = false;
  } else {
    warning.textContent = '';
    warning.hidden = true;
  }
}

// The operator's tenants, by id; the choice survives a reload of the data.
async function fillPicker(mine) {
  const list = await (await api(BASE + '/tenants?$orderby=id', 'application/json', true)).json();
  if (mine !== loadNumber) return;
  const picker = $('tenant-picker');
  const options = [element('option', 'All tenants')];
  options[0].value = '';
  for (const tenant of list.value) {
    const option = element('option', tenant.displayName ? tenant.displayName + ' (' + tenant.id + ')' : tenant.id);
    option.value = tenant.id;
    options.push(option);
  }
  picker.replaceChildren(...options);
  picker.value = chosenTenant;
  $('tenant-picker-label').hidden = false;
  pickerFilled = true;
}

// --- The chart: an SVG document parsed as SVG, never as HTML ---------------------

function rangeQuery(sel) {
  let query = '?period=' + encodeURIComponent(sel.period);
  if (sel.from) query += '&from=' + encodeURIComponent(sel.from);
  if (sel.to) query += '&to=' + encodeURIComponent(sel.to);
  return query;
}

async function showChart(sel, mine) {
  await drawSvg(BASE + '/dashboard/chart.svg' + rangeQuery(sel), 'chart', '', false, mine);
}

// The SVG at `url` into the figure `target`; `prefix` keeps its title's ids unique.
async function drawSvg(url, target, prefix, allTenants, mine) {
  const text = await (await api(url, 'image/svg+xml', allTenants)).text();
  const parsed = new DOMParser().parseFromString(text, 'image/svg+xml');
  const root = parsed.documentElement;
  if (root.localName !== 'svg' || parsed.getElementsByTagName('parsererror').length) {
    throw new ApiFailure(500, 'the chart could not be read');
  }
  if (mine !== loadNumber) return;
  const svg = document.importNode(root, true);
  if (prefix) {
    for (const node of svg.querySelectorAll('title[id], desc[id]')) node.id = prefix + node.id;
    const labels = svg.getAttribute('aria-labelledby');
    if (labels) svg.setAttribute('aria-labelledby', labels.split(' ').map((id) => prefix + id).join(' '));
  }
  const desc = svg.querySelector('desc');
  const caption = element('figcaption', desc ? desc.textContent : '');
  $(target).replaceChildren(svg, caption);
}

// --- Period over period: the newest shares against 30, 90 and 365 days earlier ------

function signedPoints(value) {
  if (Math.abs(value) < 0.005) return '0.00 pt';
  return (value > 0 ? '+' : '−') + Math.abs(value).toFixed(2) + ' pt';
}

async function showComparison(url, sel, table, allTenants, mine) {
  let query = '?period=' + encodeURIComponent(sel.period);
  if (sel.to) query += '&to=' + encodeURIComponent(sel.to);
  const head = $(table).querySelector('thead');
  const rows = $(table).querySelector('tbody');
  let body;
  try {
    body = await (await api(url + query, 'application/json', allTenants)).json();
  } catch (failure) {
    // The rest of the page still stands without the comparison.
    if (failure.status === 401) throw failure;
    if (mine === loadNumber) {
      head.replaceChildren();
      rows.replaceChildren(emptyRow(5, 'The comparison is unavailable right now.'));
    }
    return;
  }
  if (mine !== loadNumber) return;
  const comparison = body.comparison;
  if (!comparison) {
    head.replaceChildren();
    rows.replaceChildren(emptyRow(5, 'No rows to compare.'));
    return;
  }
  const header = document.createElement('tr');
  const first = element('th', 'Device');
  first.scope = 'col';
  const latest = element('th', 'Share', 'num');
  latest.scope = 'col';
  latest.append(element('small', comparison.latest.reportRefreshDate));
  header.append(first, latest);
  for (const earlier of comparison.earlier) {
    const cell = element('th', 'vs ' + earlier.daysBack + ' days earlier', 'num');
    cell.scope = 'col';
    cell.append(element('small', earlier.reportRefreshDate || 'no data that far back'));
    header.append(cell);
  }
  head.replaceChildren(header);
  rows.replaceChildren(...DEVICES.map(([key, label]) => {
    const row = document.createElement('tr');
    const name = element('th', null);
    name.scope = 'row';
    name.append(element('span', null, 'swatch swatch-' + key), label);
    const share = comparison.latest.shares[key];
    row.append(name, element('td', share === undefined || share === null ? '–' : share.toFixed(2) + ' %', 'num'));
    for (const earlier of comparison.earlier) {
      const changes = earlier.changePercentagePoints;
      if (!changes) {
        row.append(element('td', 'no data that far back', 'num none'));
        continue;
      }
      const change = changes[key];
      const cell = element('td', change === undefined || change === null ? '–' : signedPoints(change), 'num');
      if (typeof change === 'number') cell.classList.add(change >= 0.005 ? 'up' : change <= -0.005 ? 'down' : 'flat');
      row.append(cell);
    }
    return row;
  }));
}

// --- All tenants: the roll-up chart, the tenants by staleness, their shares ----------

async function loadAll(sel, mine) {
  setStatus('Loading the ' + sel.period + '-day roll-up ' + rangeText(sel) + '…', 'loading');
  $('rollup-chart').setAttribute('aria-busy', 'true');
  try {
    const [rollup, tenants] = await Promise.all([
      api(BASE + '/tenants/rollup' + rangeQuery(sel), 'application/json', true).then((r) => r.json()),
      api(BASE + '/tenants?$orderby=' + encodeURIComponent('ageDays desc'), 'application/json', true).then((r) => r.json()),
      drawSvg(BASE + '/tenants/rollup/chart.svg' + rangeQuery(sel), 'rollup-chart', 'rollup-', true, mine),
      showComparison(BASE + '/tenants/rollup/comparison', sel, 'rollup-comparison', true, mine),
    ]);
    if (mine !== loadNumber) return;
    showTenants(tenants.value);
    showTenantShares(rollup.tenantShares || []);
    const days = rollup.value.length;
    const stale = tenants.value.filter((t) => t.stale).length;
    const summary = tenants.value.length + ' tenant' + (tenants.value.length === 1 ? '' : 's') +
      ' (' + stale + ' stale); ' + days + ' ' + sel.period + '-day date' + (days === 1 ? '' : 's') +
      ' summed ' + rangeText(sel) + '.';
    setStatus(summary, days === 0 ? 'empty' : 'ok');
  } finally {
    $('rollup-chart').setAttribute('aria-busy', 'false');
  }
}

// Stale first, then the oldest newest report (none at all is oldest), then by id.
function byStaleness(a, b) {
  if (a.stale !== b.stale) return a.stale ? -1 : 1;
  const age = (t) => (t.ageDays === null || t.ageDays === undefined ? Infinity : t.ageDays);
  if (age(a) !== age(b)) return age(b) - age(a);
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function showTenants(tenants) {
  const body = $('tenants').querySelector('tbody');
  if (tenants.length === 0) {
    body.replaceChildren(emptyRow(7, 'No tenants yet.'));
    return;
  }
  body.replaceChildren(...[...tenants].sort(byStaleness).map((tenant) => {
    const row = document.createElement('tr');
    row.dataset.tenant = tenant.id;
    const name = element('th', tenant.displayName || tenant.id);
    name.scope = 'row';
    if (tenant.displayName) name.append(element('span', tenant.id, 'tenant-id'));
    row.append(name, element('td', tenant.latestReportRefreshDate || 'none'));
    row.append(element('td', tenant.ageDays === null || tenant.ageDays === undefined ? '–' : tenant.ageDays, 'num'));
    const freshness = element('td', null);
    freshness.append(element('span', tenant.stale ? 'Stale' : 'Fresh', 'tag ' + (tenant.stale ? 'tag-stale' : 'tag-fresh')));
    row.append(freshness, element('td', number(tenant.rowCount), 'num'));
    row.append(element('td', when(tenant.lastCollectionSuccessAt)));
    const error = tenant.lastCollectionError
      ? tenant.lastCollectionError + ' (' + when(tenant.lastCollectionErrorAt) + ')' : 'none';
    row.append(element('td', error, tenant.lastCollectionError ? 'wrap error' : 'muted'));
    return row;
  }));
}

function showTenantShares(shares) {
  const body = $('tenant-shares').querySelector('tbody');
  if (shares.length === 0) {
    body.replaceChildren(emptyRow(3, 'No tenant has a row on the newest date.'));
    return;
  }
  body.replaceChildren(...shares.map((share) => {
    const row = document.createElement('tr');
    const name = element('th', share.id);
    name.scope = 'row';
    row.append(name, element('td', number(share.users), 'num'), element('td', share.share.toFixed(2) + ' %', 'num'));
    return row;
  }));
}

// --- Share at the latest date, change against the first date of the range ----------

async function showFigures(sel, mine) {
  const [latest, first] = await Promise.all([
    api(collectionUrl(sel, 'desc', 1, false), ROWS_JSON).then((r) => r.json()),
    api(collectionUrl(sel, 'asc', 1, false), ROWS_JSON).then((r) => r.json()),
  ]);
  if (mine !== loadNumber) return;
  const body = $('shares').querySelector('tbody');
  const last = latest.value[0];
  const start = first.value[0];
  if (!last) {
    body.replaceChildren(emptyRow(4, 'No rows to compare.'));
    $('shares-title').textContent = 'Share at the latest date';
    return;
  }
  $('shares-title').textContent = 'Share on ' + last.reportRefreshDate +
    ', change since ' + start.reportRefreshDate;
  const lastShares = shares(last);
  const startShares = shares(start);
  body.replaceChildren(...DEVICES.map(([key, label]) => {
    const row = document.createElement('tr');
    const name = element('th', null);
    name.scope = 'row';
    name.append(element('span', null, 'swatch swatch-' + key), label);
    row.append(name, element('td', number(last[key]), 'num'));
    row.append(element('td', percent(lastShares[key]), 'num'));
    const change = (lastShares[key] === null || startShares[key] === null) ? null
      : lastShares[key] - startShares[key];
    const cell = element('td', change === null ? '–' : points(change), 'num');
    if (change !== null) cell.classList.add(change > 0.0005 ? 'up' : change < -0.0005 ? 'down' : 'flat');
    row.append(cell);
    return row;
  }));
}

function shares(row) {
  const total = DEVICES.reduce((sum, [key]) => sum + (Number(row[key]) || 0), 0);
  const result = {};
  for (const [key] of DEVICES) {
    result[key] = (row[key] === null || row[key] === undefined || total === 0) ? null
      : Number(row[key]) / total;
  }
  return result;
}

function number(value) {
  return value === null || value === undefined ? '–' : BigInt(value).toLocaleString('en-US');
}

function percent(share) {
  return share === null ? '–' : (share * 100).toFixed(1) + ' %';
}

// Percentage points, signed; a change that rounds to nothing is written 0.0.
function points(change) {
  if (Math.abs(change) < 0.0005) return '0.0 pt';
  return (change > 0 ? '+' : '') + (change * 100).toFixed(1) + ' pt';
}

// --- The rows, newest first, a page at a time ----------------------------------------

async function showPage(mine) {
  const page = await (await api(pages[pages.length - 1], ROWS_JSON)).json();
  if (mine !== loadNumber) return 0;
  const body = $('rows').querySelector('tbody');
  if (page.value.length === 0) {
    body.replaceChildren(emptyRow(10, 'No rows in this selection.'));
  } else {
    body.replaceChildren(...page.value.map((row) => {
      const tr = document.createElement('tr');
      tr.append(element('td', row.reportRefreshDate));
      for (const [key] of DEVICES) tr.append(element('td', number(row[key]), 'num'));
      tr.append(element('td', row.reportPeriod, 'num'));
      return tr;
    }));
  }
  const next = page['@odata.nextLink'];
  $('older').disabled = !next;
  $('older').dataset.next = next || '';
  $('newer').disabled = pages.length < 2;
  if (page['@odata.count'] !== undefined) $('rows').dataset.count = page['@odata.count'];
  const total = Number($('rows').dataset.count || 0);
  const first = (pages.length - 1) * PAGE_SIZE + 1;
  $('page-info').textContent = page.value.length
    ? first + '–' + (first + page.value.length - 1) + ' of ' + total : '';
  return total;
}

function emptyRow(columns, text) {
  const row = document.createElement('tr');
  const cell = element('td', text, 'empty');
  cell.colSpan = columns;
  row.append(cell);
  return row;
}

async function turnPage(forward) {
  if (forward) {
    const next = $('older').dataset.next;
    if (!next) return;
    pages.push(next);
  } else if (pages.length > 1) {
    pages.pop();
  }
  try {
    await showPage(loadNumber);
  } catch (failure) {
    fail(failure);
  }
}

// --- The collector: when it runs, when it last succeeded ---------------------------

async function showCollector(mine) {
  const box = $('collector');
  let status;
  try {
    status = await (await api(BASE + '/collection/status')).json();
  } catch (failure) {
    if (failure.status === 401) throw failure;
    if (mine === loadNumber) box.replaceChildren(element('p', 'The collector status is unavailable right now.', 'muted'));
    return;
  }
  if (mine !== loadNumber) return;
  const sources = status.value || [];
  if (sources.length === 0) {
    box.replaceChildren(element('p', status.collectEverySeconds
      ? 'The collector runs every ' + every(status.collectEverySeconds) + ' but has stored nothing for this tenant yet.'
      : 'Collector not configured: rows arrive only when something pushes them.', 'muted'));
    return;
  }
  const parts = [];
  if (status.collectEverySeconds) parts.push(element('p', 'Runs every ' + every(status.collectEverySeconds) + '.', 'muted'));
  const list = element('dl', null, 'collector');
  for (const source of sources) {
    list.append(element('dt', source.source + ' · ' + source.reportPeriod + ' days'));
    list.append(element('dd', 'Last success: ' + when(source.lastSuccessAt)));
    list.append(element('dd', 'Last run: ' + when(source.lastRunFinishedAt)));
    if (source.error) {
      list.append(element('dd', 'Last error: ' + source.error, 'error'));
      list.append(element('dd', 'Failed runs since the last success: ' + source.failuresSinceSuccess, 'error'));
    }
  }
  parts.push(list);
  box.replaceChildren(...parts);
}

function every(seconds) {
  if (seconds % 86400 === 0) return seconds / 86400 + ' d';
  if (seconds % 3600 === 0) return seconds / 3600 + ' h';
  if (seconds % 60 === 0) return seconds / 60 + ' min';
  return seconds + ' s';
}

function when(timestamp) {
  if (!timestamp) return 'never';
  const date = new Date(timestamp);
  // The dates the rest of the page shows, in UTC as the report dates are.
  return isNaN(date) ? String(timestamp) : date.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

// --- CSV of the same selection: the collection as Graph's CSV, saved as a Blob ---------

async function downloadCsv() {
  const sel = selection();
  const button = $('download');
  button.disabled = true;
  setStatus('Preparing the CSV…', 'loading');
  try {
    // The service streams the file (BOM, Graph's beta column names); the token
    // travels in the header, never in a URL, so the file comes through fetch.
    const url = COLLECTION + '?$filter=' + encodeURIComponent(filterOf(sel)) +
      '&$orderby=' + encodeURIComponent('reportRefreshDate desc') + '&$format=text/csv';
    const blob = await (await api(url, 'text/csv')).blob();
    const rows = (await blob.text()).split('\r\n').filter((line) => line !== '').length - 1;
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = csvName(sel);
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    setStatus('Saved ' + rows + ' rows as ' + link.download + '.', 'ok');
  } catch (failure) {
    fail(failure);
  } finally {
    button.disabled = false;
  }
}

// teams-device-usage-TENANT-PERIOD-DAY.csv (today, UTC), or with the range
// in place of the day: -from-FROM-to-TO.
function csvName(sel) {
  const tenant = (session && session.tenant ? session.tenant.id
    : session ? session.tokenTenant : 'tenant').replace(/[^A-Za-z0-9._-]/g, '_');
  const range = (sel.from ? '-from-' + sel.from : '') + (sel.to ? '-to-' + sel.to : '');
  return 'teams-device-usage-' + tenant + '-' + sel.period +
    (range || '-' + new Date().toISOString().slice(0, 10)) + '.csv';
}

// --- Signing in and out --------------------------------------------------------------

function showSignedIn(signedIn) {
  $('sign-in').hidden = signedIn;
  $('dashboard').hidden = !signedIn;
  $('sign-out').hidden = !signedIn;
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  loadNumber++;
  $('chart').replaceChildren();
  $('rollup-chart').replaceChildren();
  for (const id of ['rows', 'shares', 'comparison', 'rollup-comparison', 'tenants', 'tenant-shares']) {
    $(id).querySelector('tbody').replaceChildren();
  }
  for (const id of ['comparison', 'rollup-comparison']) $(id).querySelector('thead').replaceChildren();
  session = null;
  chosenTenant = '';
  pickerFilled = false;
  $('tenant-picker-label').hidden = true;
  $('who').hidden = true;
  $('stale-warning').hidden = true;
  $('all-view').hidden = true;
  $('tenant-view').hidden = false;
  $('collector').replaceChildren();
  setStatus('', 'ok');
  showSignedIn(false);
  const error = $('sign-in-error');
  error.textContent = reason || '';
  error.hidden = !reason;
  $('token').value = '';
  $('token').focus();
}

function start() {
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('token').value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $('token').value = '';
    $('sign-in-error').hidden = true;
    showSignedIn(true);
    load();
  });
  $('sign-out').addEventListener('click', () => signOut());
  $('controls').addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  $('period').addEventListener('change', load);
  $('tenant-picker').addEventListener('change', () => {
    chosenTenant = $('tenant-picker').value;
    load();
  });
  $('older').addEventListener('click', () => turnPage(true));
  $('newer').addEventListener('click', () => turnPage(false));
  $('download').addEventListener('click', downloadCsv);
  if (token()) {
    showSignedIn(true);
    load();
  } else {
    showSignedIn(false);
    $('token').focus();
  }
}

start();
