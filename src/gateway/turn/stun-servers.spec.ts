import { createHmac } from 'node:crypto';
import { stunServersFor } from './stun-servers';

describe('stunServersFor', () => {
  const config = { stunUrls: ['stun:127.0.0.1:3478'], turnUrls: ['turn:127.0.0.1:3478?transport=udp'], turnSecret: 's3cret', turnTtl: 600 };

  it('gives STUN without and TURN with coturn REST-API credentials', () => {
    const [stun, turn] = stunServersFor('abc', config, 1_700_000_000_000);
    expect(stun).toEqual({ urls: ['stun:127.0.0.1:3478'], username: '', password: '' });
    expect(turn.username).toBe('1700000600:abc');
    expect(turn.password).toBe(createHmac('sha1', 's3cret').update('1700000600:abc').digest('base64'));
  });

  it('gives nothing when nothing is configured', () => {
    expect(stunServersFor('abc', { ...config, stunUrls: [], turnUrls: [] }, 0)).toEqual([]);
  });
});
