'use strict';

/*
 * The step runner shared by the Node SDK scenarios in this folder.
 *
 * A scenario registers its steps with step(), reads and writes `state`, and ends with run().
 * run() prints one line per step. After the last step it prints `N passed, 0 failed` and exits
 * 0. On the first failing step it prints the step, the error and `N passed, 1 failed`, then
 * exits 1. It exits 2 when the environment is incomplete or the SDK is not installed.
 *
 * Environment: VINCULO_URL (such as http://127.0.0.1:8000), VINCULO_SECRET_ID and
 * VINCULO_SECRET_PASSWORD (a sandbox API key of that server).
 *
 * The server may be shared with other tests, so a scenario adds the id of every link it
 * registers to `state.createdLinkIds`, and run() deletes those links at the end, also after a
 * failure.
 */

const assert = require('node:assert/strict');

const REQUIRED_ENVIRONMENT = ['VINCULO_URL', 'VINCULO_SECRET_ID', 'VINCULO_SECRET_PASSWORD'];

const SESSION_PATTERN = /^[0-9a-f]{32}$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const runId = `${Date.now()}_${process.pid}`;

/** State that later steps read from earlier ones. Scenarios add their own keys. */
const state = {
  // The SDK's Client class, loaded by run().
  Client: null,
  client: null,
  // Ids of links that this run registered and has not deleted yet.
  createdLinkIds: new Set(),
};

const steps = [];

function step(name, run) {
  steps.push({ name, run });
}

/** Create a client with the environment's key, connect it and store it in `state.client`. */
async function connect() {
  const client = new state.Client(
    process.env.VINCULO_SECRET_ID,
    process.env.VINCULO_SECRET_PASSWORD,
    process.env.VINCULO_URL,
  );
  await client.connect();
  state.client = client;
  return client;
}

/** Return the single error object of Belvo's error body, a list with one object. */
function singleError(detail) {
  assert.ok(Array.isArray(detail), `expected a list as error body, got ${JSON.stringify(detail)}`);
  assert.equal(detail.length, 1, `expected one error, got ${JSON.stringify(detail)}`);
  return detail[0];
}

/**
 * Await `promise`, which must reject with the SDK's RequestError, and return that error.
 */
async function expectRequestError(promise) {
  let rejection = null;
  try {
    const value = await promise;
    assert.fail(`expected a RequestError, but the call resolved with ${JSON.stringify(value)}`);
  } catch (error) {
    if (error instanceof assert.AssertionError) {
      throw error;
    }
    rejection = error;
  }
  assert.equal(
    rejection.constructor.name,
    'RequestError',
    `expected a RequestError, got ${rejection.stack}`,
  );
  return rejection;
}

function describeError(error) {
  if (error && error.statusCode !== undefined) {
    return `RequestError: HTTP ${error.statusCode}, body ${JSON.stringify(error.detail)}`;
  }
  return error && error.stack ? error.stack : String(error);
}

/** Run the steps in order and stop at the first failure. Return the count that passed. */
async function runSteps() {
  let passed = 0;
  for (const { name, run } of steps) {
    try {
      await run();
    } catch (error) {
      console.log(`FAIL ${name}`);
      console.log(describeError(error));
      return passed;
    }
    passed += 1;
    console.log(`ok ${passed} ${name}`);
  }
  return passed;
}

/** Delete the links that this run registered and did not delete. */
async function deleteCreatedLinks() {
  if (state.client === null) {
    return;
  }
  for (const id of state.createdLinkIds) {
    let deleted = false;
    try {
      deleted = await state.client.links.delete(id);
    } catch (error) {
      console.log(`cleanup: deleting link ${id} failed: ${describeError(error)}`);
      continue;
    }
    if (deleted) {
      console.log(`cleanup: deleted link ${id}`);
    } else {
      console.log(`cleanup: deleting link ${id} failed: the SDK's delete() returned false`);
    }
  }
}

async function main() {
  const missing = REQUIRED_ENVIRONMENT.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    console.log(
      `Missing environment variables: ${missing.join(', ')}. `
        + 'Set them to the URL and the sandbox API key of a running `vinculo serve`.',
    );
    return 2;
  }

  let sdkVersion;
  try {
    state.Client = require('belvo').default;
    sdkVersion = require('belvo/package.json').version;
  } catch (error) {
    console.log(`Loading the belvo package failed: ${error.message}`);
    console.log('Install it with `npm ci` in tests/e2e/js.');
    return 2;
  }

  console.log(`belvo ${sdkVersion} against ${process.env.VINCULO_URL}, run ${runId}`);
  const passed = await runSteps();
  await deleteCreatedLinks();

  const failed = passed === steps.length ? 0 : 1;
  console.log(`${passed} passed, ${failed} failed`);
  return failed;
}

/** Run the registered steps, clean up, and set the process's exit code. */
function run() {
  main().then(
    (exitCode) => {
      process.exitCode = exitCode;
    },
    (error) => {
      console.log(`scenario crashed: ${describeError(error)}`);
      process.exitCode = 1;
    },
  );
}

module.exports = {
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
};
