'use strict';

/*
 * Drive the unmodified Belvo Node SDK (npm package `belvo`, version pinned in package.json)
 * through accounts, transactions, balances and owners against a running `vinculo serve`.
 * harness.js describes the environment, the output and the exit codes.
 *
 * The data user gets a new username on every run. `mfa_data` is a reserved sandbox username
 * whose data requests fail with 428 without a token. A username can be linked only once per
 * institution, so this scenario links `mfa_data` on BANK, where the Python e2e tests do not,
 * and deletes that link at the end.
 */

const assert = require('node:assert/strict');

const {
  SESSION_PATTERN,
  connect,
  describeError,
  expectRequestError,
  run,
  runId,
  singleError,
  state,
  step,
} = require('./harness');

const BANK = 'gringotts_br_retail';
const SANDBOX_TOKEN = '123456';
// Users other than the reserved sandbox usernames have a checking, a savings and a card account.
const ACCOUNT_CATEGORIES = ['CHECKING_ACCOUNT', 'CREDIT_CARD', 'SAVINGS_ACCOUNT'];
const HISTORY_DAYS = 182;
const SHORT_RANGE_DAYS = 30;
// Small enough that the transactions of HISTORY_DAYS span several pages.
const PAGE_SIZE = 25;
// The maximum number of items that a list() reads, across pages. Each listing step checks
// that fewer came back, so that no item was cut off.
const LIST_LIMIT = 1000;

state.link = null;
state.accounts = null;
state.transactions = null;
state.mfaLink = null;

/** Return the date `days` after the UTC date `isoDate` (negative goes back), as YYYY-MM-DD. */
function addDays(isoDate, days) {
  const moved = new Date(`${isoDate}T00:00:00Z`);
  moved.setUTCDate(moved.getUTCDate() + days);
  return moved.toISOString().slice(0, 10);
}

// The sandbox generates data as of the server's UTC date.
const today = new Date().toISOString().slice(0, 10);
const historyStart = addDays(today, -HISTORY_DAYS);
const shortStart = addDays(today, -SHORT_RANGE_DAYS);

function ids(items) {
  return items.map((item) => item.id);
}

function sortedIds(items) {
  return ids(items).sort();
}

function accountOf(category) {
  const account = state.accounts.find((item) => item.category === category);
  assert.ok(account, `no ${category} among ${JSON.stringify(state.accounts)}`);
  return account;
}

/** Read every page of `resource.list()` with `filters`, checking that LIST_LIMIT cut nothing. */
async function listAll(resource, filters) {
  const items = await resource.list({ filters, limit: LIST_LIMIT });
  assert.ok(items.length < LIST_LIMIT, `${items.length} items: LIST_LIMIT may hide some`);
  return items;
}

/**
 * Register `username` on BANK as a single link, remember it for cleanup and return its id.
 * A recurrent link would store a year of data in its background historical update, and the
 * steps compare what is listed with what they retrieved themselves.
 */
async function register(username) {
  const link = await state.client.links.register(BANK, username, 'pass_valid', {
    accessMode: 'single',
  });
  state.createdLinkIds.add(link.id);
  assert.equal(link.status, 'valid');
  return link.id;
}

/** Check a 428 `token_required` rejection for `link` and return its session. */
function challengeSession(error, link) {
  assert.equal(error.statusCode, 428, describeError(error));
  const challenge = singleError(error.detail);
  assert.equal(challenge.code, 'token_required');
  assert.equal(challenge.link, link);
  assert.match(challenge.session, SESSION_PATTERN);
  return challenge.session;
}

step('connect() with the sandbox key resolves', async () => {
  const client = await connect();

  assert.equal(typeof client.accounts.retrieve, 'function');
});

// Accounts ------------------------------------------------------------------------------

step(`accounts.retrieve() returns the accounts of a new link on ${BANK}`, async () => {
  state.link = await register(`js_data_${runId}`);

  const accounts = await state.client.accounts.retrieve(state.link);

  assert.ok(Array.isArray(accounts), JSON.stringify(accounts));
  assert.deepEqual(accounts.map((account) => account.category).sort(), ACCOUNT_CATEGORIES);
  for (const account of accounts) {
    assert.equal(account.link, state.link);
    assert.equal(account.currency, 'BRL');
  }
  state.accounts = accounts;
});

step('accounts.list() filters by link and category', async () => {
  const listed = await listAll(state.client.accounts, {
    link: state.link,
    category: 'CHECKING_ACCOUNT',
  });

  assert.deepEqual(ids(listed), [accountOf('CHECKING_ACCOUNT').id]);
});

step('accounts.detail() returns the retrieved account', async () => {
  const account = accountOf('SAVINGS_ACCOUNT');

  assert.deepEqual(await state.client.accounts.detail(account.id), account);
});

// Transactions --------------------------------------------------------------------------

