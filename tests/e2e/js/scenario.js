'use strict';

/*
 * Drive the unmodified Belvo Node SDK (npm package `belvo`, version pinned in package.json)
 * through links and institutions against a running `vinculo serve`. harness.js describes the
 * environment, the output and the exit codes.
 *
 * The server may be shared with other tests, and a sandbox user can have only one link per
 * institution, so the scenario registers a new username on every run and deletes the links
 * it created, also after a failure.
 *
 * NOTE: the SDK is pinned to belvo 0.17.0, the release nearest to 0.16.1 that the npm
 * registry here serves (it has no 0.16.1). The calls below follow 0.17.0's API.
 */

const assert = require('node:assert/strict');

const {
  SESSION_PATTERN,
  UUID_PATTERN,
  connect,
  describeError,
  expectRequestError,
  run,
  runId,
  singleError,
  state,
  step,
} = require('./harness');

const BANK = 'erebor_mx_retail';
// The gotham and heimdall sandbox banks require an MFA token. The Python e2e tests register
// `mfa_default` on the heimdall banks and on gotham_mx_business, and a user can have only one
// link per institution, so this scenario uses gotham_br_business.
const MFA_BANK = 'gotham_br_business';
const MFA_USERNAME = 'mfa_default';
const SANDBOX_TOKEN = '123456';

// The maximum number of links that links.list() reads, across pages. The listing step checks
// that fewer came back, so that no link was cut off.
const LIST_LIMIT = 1000;

state.link = null;
state.challenge = null;

/**
 * Call `connect()` with the console muted.
 *
 * When login fails, the SDK's login() (in belvo 0.17.0) prints the RequestError of its
 * `GET /api/`, stack trace included, with console.log, which would bury the step lines.
 */
async function connectQuietly(client) {
  const consoleLog = console.log;
  console.log = () => {};
  try {
    await client.connect();
  } finally {
    console.log = consoleLog;
  }
}

// Login ---------------------------------------------------------------------------------

step('connect() with the sandbox key resolves', async () => {
  const client = await connect();

  assert.equal(typeof client.links.register, 'function');
});

step('connect() with a wrong password rejects', async () => {
  const client = new state.Client(
    process.env.VINCULO_SECRET_ID,
    `${process.env.VINCULO_SECRET_PASSWORD}-wrong`,
    process.env.VINCULO_URL,
  );

  await assert.rejects(connectQuietly(client), /Login failed/);
  // connect() creates the resource clients only after a successful login.
  assert.equal(client.links, undefined);
});

// Institutions --------------------------------------------------------------------------

step(`institutions.list() contains ${BANK}`, async () => {
  const institutions = await state.client.institutions.list();
  const bank = institutions.find((institution) => institution.name === BANK);

  assert.ok(bank, `${BANK} missing from ${JSON.stringify(institutions.map((i) => i.name))}`);
  assert.equal(bank.id, 1003);
  assert.deepEqual(bank.country_codes, ['MX']);
  assert.equal(new Set(institutions.map((i) => i.name)).size, institutions.length);
});

step('institutions.list() filters by country_code', async () => {
  const institutions = await state.client.institutions.list({ filters: { country_code: 'CO' } });
  const names = institutions.map((institution) => institution.name);

  assert.ok(names.includes('erebor_co_retail'), `erebor_co_retail missing from ${names}`);
  assert.ok(!names.includes(BANK), `${BANK} listed for country CO`);
  for (const institution of institutions) {
    assert.deepEqual(institution.country_codes, ['CO'], institution.name);
  }
});

// Registration, listing and detail ------------------------------------------------------

step(`links.register() on ${BANK} returns a valid link`, async () => {
  const link = await state.client.links.register(BANK, `js_sdk_${runId}`, 'pass_valid', {
    externalId: `js-sdk-${runId}`,
  });
  state.createdLinkIds.add(link.id);
  state.link = link;

  assert.match(link.id, UUID_PATTERN);
  assert.equal(link.institution, BANK);
  assert.equal(link.status, 'valid');
  assert.equal(link.access_mode, 'recurrent');
  assert.equal(link.refresh_rate, '7d');
  assert.equal(link.external_id, `js-sdk-${runId}`);
});

