// Log lines say which process wrote them: pid, host, and an agent's name as its instance.
import { hostname } from 'node:os';

import { describe, expect, it } from 'vitest';

import { logger } from '../../lib/util/log.js';

describe('logs', () => {
  it('carry the pid, the host and the instance on every line, children included', () => {
    const lines: string[] = [];
    const log = logger('agent', (l) => lines.push(l), 'server3');
    log.warn('policy refused', { epoch: 4 });
    log.child('channel').info('rejected', { path: '/v1/policy' });
    logger('control', (l) => lines.push(l)).info('up');
    const [a, b, c] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(a).toMatchObject({
      level: 'warn',
      component: 'agent',
      msg: 'policy refused',
      pid: process.pid,
      host: hostname(),
      instance: 'server3',
      epoch: 4,
    });
    expect(b).toMatchObject({ component: 'agent.channel', instance: 'server3', pid: process.pid });
    expect(c).toMatchObject({ component: 'control', pid: process.pid, host: hostname() });
    expect(c).not.toHaveProperty('instance');
  });
});
