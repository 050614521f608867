import { ConfigError, loadConfig } from './config.loader';

describe('loadConfig', () => {
  it('has defaults that work on one machine', () => {
    const c = loadConfig({}, {});
    expect(c.roles).toEqual(['gateway', 'agent', 'ams', 'node']);
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(4000);
    expect(c.publicUrl).toBe('http://127.0.0.1:4000');
    expect(c.dataDir).toBe('./data');
    expect(c.databaseUrl).toBe('');
    expect(c.transport).toBe('local');
    expect(c.natsServers).toEqual(['nats://127.0.0.1:4222']);
    expect(c.adminToken).toBe('');
    expect(c.region).toBe('local');
    expect(c.stunUrls).toEqual([]);
    expect(c.turnTtl).toBe(3600);
    expect(c.logLevel).toBe('info');
    expect(c.warmSpares).toBe(true);
    expect(c.videoEncoder).toBe('auto');
  });

  it('takes a video encoder by name', () => {
    expect(loadConfig({}, { STREAMSTACK_VIDEO_ENCODER: 'h264_vaapi' }).videoEncoder).toBe('h264_vaapi');
    expect(loadConfig({ 'video-encoder': 'libx264' }, { STREAMSTACK_VIDEO_ENCODER: 'h264_nvenc' }).videoEncoder).toBe('libx264');
  });

  it('reads booleans as true or false', () => {
    expect(loadConfig({}, { STREAMSTACK_WARM_SPARES: 'false' }).warmSpares).toBe(false);
    expect(loadConfig({ 'warm-spares': 'true' }, { STREAMSTACK_WARM_SPARES: 'false' }).warmSpares).toBe(true);
  });

  it('lets flags override env vars and env vars override defaults', () => {
    const env = { STREAMSTACK_PORT: '5000', STREAMSTACK_REGION: 'eu', STREAMSTACK_LOG_LEVEL: 'debug' };
    const c = loadConfig({ port: '6000' }, env);
    expect(c.port).toBe(6000);
    expect(c.region).toBe('eu');
    expect(c.logLevel).toBe('debug');
  });

  it('defaults to NATS when only some roles run here', () => {
    expect(loadConfig({ role: 'gateway' }, {}).transport).toBe('nats');
    expect(loadConfig({ role: 'ams,node' }, { STREAMSTACK_TRANSPORT: 'local' }).transport).toBe('local');
  });

  it('parses comma-separated lists', () => {
    const c = loadConfig({}, { STREAMSTACK_STUN_URLS: 'stun:a:3478, stun:b:3478', STREAMSTACK_ROLES: 'gateway,agent' });
    expect(c.stunUrls).toEqual(['stun:a:3478', 'stun:b:3478']);
    expect(c.roles).toEqual(['gateway', 'agent']);
  });

  it.each([
    [{ STREAMSTACK_PORT: 'eighty' }, 'STREAMSTACK_PORT / --port'],
    [{ STREAMSTACK_PORT: '70000' }, 'STREAMSTACK_PORT'],
    [{ STREAMSTACK_ROLES: 'gateway,kitchen' }, 'STREAMSTACK_ROLES / --role'],
    [{ STREAMSTACK_TRANSPORT: 'carrier-pigeon' }, 'STREAMSTACK_TRANSPORT'],
    [{ STREAMSTACK_DATABASE_URL: 'mysql://x' }, 'STREAMSTACK_DATABASE_URL'],
    [{ STREAMSTACK_TURN_URLS: 'http://x' }, 'STREAMSTACK_TURN_URLS'],
    [{ STREAMSTACK_LOG_LEVEL: 'loud' }, 'STREAMSTACK_LOG_LEVEL'],
    [{ STREAMSTACK_ICE_PORT_RANGE: '5000' }, 'STREAMSTACK_ICE_PORT_RANGE'],
    [{ STREAMSTACK_WARM_SPARES: 'yes' }, 'STREAMSTACK_WARM_SPARES / --warm-spares = "yes": must be true or false'],
    [{ STREAMSTACK_VIDEO_ENCODER: 'h265_magic' }, 'STREAMSTACK_VIDEO_ENCODER / --video-encoder'],
  ])('rejects %j naming the key', (env, name) => {
    expect(() => loadConfig({}, env)).toThrow(ConfigError);
    expect(() => loadConfig({}, env)).toThrow(name);
  });

  it('requires a TURN secret when TURN URLs are set', () => {
    expect(() => loadConfig({}, { STREAMSTACK_TURN_URLS: 'turn:127.0.0.1:3478' })).toThrow('STREAMSTACK_TURN_SECRET');
  });

  it('never echoes a credential in its errors', () => {
    const message = (env: Record<string, string>) => {
      try {
        loadConfig({}, env);
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    const url = message({ STREAMSTACK_DATABASE_URL: 'mysql://admin:hunter2@db:3306/x' });
    expect(url).toContain('STREAMSTACK_DATABASE_URL');
    expect(url).toContain('mysql://admin:***@db:3306/x');
    expect(url).not.toContain('hunter2');
    const nats = message({ STREAMSTACK_NATS_SERVERS: 'nats://u:s3cret@h:4222,bogus' });
    expect(nats).not.toContain('s3cret');
  });
});
