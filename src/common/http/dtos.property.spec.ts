import type { Type } from '@nestjs/common';
import {
  ClientStateEventDto,
  DomainError,
  InstanceSessionDto,
  InstanceStatusEventDto,
  RegionInstanceSessionDto,
  SessionChangedDto,
  SessionLaunchDto,
} from '@streamstack/contracts';
import { RpcValidationPipe } from '@streamstack/transport';
import fc from 'fast-check';
import { FUZZ_SEED, fuzzParams, hostileBody, mutationsOf, queryValue } from '../../../test/support/hostile';
import { TerminateSessionDto } from '../../agent/agent-sessions.handler';
import { validateManifest } from '../../ams/applications/manifest.dto';
import { PublishVersionDto } from '../../ams/applications/publish-version.dto';
import {
  DeleteInstanceQuery,
  InstanceRefDto,
  LaunchInstanceDto,
  ListInstancesQuery,
  SessionInstanceLaunchDto,
  UpdateInstanceDto,
} from '../../ams/instances/launch-instance.dto';
import { WaitQuery } from '../../ams/operations/operations.controller';
import { NodeRegistrationDto, NodeReportDto } from '../../ams/nodes/node-registration.dto';
import { UpdateNodeDto } from '../../ams/nodes/nodes.controller';
import { CreateAccountDto, VerifyTokenDto } from '../../gateway/accounts/create-account.dto';
import { AgentRegistrationDto } from '../../gateway/regions/agent-registration.dto';
import { CreateSessionDto, DeleteSessionQuery, DeleteSessionsDto, JoinSessionDto, ListSessionsQuery } from '../../gateway/sessions/session.dto';
import { NodeInstanceStartDto } from '../../node/node-instance-start.dto';
import { NodeInstanceRefDto } from '../../node/node-instances.handler';
import { validationPipe } from './validation';

/*
 * Property tests of every DTO at every edge (HTTP bodies and queries, RPC payloads, manifests):
 * whatever arrives, validation either hands over an instance of the class that validates
 * again, or refuses with `invalid_argument` naming what is wrong. Anything else (a TypeError
 * from class-transformer, a 500) is the defect these look for.
 */

const screen = { width: 1280, height: 720, fps: 30, density: 240 };
const sessionId = 'b1c2d3e4f5a6b7c8d9e0f1a2';

/** A valid sample of each DTO, the seed of its mutations. */
const BODIES: Array<[Type<unknown>, unknown]> = [
  [CreateSessionDto, { app: 'test-pattern', app_version: 1, region: 'local', ephemeral: true, joinable: true, idle_time_min: 5, screen, extra_data: { a: [1] } }],
  [JoinSessionDto, { screen }],
  [DeleteSessionsDto, { ids: [sessionId, 'x'] }],
  [CreateAccountDto, { name: 'web-frontend', role: 'client' }],
  [PublishVersionDto, { published: true }],
  [LaunchInstanceDto, { app: 'test-pattern', app_version: 2, node: 'n1', enable_streaming: true, screen, user_data: 'x', no_start: false }],
  [UpdateInstanceDto, { desired_status: 'stopped' }],
  [UpdateNodeDto, { unschedulable: true }],
];

const RPC_PAYLOADS: Array<[Type<unknown>, unknown]> = [
  [SessionLaunchDto, { session_id: sessionId, app: 'test-pattern', app_version: 1, screen, extra_data: null }],
  [InstanceSessionDto, { instance_id: 'i1', app: 'test-pattern', app_version: 1, node: null, screen }],
  [RegionInstanceSessionDto, { instance_id: 'i1', app: 'test-pattern', app_version: 1, node: 'n1', screen, region: 'r1' }],
  [ClientStateEventDto, { session_id: sessionId, generation: 3, state: 'failed', reason: 'ice' }],
  [SessionChangedDto, { session_id: sessionId, change: 'replaced', generation: 2 }],
  [InstanceStatusEventDto, { id: 'i1', app: 'a', node: 'n1', status: 'running', status_message: '', session_id: null, timestamp: '2026-11-30T10:00:00.000Z' }],
  [SessionInstanceLaunchDto, { app: 'test-pattern', session_id: sessionId, screen }],
  [InstanceRefDto, { id: 'i1', force: true }],
  [NodeRegistrationDto, { name: 'n1', address: '127.0.0.1', cpus: 2, memory: 1024, instances: ['i1'] }],
  [NodeReportDto, { node: 'n1', instance_id: 'i1', status: 'error', reason: 'exit 1' }],
  [NodeInstanceStartDto, {
    instance_id: 'i1',
    app: 'a',
    app_version: 1,
    kind: 'x11',
    command: 'xterm',
    display: { width: 1280, height: 720, fps: 30 },
    encoder: { codec: 'h264', bitrate_kbps: 3000, gop: 60, min_bitrate_kbps: 1000, max_bitrate_kbps: 3000, degradation: 'framerate-first' },
    app_dir: '/tmp/a',
    user_data: {},
    session_id: sessionId,
  }],
  [NodeInstanceRefDto, { instance_id: 'i1' }],
  [AgentRegistrationDto, { agent_id: 'ag', region: 'r1', capacity: { cpus: 2, memory: 1, instances: 3 }, load: { cpus: 0, memory: 0, instances: 0 }, ams_error: 'x' }],
  [VerifyTokenDto, { token_hash: 'a'.repeat(64) }],
  [TerminateSessionDto, { instance_id: 'i1' }],
];