step(`transactions.retrieve() returns ${HISTORY_DAYS} days with the account embedded`, async () => {
  const transactions = await state.client.transactions.retrieve(state.link, historyStart, {
    dateTo: today,
  });

  assert.ok(Array.isArray(transactions), JSON.stringify(transactions));
  assert.ok(transactions.length > 2 * PAGE_SIZE, `only ${transactions.length} transactions`);
  const accountIds = new Set(ids(state.accounts));
  for (const transaction of transactions) {
    assert.ok(transaction.value_date >= historyStart, transaction.value_date);
    assert.ok(transaction.value_date <= today, transaction.value_date);
    assert.ok(transaction.amount > 0, `amount ${transaction.amount}`);
    assert.equal(typeof transaction.account, 'object');
    assert.ok(accountIds.has(transaction.account.id), transaction.account.id);
    assert.equal(transaction.account.link, state.link);
  }
  state.transactions = transactions;
});

step(`transactions.list() with page_size ${PAGE_SIZE} returns every transaction once`, async () => {
  const listed = await listAll(state.client.transactions, {
    link: state.link,
    page_size: PAGE_SIZE,
  });

  assert.deepEqual(sortedIds(listed), sortedIds(state.transactions));
});

step('transactions.list() filters by type and value_date__range', async () => {
  const first = addDays(today, -120);
  const last = addDays(today, -30);
  const expected = state.transactions.filter(
    (item) => item.type === 'INFLOW' && item.value_date >= first && item.value_date <= last,
  );
  assert.ok(expected.length > 0, 'no INFLOW transaction in the range');

  const listed = await listAll(state.client.transactions, {
    link: state.link,
    type: 'INFLOW',
    value_date__range: `${first},${last}`,
    page_size: 5,
  });

  assert.deepEqual(sortedIds(listed), sortedIds(expected));
});

// Balances and owners -------------------------------------------------------------------

step('balances.retrieve() and balances.list() filtered by account agree', async () => {
  const balances = await state.client.balances.retrieve(state.link, shortStart, {
    dateTo: today,
  });
  const savings = accountOf('SAVINGS_ACCOUNT').id;
  const expected = balances.filter((balance) => balance.account.id === savings);
  // One end-of-day balance per day of the range, both ends included.
  assert.equal(expected.length, SHORT_RANGE_DAYS + 1);

  const listed = await listAll(state.client.balances, { link: state.link, account: savings });

  assert.deepEqual(sortedIds(listed), sortedIds(expected));
});

step('owners.retrieve() and owners.list() return the one owner', async () => {
  const owners = await state.client.owners.retrieve(state.link);
  assert.equal(owners.length, 1);
  assert.equal(owners[0].link, state.link);
  assert.equal(owners[0].document_id.document_type, 'CPF');

  const listed = await listAll(state.client.owners, { link: state.link });

  assert.deepEqual(ids(listed), ids(owners));
});

// Deletion ------------------------------------------------------------------------------

step('transactions.delete() removes one transaction', async () => {
  const deleted = state.transactions[0].id;

  assert.equal(await state.client.transactions.delete(deleted), true);

  const error = await expectRequestError(state.client.transactions.detail(deleted));
  assert.equal(error.statusCode, 404);
  assert.equal(singleError(error.detail).code, 'not_found');
  state.transactions = state.transactions.slice(1);
});

step('accounts.delete() removes the account with its transactions', async () => {
  const checking = accountOf('CHECKING_ACCOUNT').id;
  const remaining = state.transactions.filter((item) => item.account.id !== checking);
  assert.ok(
    remaining.length < state.transactions.length,
    'the checking account has no transaction',
  );

  assert.equal(await state.client.accounts.delete(checking), true);

  const listed = await listAll(state.client.transactions, { link: state.link });
  assert.deepEqual(sortedIds(listed), sortedIds(remaining));
});

// MFA on data requests ------------------------------------------------------------------

step('accounts.retrieve() of mfa_data rejects with 428, accounts.resume() answers', async () => {
  state.mfaLink = await register('mfa_data');

  const error = await expectRequestError(state.client.accounts.retrieve(state.mfaLink));
  const session = challengeSession(error, state.mfaLink);
  const accounts = await state.client.accounts.resume(session, SANDBOX_TOKEN, state.mfaLink);

  assert.deepEqual(accounts.map((account) => account.category).sort(), ACCOUNT_CATEGORIES);
  for (const account of accounts) {
    assert.equal(account.link, state.mfaLink);
  }
});

step('transactions.resume() without link returns the requested range', async () => {
  const error = await expectRequestError(
    state.client.transactions.retrieve(state.mfaLink, shortStart, { dateTo: today }),
  );
  const session = challengeSession(error, state.mfaLink);

  const transactions = await state.client.transactions.resume(session, SANDBOX_TOKEN);

  assert.ok(transactions.length > 0, 'no transactions');
  for (const transaction of transactions) {
    assert.equal(transaction.account.link, state.mfaLink);
    assert.ok(transaction.value_date >= shortStart, transaction.value_date);
  }
});

// Errors --------------------------------------------------------------------------------

step('transactions.retrieve() with date_from after date_to rejects with 400', async () => {
  const error = await expectRequestError(
    state.client.transactions.retrieve(state.link, today, { dateTo: addDays(today, -3) }),
  );

  assert.equal(error.statusCode, 400, describeError(error));
  const detail = singleError(error.detail);
  assert.equal(detail.code, 'invalid');
  assert.equal(detail.field, 'date_from');
});

run();
