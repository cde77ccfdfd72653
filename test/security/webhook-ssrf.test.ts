import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { runJobsUntilIdle } from '../../src/jobs/runner.ts';
import { isPrivateAddress } from '../../src/services/webhook-http.ts';
import { buildTestApp, call, type TestApp } from '../support/app.ts';
import { closeAfterConcurrency, makeDepartment, makeOrg, startWaitingChat } from '../support/factories.ts';

/**
 * An org admin points webhooks at the server's own network: with WEBHOOK_ALLOW_PRIVATE unset
 * (the default) nothing is sent there, whatever the URL spells (an IP, a name that resolves to
 * loopback, IPv6, an IPv4-mapped address), and the delivery records why.
 */
let t: TestApp;
let server: Server;
let hits = 0;
let port = 0;
before(async () => {
  t = await buildTestApp({ WEBHOOK_ALLOW_PRIVATE: 'false', WEBHOOK_TIMEOUT_MS: '1000' });
  server = createServer((_req, res) => {
    hits++;
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await closeAfterConcurrency(t);
});

test('private, loopback, link-local and reserved addresses are recognized', () => {
  for (const a of [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'not-an-address',
  ])
    assert.equal(isPrivateAddress(a), true, a);
  for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
    assert.equal(isPrivateAddress(a), false, a);
});

test('a webhook to the server’s own network is never sent, and the delivery says why', async () => {
  const o = await makeOrg(t.ctx);
  const urls = [
    `http://127.0.0.1:${port}/hook`,
    `http://localhost:${port}/hook`,
    `http://[::1]:${port}/hook`,
    `http://[::ffff:127.0.0.1]:${port}/hook`,
    `http://2130706433:${port}/hook`, // 127.0.0.1 as one number
  ];
  const hooks: string[] = [];
  for (const url of urls) {
    const res = await call(t.app, o.owner.token, 'POST', '/v1/webhooks', {
      url,
      events: ['support.waiting'],
    });
    assert.equal(res.status, 201, `${url}: ${res.raw}`);
    hooks.push(res.body.id);
  }
  const dept = await makeDepartment(t.ctx, o, 'Sales');
  const visitor = await o.visitor();
  await startWaitingChat(t.ctx, o, visitor.actor, dept);
  await runJobsUntilIdle(t.ctx);

  assert.equal(hits, 0, 'the receiver on 127.0.0.1 got nothing');
  for (const [i, id] of hooks.entries()) {
    const list = await call(t.app, o.owner.token, 'GET', `/v1/webhooks/${id}/deliveries`);
    const d = list.body.items[0];
    assert.equal(d.attempts, 1, urls[i]);
    assert.equal(d.last_status_code, null, urls[i]);
    assert.match(d.last_error, /private or reserved address/, urls[i]);
  }
});