const QUERIES: Array<[Type<unknown>, Record<string, string>]> = [
  [ListSessionsQuery, { status: 'active', limit: '10', offset: '0', sort_by: 'app', sort_order: 'desc' }],
  [DeleteSessionQuery, { force: 'true' }],
  [DeleteInstanceQuery, { force: '1' }],
  [ListInstancesQuery, { app: 'a', status: 'running' }],
  [WaitQuery, { timeout: '5' }],
];

/** Validation's one allowed failure: `invalid_argument` with a message. */
function expectRefusal(error: unknown): void {
  if (!(error instanceof DomainError) || error.code !== 'invalid_argument' || !error.message) throw error;
}

async function validatesOrRefuses(pipe: RpcValidationPipe, metatype: Type<unknown>, value: unknown, type: 'body' | 'query'): Promise<void> {
  let out: unknown;
  try {
    out = await pipe.transform(value, { type, metatype });
  } catch (error) {
    expectRefusal(error);
    return;
  }
  expect(out).toBeInstanceOf(metatype);
  // What was let through validates again as it stands (nothing half-converted slipped by).
  await pipe.transform(structuredClone(out), { type: 'body', metatype });
}

describe(`DTO properties (seed ${FUZZ_SEED})`, () => {
  const http = validationPipe();
  const rpc = new RpcValidationPipe();
  // The RPC pipe logs each refusal: not here.
  beforeAll(() => jest.spyOn((RpcValidationPipe as unknown as { logger: { warn: () => void } }).logger, 'warn').mockImplementation(() => undefined));

  it.each(BODIES.map(([dto, valid]) => [dto.name, dto, valid] as const))('HTTP body %s: an instance or invalid_argument, whatever arrives', async (_name, dto, valid) => {
    await http.transform(valid, { type: 'body', metatype: dto });
    await fc.assert(fc.asyncProperty(hostileBody(valid), (body) => validatesOrRefuses(http, dto, body, 'body')), fuzzParams(300));
  });

  it.each(RPC_PAYLOADS.map(([dto, valid]) => [dto.name, dto, valid] as const))('RPC payload %s: an instance or invalid_argument', async (_name, dto, valid) => {
    await rpc.transform(valid, { type: 'body', metatype: dto });
    await fc.assert(fc.asyncProperty(hostileBody(valid), (body) => validatesOrRefuses(rpc, dto, body, 'body')), fuzzParams(200));
  });

  it.each(QUERIES.map(([dto, valid]) => [dto.name, dto, valid] as const))('query %s: an instance or invalid_argument, whatever the query string holds', async (_name, dto, valid) => {
    await http.transform(valid, { type: 'query', metatype: dto });
    const query = fc.oneof(mutationsOf(valid, queryValue), fc.dictionary(fc.constantFrom(...Object.keys(valid), 'x', '__proto__'), queryValue));
    await fc.assert(fc.asyncProperty(query, (q) => validatesOrRefuses(http, dto, q, 'query')), fuzzParams(300));
  });

  it('manifest: validateManifest gives a manifest or invalid_argument', async () => {
    const valid = {
      name: 'game',
      version: 2,
      kind: 'x11',
      command: 'xterm',
      display: { width: 1280, height: 720, fps: 30 },
      resources: { cpus: 2, memory: '1GiB' },
      encoder: { codec: 'h264', bitrate_kbps: 3000, min_bitrate_kbps: 1000, max_bitrate_kbps: 3000, gop: 60, degradation: 'resolution-first' },
    };
    await validateManifest(valid);
    await fc.assert(
      fc.asyncProperty(hostileBody(valid), async (raw) => {
        try {
          const manifest = await validateManifest(raw);
          expect(manifest.name).toMatch(/^[a-z0-9]/);
        } catch (error) {
          expectRefusal(error);
        }
      }),
      fuzzParams(500),
    );
  });
});
