import { DomainError } from '@streamstack/contracts';
import { Clock } from '../../common/clock';
import { StatusRegistry } from '../../common/status/status-registry';
import { AgentsService } from './agents.service';

describe('AgentsService.pick', () => {
  const cap = (cpus: number) => ({ cpus, memory: 2 ** 30, instances: 1 });
  const agents = () => new AgentsService(new Clock(), new StatusRegistry());

  it('skips an agent whose AMS does not answer, and says so when no region can launch', () => {
    const a = agents();
    // r1's figures say it has the most room; its AMS does not answer, so it cannot launch.
    a.register({ agent_id: 'r1-a', region: 'r1', capacity: cap(16), load: cap(0), ams_error: 'AMS is not running' });
    a.register({ agent_id: 'r2-a', region: 'r2', capacity: cap(4), load: cap(1) });
    expect(a.pick('').agent_id).toBe('r2-a');
    let err: unknown;
    try {
      a.pick('r1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'unavailable', message: expect.stringContaining('r1: AMS is not running') });
  });

  it('with no agent at all still says that none has registered', () => {
    expect(() => agents().pick('')).toThrow(/no agent has registered/);
  });

  it('takes tied agents in turn (two agents in front of one AMS report the same), and forgets a dead region', () => {
    const a = agents();
    a.register({ agent_id: 'r1-a', region: 'r1', capacity: cap(4), load: cap(1) });
    a.register({ agent_id: 'r2-a', region: 'r2', capacity: cap(4), load: cap(1) });
    expect([a.pick(''), a.pick(''), a.pick(''), a.pick('')].map((x) => x.region)).toEqual(['r1', 'r2', 'r1', 'r2']);
    a.forgetRegion('r2');
    expect(a.regions()).toEqual(['r1']);
    expect([a.pick(''), a.pick('')].map((x) => x.region)).toEqual(['r1', 'r1']);
  });
});
