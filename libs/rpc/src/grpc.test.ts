/**
 * Errors cross gRPC with their code whatever their message: a refusal whose message echoes a
 * huge input used to overflow the trailers and reach the caller as a protocol error (INTERNAL).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ValidationError } from '@codestep/core';
import { MAX_STATUS_MESSAGE_CHARS, fromServiceError, implement } from './grpc.ts';

const json = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown };
const definition: grpc.ServiceDefinition = {
  refuse: {
    path: '/codestep.test.Test/Refuse',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
  follow: {
    path: '/codestep.test.Test/Follow',
    requestStream: false,
    responseStream: true,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};

describe('gRPC error mapping', () => {
  it('sends a refusal with a 300,000-character message as its own code, the message cut to a bounded length', async () => {
    const server = new grpc.Server();
    server.addService(definition, implement(definition, { refuse: async () => Promise.reject(new ValidationError(`unknown provider "${'x'.repeat(300_000)}"`)), follow: async () => {} }));
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const Client = grpc.makeGenericClientConstructor(definition, 'Test');
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const error = await new Promise<grpc.ServiceError>((resolve) => client.makeUnaryRequest(definition.refuse!.path, json.serialize, json.deserialize, {}, (e) => resolve(e!)));
      const mapped = fromServiceError(error, 'refuse');
      assert.equal(mapped.code, 'INVALID_ARGUMENT', mapped.message.slice(0, 200));
      assert.match(mapped.message, /^unknown provider "xxx/);
      assert.match(mapped.message, /message cut at 1000 of 300019 characters\)$/);
      assert.ok(mapped.message.length < MAX_STATUS_MESSAGE_CHARS + 100);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});

describe('server streams', () => {
  it('send their response headers once the handler has subscribed, before any message: an event published after them reaches the caller', async () => {
    const published = new EventEmitter();
    const follow = (_req: never, write: (m: unknown) => boolean, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        // Subscribed synchronously, as the history tail is.
        const onEvent = (e: unknown) => write(e);
        published.on('event', onEvent);
        signal.addEventListener('abort', () => (published.off('event', onEvent), resolve()));
      });
    const server = new grpc.Server();
    server.addService(definition, implement(definition, { refuse: async () => {}, follow }));
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const Client = grpc.makeGenericClientConstructor(definition, 'Test');
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const call = client.makeServerStreamRequest(definition.follow!.path, json.serialize, json.deserialize, {});
      call.on('error', () => {});
      const received: unknown[] = [];
      const first = new Promise<void>((resolve) => call.on('data', (m: unknown) => (received.push(m), resolve())));
      await new Promise<void>((resolve) => call.once('metadata', () => (received.push('headers'), resolve())));
      assert.equal(published.listenerCount('event'), 1, 'the handler was subscribed when the headers came');
      published.emit('event', { n: 1 });
      await first;
      assert.deepEqual(received, ['headers', { n: 1 }]);
      call.cancel();
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
