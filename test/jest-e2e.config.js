/** End-to-end tests: the real app against real SQLite/PostgreSQL, nats-server, ffmpeg, Chromium. */
const base = require('../jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test'],
  testRegex: '.*\\.e2e-spec\\.ts$',
  rootDir: '..',
  testTimeout: 60_000,
};
