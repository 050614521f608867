import { DomainError } from '@streamstack/contracts';
import { agentSessionsHandler } from './agent-sessions.handler';

describe('the agent session handler', () => {
  type Handler = { launch(req: unknown): Promise<unknown>; terminate(req: unknown): Promise<unknown> };
  const handlerWith = (failure: DomainError): Handler => {
    const Handler = agentSessionsHandler('r1') as unknown as new (rpc: unknown, config: unknown) => Handler;
    return new Handler({ request: () => Promise.reject(failure) }, { region: 'r1' });
  };

  it("turns its AMS's \"nobody answers\" into unavailable: to the gateway no_responder means the agents are gone", async () => {
    const h = handlerWith(new DomainError('no_responder', 'AMS is not running (ams.instance.launch)'));
    await expect(h.launch({ session_id: 's', app: 'a', screen: { width: 800, height: 600, fps: 30, density: 240 } })).rejects.toMatchObject({
      code: 'unavailable',
      message: 'region r1: AMS is not running (ams.instance.launch)',
    });
    await expect(h.terminate({ instance_id: 'i' })).rejects.toMatchObject({ code: 'unavailable' });
  });

  it("passes AMS's other errors on as they are", async () => {
    await expect(handlerWith(new DomainError('not_found', 'application "a" not found')).launch({ session_id: 's', app: 'a', screen: {} })).rejects.toMatchObject({
      code: 'not_found',
      message: 'application "a" not found',
    });
  });
});
