export * from './processes';
export * from './nats';
export * from './smtp-sink';
export * from './tcp-proxy';
export * from './redis';
export * from './http1';
export * from './local-server';