step('links.list() filters by institution', async () => {
  const links = await state.client.links.list({
    filters: { institution: BANK },
    limit: LIST_LIMIT,
  });

  assert.ok(links.length < LIST_LIMIT, `${links.length} links: LIST_LIMIT may hide some`);
  assert.ok(
    links.some((link) => link.id === state.link.id),
    `link ${state.link.id} missing from ${links.length} listed links`,
  );
  for (const link of links) {
    assert.equal(link.institution, BANK, `link ${link.id}`);
  }
});

step('links.list() filters by external_id', async () => {
  const links = await state.client.links.list({
    filters: { external_id: state.link.external_id },
  });

  assert.deepEqual(
    links.map((link) => link.id),
    [state.link.id],
  );
});

step('links.detail() returns the registered link', async () => {
  const link = await state.client.links.detail(state.link.id);

  // A recurrent link's historical update runs in the background right after registration,
  // and it moves last_accessed_at, so that one field may differ.
  const { last_accessed_at: detailAccess, ...detail } = link;
  const { last_accessed_at: registeredAccess, ...registered } = state.link;
  assert.deepEqual(detail, registered);
  assert.ok(detailAccess >= registeredAccess, `${detailAccess} < ${registeredAccess}`);
});

// Credentials, access mode and deletion -------------------------------------------------

step('links.update() with a new password keeps the link valid', async () => {
  const link = await state.client.links.update(state.link.id, { password: 'new_password' });

  assert.equal(link.id, state.link.id);
  assert.equal(link.status, 'valid');
});

step('links.patch() switches the access mode to single', async () => {
  const link = await state.client.links.patch(state.link.id, { accessMode: 'single' });

  assert.equal(link.id, state.link.id);
  assert.equal(link.access_mode, 'single');
  assert.equal(link.refresh_rate, null);

  const stored = await state.client.links.detail(state.link.id);
  assert.equal(stored.access_mode, 'single');
});

step('links.patch() switches the access mode back to recurrent', async () => {
  const link = await state.client.links.patch(state.link.id, { accessMode: 'recurrent' });

  assert.equal(link.id, state.link.id);
  assert.equal(link.access_mode, 'recurrent');
});

step('links.delete() removes the link', async () => {
  const deleted = await state.client.links.delete(state.link.id);
  assert.equal(deleted, true);
  state.createdLinkIds.delete(state.link.id);

  const error = await expectRequestError(state.client.links.detail(state.link.id));
  assert.equal(error.statusCode, 404);
  assert.equal(singleError(error.detail).code, 'not_found');

  // The SDK turns every failed DELETE, here a 404, into `false`.
  assert.equal(await state.client.links.delete(state.link.id), false);
});

// MFA -----------------------------------------------------------------------------------

step(`links.register() of ${MFA_USERNAME} on ${MFA_BANK} rejects with 428`, async () => {
  const error = await expectRequestError(
    state.client.links.register(MFA_BANK, MFA_USERNAME, 'pass_valid'),
  );
  const challenge = error.statusCode === 428 ? singleError(error.detail) : null;
  if (challenge && challenge.link) {
    state.createdLinkIds.add(challenge.link);
  }

  assert.equal(error.statusCode, 428, describeError(error));
  assert.equal(challenge.code, 'token_required');
  assert.match(challenge.session, SESSION_PATTERN);
  assert.match(challenge.link, UUID_PATTERN);
  assert.equal(challenge.token_generation_data.type, 'numeric');
  assert.equal(challenge.token_generation_data.expects_user_input, true);

  const pending = await state.client.links.detail(challenge.link);
  assert.equal(pending.status, 'unconfirmed');
  state.challenge = challenge;
});

step(`links.resume() with token ${SANDBOX_TOKEN} makes the link valid`, async () => {
  const { session, link } = state.challenge;

  const resumed = await state.client.links.resume(session, SANDBOX_TOKEN, link);

  assert.equal(resumed.id, link);
  assert.equal(resumed.status, 'valid');
  assert.equal(resumed.institution, MFA_BANK);
});

// Login errors --------------------------------------------------------------------------

step('links.register() of login_error rejects with 400 login_error', async () => {
  const error = await expectRequestError(
    state.client.links.register(BANK, 'login_error', 'pass_valid'),
  );

  assert.equal(error.statusCode, 400, describeError(error));
  const detail = singleError(error.detail);
  assert.equal(detail.code, 'login_error');
  assert.equal(detail.message, 'Invalid credentials provided to login to the institution');
  assert.match(detail.request_id, SESSION_PATTERN);
});

run();
