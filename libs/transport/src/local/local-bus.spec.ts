import type { WritePacket } from '@nestjs/microservices';
import { LocalBus, LocalEndpoint, LocalRoute } from './local-bus';

class FakeEndpoint implements LocalEndpoint {
  readonly requests: { pattern: string; subject: string; data: unknown }[] = [];
  readonly events: { pattern: string; subject: string; data: unknown }[] = [];
  constructor(private readonly table: LocalRoute[]) {}
  routes() {
    return this.table;
  }
  deliverRequest(pattern: string, subject: string, data: unknown, respond: (p: WritePacket) => void) {
    this.requests.push({ pattern, subject, data });
    respond({ response: pattern, isDisposed: true });
  }
  async deliverEvent(pattern: string, subject: string, data: unknown) {
    this.events.push({ pattern, subject, data });
  }
}

const tick = () => new Promise((r) => setImmediate(r));

describe('LocalBus', () => {
  it('routes a request to exactly one handler, exact pattern first, and asynchronously', async () => {
    const bus = new LocalBus();
    const wild = new FakeEndpoint([{ pattern: 'node.*.instance.start', isEvent: false }]);
    const exact = new FakeEndpoint([{ pattern: 'node.n1.instance.start', isEvent: false }]);
    bus.attach(wild);
    bus.attach(exact);
    const answers: unknown[] = [];
    expect(bus.request('node.n1.instance.start', { a: 1 }, (p) => answers.push(p.response))).toBe(true);
    expect(answers).toEqual([]); // never synchronous
    await tick();
    expect(answers).toEqual(['node.n1.instance.start']);
    expect(wild.requests).toEqual([]);

    expect(bus.request('node.n2.instance.start', {}, (p) => answers.push(p.response))).toBe(true);
    await tick();
    expect(answers[1]).toBe('node.*.instance.start');
    expect(wild.requests).toEqual([{ pattern: 'node.*.instance.start', subject: 'node.n2.instance.start', data: {} }]);
  });

  it('delivers after the sender, ahead of the immediates already queued', async () => {
    const bus = new LocalBus();
    const ep = new FakeEndpoint([
      { pattern: 'signal.*.to-instance', isEvent: true },
      { pattern: 'node.n1.instance.start', isEvent: false },
    ]);
    bus.attach(ep);
    const delivered = () => ep.events.length + ep.requests.length;
    let seenByImmediate = -1;
    setImmediate(() => (seenByImmediate = delivered()));
    bus.publish('signal.s1.to-instance', {});
    bus.request('node.n1.instance.start', {}, () => undefined);
    expect(delivered()).toBe(0);
    await tick();
    expect(seenByImmediate).toBe(2);
  });

  it('finds no responder for events-only, unknown or detached patterns', () => {
    const bus = new LocalBus();
    const ep = new FakeEndpoint([
      { pattern: 'ams.instance.status', isEvent: true },
      { pattern: 'ams.instance.launch', isEvent: false },
    ]);
    bus.attach(ep);
    expect(bus.hasResponder('ams.instance.status')).toBe(false);
    expect(bus.hasResponder('ams.instance.nope')).toBe(false);
    expect(bus.request('ams.instance.nope', {}, () => undefined)).toBe(false);
    expect(bus.hasResponder('ams.instance.launch')).toBe(true);
    bus.detach(ep);
    expect(bus.hasResponder('ams.instance.launch')).toBe(false);
  });

  it('delivers an event to every matching event handler (`*`, `>`, exact), and not to request handlers', async () => {
    const bus = new LocalBus();
    const a = new FakeEndpoint([
      { pattern: 'signal.*.to-instance', isEvent: true },
      { pattern: 'signal.s1.to-instance', isEvent: false },
    ]);
    const b = new FakeEndpoint([
      { pattern: 'signal.>', isEvent: true },
      { pattern: 'signal.s1.to-instance', isEvent: true },
      { pattern: 'signal.*.to-client', isEvent: true },
    ]);
    bus.attach(a);
    bus.attach(b);
    expect(bus.publish('signal.s1.to-instance', { sdp: 'x' })).toBe(3);
    expect(a.events).toEqual([]); // asynchronous
    await tick();
    expect(a.events.map((e) => e.pattern)).toEqual(['signal.*.to-instance']);
    expect(b.events.map((e) => e.pattern)).toEqual(['signal.>', 'signal.s1.to-instance']);
    expect(b.events.every((e) => e.subject === 'signal.s1.to-instance')).toBe(true);
    expect(bus.publish('nobody.listens', {})).toBe(0);
  });
});
