import { Writable } from 'node:stream';
import { PinoLogger, redactSecrets } from './pino-logger';

describe('PinoLogger', () => {
  it('redacts tokens in URLs and headers', () => {
    expect(redactSecrets('GET /1.0/sessions?api_token=abcdef123456 200')).toBe('GET /1.0/sessions?api_token=[redacted] 200');
    expect(redactSecrets('Authorization: Bearer abcdefghijklmnop')).not.toContain('abcdefghijklmnop');
    expect(redactSecrets('macaroon root=s3cr3t-token')).toBe('macaroon root=[redacted]');
  });

  it('writes one JSON line per event with the context', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    const logger = new PinoLogger('info', sink);
    logger.log('GET /x?api_token=supersecret 200', 'http');
    logger.debug('not at info level', 'http');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]) as { msg: string; context: string; level: number };
    expect(line.context).toBe('http');
    expect(line.msg).toBe('GET /x?api_token=[redacted] 200');
  });
});
