// Test helpers; import from '@streamstack/transport/testing' (kept out of the runtime index).
export * from './nats-server';
